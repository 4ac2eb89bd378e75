"""Accuracy per population: mean ± std over seeds of each cell's per-model metrics."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from pieflow.analysis.cells import with_keys
from pieflow.layout import CELL_KEYS


def cell_metrics(metrics: pl.DataFrame, keys: Mapping[str, object]) -> pl.DataFrame:
    """One cell's ``metrics.parquet`` with its keys: the metrics' ``sparsity`` (achieved
    share of zeros, 0–1) becomes ``achieved_sparsity`` so the nominal percent can take
    its name."""
    if "sparsity" in metrics.columns:
        metrics = metrics.rename({"sparsity": "achieved_sparsity"})
    return with_keys(metrics, keys)


def accuracy_table(metrics: pl.DataFrame) -> pl.DataFrame:
    """Mean ± std over seeds of accuracy, macro-F1 and achieved sparsity per cell and split."""
    return (
        metrics.group_by([*CELL_KEYS, "split"])
        .agg(
            pl.len().alias("n_seeds"),
            pl.col("accuracy").mean().alias("accuracy_mean"),
            pl.col("accuracy").std().alias("accuracy_std"),
            pl.col("macro_f1").mean().alias("macro_f1_mean"),
            pl.col("macro_f1").std().alias("macro_f1_std"),
            pl.col("achieved_sparsity").mean().alias("achieved_sparsity_mean"),
        )
        .sort([*CELL_KEYS, "split"])
    )
