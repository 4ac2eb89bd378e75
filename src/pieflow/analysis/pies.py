"""PIEs per pruned (or control) cell: counts, accuracies on PIEs, the collapsed and
undertrained flags, and where pruning costs loss by EL2N difficulty.

Pure functions of one cell's frames (its ``pies.parquet``, the dense and pruned
predictions, the model's influence scores), vectorised over examples.
"""

from __future__ import annotations

import polars as pl

from pieflow.analysis.flags import collapse_rule, majority_share, undertrained_rule
from pieflow.labels import LabelKind

EL2N_BINS = 20
# What ``el2n`` is for trained models; imported ones say theirs (``difficulty_source``).
EARLY_CHECKPOINT = "early checkpoint (EL2N)"
TOP_EL2N_SHARE = 0.1
_SUBSETS = ("on_pies", "on_non_pies", "on_all")


def difficulty_source(sources: pl.Series | None) -> str:
    """What an influence file's ``el2n`` is, from its ``difficulty_source`` column (None
    when it has none): EL2N at the early checkpoint (trained models), or what the file
    says (imported ones: final probabilities or answers)."""
    if sources is None or not len(sources):
        return EARLY_CHECKPOINT
    return sources[0]


def seed_accuracy_on(predictions: pl.DataFrame, pies: pl.DataFrame,
                     kind: LabelKind) -> pl.DataFrame:
    """Mean over seeds of each model's accuracy on PIEs, non-PIEs and all examples, and
    the standard deviation over seeds of the accuracy on all (``std_on_all``)."""
    joined = predictions.join(pies.select("split", "example_id", "is_pie"),
                              on=["split", "example_id"])
    correct = kind.correct_expr()
    per_seed = joined.group_by(["split", "seed"]).agg(
        correct.filter(pl.col("is_pie")).mean().alias("on_pies"),
        correct.filter(~pl.col("is_pie")).mean().alias("on_non_pies"),
        correct.mean().alias("on_all"),
    ).sort(["split", "seed"])  # group_by order is arbitrary; float sums depend on it
    return per_seed.group_by("split").agg(pl.col(*_SUBSETS).mean(),
                                          pl.col("on_all").std().alias("std_on_all"))


def pie_summary(
    pies: pl.DataFrame,
    dense_predictions: pl.DataFrame,
    pruned_predictions: pl.DataFrame,
    kind: LabelKind,
    influence: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """PIE count and share per split of one cell, with accuracies and two flags.

    ``collapsed``: the pruned models are on average no better than always answering the
    most frequent label (``majority_share``); ``undertrained``: their mean accuracy beats
    the dense one by more than the dense seeds' standard deviation (``dense_accuracy_std``)
    — see :mod:`pieflow.analysis.flags`.
    """
    counts = pies.group_by("split").agg(
        pl.len().alias("n_examples"),
        pl.col("is_pie").sum().alias("n_pies"),
        pl.col("is_pie").mean().alias("pie_share"),
        pl.col("tie").sum().alias("n_ties"),
        majority_share(kind.label_column),
    )
    dense_acc = seed_accuracy_on(dense_predictions, pies, kind).rename(
        {**{c: f"dense_accuracy_{c}" for c in _SUBSETS}, "std_on_all": "dense_accuracy_std"})
    pruned_acc = seed_accuracy_on(pruned_predictions, pies, kind).drop("std_on_all").rename(
        {c: f"pruned_accuracy_{c}" for c in _SUBSETS})
    summary = counts.join(dense_acc, on="split").join(pruned_acc, on="split")
    summary = summary.with_columns(
        collapse_rule("pruned_accuracy_on_all").alias("collapsed"),
        undertrained_rule("pruned_accuracy_on_all", "dense_accuracy_on_all",
                          "dense_accuracy_std").alias("undertrained"))
    if influence is not None:
        top = top_el2n_pie_share(pies, influence)
        summary = summary.join(top, on="split", how="left")
    return summary.sort("split")


def top_el2n_pie_share(pies: pl.DataFrame, influence: pl.DataFrame,
                       top_share: float = TOP_EL2N_SHARE) -> pl.DataFrame:
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
    ).sort(["split", "example_id", "seed"])  # a fixed summation order: reproducible floats
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
