"""Tidy predictions.parquet rows built from vote arrays, for tests of the diff and analysis."""

from __future__ import annotations

import numpy as np
import polars as pl

from pieflow.diff.pies import pie_table
from pieflow.diff.populations import paired_populations
from pieflow.labels import LabelKind


def single_label_predictions(preds: np.ndarray, labels: np.ndarray,
                             split: str = "test") -> pl.DataFrame:
    """(seeds × examples) predictions as rows of a single-label predictions.parquet."""
    seeds, examples = preds.shape
    return pl.DataFrame({
        "seed": np.repeat(np.arange(seeds), examples),
        "split": [split] * (seeds * examples),
        "example_id": np.tile(np.arange(examples), seeds),
        "label": np.tile(labels, seeds),
        "pred": preds.ravel(),
    })


def multi_label_predictions(preds: np.ndarray, labels: np.ndarray,
                            split: str = "test") -> pl.DataFrame:
    """(seeds × examples × classes) 0/1 votes as rows of a multi-label predictions.parquet."""
    seeds, examples, _ = preds.shape
    return pl.DataFrame({
        "seed": np.repeat(np.arange(seeds), examples),
        "split": [split] * (seeds * examples),
        "example_id": np.tile(np.arange(examples), seeds),
        "labels": np.tile(labels, (seeds, 1)).astype(np.int8).tolist(),
        "preds": preds.reshape(seeds * examples, -1).astype(np.int8).tolist(),
    }, schema_overrides={"labels": pl.List(pl.Int8), "preds": pl.List(pl.Int8)})


def find_pies(dense: pl.DataFrame, pruned: pl.DataFrame, kind: LabelKind,
              num_classes: int) -> pl.DataFrame:
    """The PIE table of two tidy predictions frames, as the diff_cell job builds it."""
    return pie_table(paired_populations(dense, pruned, kind), num_classes)
