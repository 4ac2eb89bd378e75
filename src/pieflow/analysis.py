"""Summary tables over all cells: accuracy, PIE counts, and loss change by EL2N bin.

Pure functions of polars frames; cell identity comes from the results paths
``…/{dataset}/{model}/{method}/{sparsity}/…`` via ``cell_of``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

CELL_KEYS = ["dataset", "model", "method", "sparsity"]
EL2N_BINS = 20


def cell_of(path: str | Path) -> dict[str, object]:
    """(dataset, model, method, sparsity) from a cell file's path."""
    parts = Path(path).parts
    dataset, model, method, sparsity = parts[-5:-1]
    return {"dataset": dataset, "model": model, "method": method, "sparsity": int(sparsity)}


def with_cell(frame: pl.DataFrame, path: str | Path) -> pl.DataFrame:
    cell = cell_of(path)
    return frame.with_columns(
        pl.lit(cell["dataset"]).alias("dataset"), pl.lit(cell["model"]).alias("model"),
        pl.lit(cell["method"]).alias("method"),
        pl.lit(cell["sparsity"], dtype=pl.Int64).alias("sparsity"),
    )


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
            pl.col("sparsity").mean().alias("achieved_sparsity_mean"),
        )
        .sort([*CELL_KEYS, "split"])
    )


def seed_accuracy_on(predictions: pl.DataFrame, pies: pl.DataFrame) -> pl.DataFrame:
    """Mean over seeds of each model's accuracy on PIEs, non-PIEs and all examples."""
    joined = predictions.join(pies.select("split", "example_id", "is_pie"),
                              on=["split", "example_id"])
    correct = (pl.col("pred") == pl.col("label")).cast(pl.Float64)
    per_seed = joined.group_by(["split", "seed"]).agg(
        correct.filter(pl.col("is_pie")).mean().alias("on_pies"),
        correct.filter(~pl.col("is_pie")).mean().alias("on_non_pies"),
        correct.mean().alias("on_all"),
    )
    return per_seed.group_by("split").agg(pl.col("on_pies", "on_non_pies", "on_all").mean())


def pie_summary(
    pies: pl.DataFrame,
    dense_predictions: pl.DataFrame,
    pruned_predictions: pl.DataFrame,
    influence: pl.DataFrame | None = None,
    collapse_margin: float = 0.01,
) -> pl.DataFrame:
    """PIE count and share per split of one cell, with accuracies and a collapse flag.

    A cell is ``collapsed`` when its pruned models are on average no better than always
    answering the most frequent class (+ ``collapse_margin``): its PIEs are then mostly
    the examples of every other class, not a finding about hard examples.
    """
    counts = pies.group_by("split").agg(
        pl.len().alias("n_examples"),
        pl.col("is_pie").sum().alias("n_pies"),
        pl.col("is_pie").mean().alias("pie_share"),
        pl.col("tie").sum().alias("n_ties"),
        (pl.col("label").value_counts(sort=True).first().struct.field("count") / pl.len())
        .alias("majority_share"),
    )
    dense_acc = seed_accuracy_on(dense_predictions, pies).rename(
        {c: f"dense_accuracy_{c}" for c in ("on_pies", "on_non_pies", "on_all")})
    pruned_acc = seed_accuracy_on(pruned_predictions, pies).rename(
        {c: f"pruned_accuracy_{c}" for c in ("on_pies", "on_non_pies", "on_all")})
    summary = counts.join(dense_acc, on="split").join(pruned_acc, on="split")
    summary = summary.with_columns(
        (pl.col("pruned_accuracy_on_all") <= pl.col("majority_share") + collapse_margin)
        .alias("collapsed"))
    if influence is not None:
        top = top_el2n_pie_share(pies, influence)
        summary = summary.join(top, on="split", how="left")
    return summary.sort("split")


def top_el2n_pie_share(pies: pl.DataFrame, influence: pl.DataFrame,
                       top_share: float = 0.1) -> pl.DataFrame:
    """Share of the top-``top_share`` EL2N examples (per split) that are PIEs."""
    joined = pies.join(influence.select("split", "example_id", "el2n"),
                       on=["split", "example_id"])
    ranked = joined.with_columns(
        (pl.col("el2n").rank("ordinal", descending=True).over("split")
         <= (pl.len().over("split") * top_share).ceil()).alias("top"))
    return ranked.filter(pl.col("top")).group_by("split").agg(
        pl.col("is_pie").mean().alias("top_el2n_pie_share"))


def el2n_bins(
    dense_predictions: pl.DataFrame,
    pruned_predictions: pl.DataFrame,
    influence: pl.DataFrame,
    pies: pl.DataFrame | None = None,
    bins: int = EL2N_BINS,
) -> pl.DataFrame:
    """Mean (pruned − dense) loss per equal-frequency EL2N bin, over same-seed pairs.

    Bins are made from ranks (ordinal, ties broken by example order), so each holds
    n/bins examples even when EL2N values tie. The standard error is over the examples
    of a bin, each example contributing its loss difference averaged over seed pairs.
    """
    pairs = dense_predictions.select("seed", "split", "example_id", pl.col("loss").alias("d")).join(
        pruned_predictions.select("seed", "split", "example_id", pl.col("loss").alias("p")),
        on=["seed", "split", "example_id"],
    )
    per_example = pairs.group_by(["split", "example_id"]).agg(
        (pl.col("p") - pl.col("d")).mean().alias("loss_diff"))
    binned = influence.select("split", "example_id", "el2n").with_columns(
        ((pl.col("el2n").rank("ordinal").over("split") - 1) * bins
         // pl.len().over("split")).cast(pl.Int64).alias("el2n_bin"))
    frame = binned.join(per_example, on=["split", "example_id"])
    if pies is not None:
        frame = frame.join(pies.select("split", "example_id", "is_pie"),
                           on=["split", "example_id"])
    aggs = [
        pl.len().alias("n_examples"),
        pl.col("el2n").mean().alias("el2n_mean"),
        pl.col("loss_diff").mean().alias("loss_diff_mean"),
        (pl.col("loss_diff").std() / pl.len().sqrt()).alias("loss_diff_se"),
    ]
    if pies is not None:
        aggs.append(pl.col("is_pie").mean().alias("pie_share"))
    return frame.group_by(["split", "el2n_bin"]).agg(aggs).sort(["split", "el2n_bin"])


def majority_share(labels: np.ndarray) -> float:
    return float(np.bincount(labels).max() / len(labels)) if len(labels) else 0.0
