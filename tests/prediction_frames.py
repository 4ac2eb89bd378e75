"""Tidy predictions.parquet rows built from vote arrays, for tests of the diff and analysis."""

from __future__ import annotations

import numpy as np
import polars as pl

from pieflow.diff.pies import pie_table
from pieflow.diff.populations import paired_populations
from pieflow.labels import LabelKind


def _extras(seeds: np.ndarray | None, n_seeds: int, n_examples: int,
            logits: np.ndarray | None) -> dict:
    """The seed column (row i of the arrays is seed ``seeds[i]``) and, if given, logits."""
    ids = np.arange(n_seeds) if seeds is None else np.asarray(seeds)
    extras = {"seed": np.repeat(ids, n_examples)}
    if logits is not None:
        extras["logits"] = np.asarray(logits, dtype=np.float32).reshape(
            n_seeds * n_examples, -1).tolist()
    return extras


def single_label_predictions(preds: np.ndarray, labels: np.ndarray, split: str = "test",
                             seeds: np.ndarray | None = None,
                             logits: np.ndarray | None = None) -> pl.DataFrame:
    """(seeds × examples) predictions as rows of a single-label predictions.parquet;
    ``logits`` (seeds × examples × classes) optional."""
    n_seeds, examples = preds.shape
    extras = _extras(seeds, n_seeds, examples, logits)
    return pl.DataFrame({
        "seed": extras.pop("seed"),
        "split": [split] * (n_seeds * examples),
        "example_id": np.tile(np.arange(examples), n_seeds),
        "label": np.tile(labels, n_seeds),
        "pred": preds.ravel(),
        **extras,
    })


def multi_label_predictions(preds: np.ndarray, labels: np.ndarray, split: str = "test",
                            seeds: np.ndarray | None = None,
                            logits: np.ndarray | None = None) -> pl.DataFrame:
    """(seeds × examples × classes) 0/1 votes as rows of a multi-label predictions.parquet."""
    n_seeds, examples, _ = preds.shape
    extras = _extras(seeds, n_seeds, examples, logits)
    return pl.DataFrame({
        "seed": extras.pop("seed"),
        "split": [split] * (n_seeds * examples),
        "example_id": np.tile(np.arange(examples), n_seeds),
        "labels": np.tile(labels, (n_seeds, 1)).astype(np.int8).tolist(),
        "preds": preds.reshape(n_seeds * examples, -1).astype(np.int8).tolist(),
        **extras,
    }, schema_overrides={"labels": pl.List(pl.Int8), "preds": pl.List(pl.Int8)})


def find_pies(dense: pl.DataFrame, pruned: pl.DataFrame, kind: LabelKind,
              num_classes: int) -> pl.DataFrame:
    """The PIE table of two tidy predictions frames, as the diff_cell job builds it."""
    return pie_table(paired_populations(dense, pruned, kind), num_classes)
