"""A cell's populations as matrices: what PIEs and the null rate are computed from.

Single-label: (seeds × examples) class indices. Multi-label: (seeds × examples × classes)
0/1 votes. The dense and the pruned population of a split are paired on the same
examples, in ``example_id`` order, so their columns line up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from pieflow.labels import LabelKind


@dataclass(frozen=True)
class SplitPopulations:
    """The dense and the pruned population of one split, over the same examples.

    ``examples`` holds ``example_id`` and the label column of the kind, one row per
    column of the matrices.
    """

    split: str
    kind: LabelKind
    dense: np.ndarray
    pruned: np.ndarray
    examples: pl.DataFrame


def prediction_columns(kind: LabelKind) -> list[str]:
    """The columns of ``predictions.parquet`` the diff reads (never logits or loss)."""
    return ["seed", "split", "example_id", kind.label_column, kind.pred_column]


def population_matrix(predictions: pl.DataFrame, split: str) -> tuple[np.ndarray, pl.DataFrame]:
    """Single-label predictions of one split as (seeds × examples), with ids and labels."""
    part = predictions.filter(pl.col("split") == split)
    wide = part.pivot(on="seed", index=["example_id", "label"], values="pred",
                      sort_columns=True).sort("example_id")
    seeds = [c for c in wide.columns if c not in ("example_id", "label")]
    if wide.select(pl.any_horizontal(pl.col(seeds).is_null()).any()).item():
        raise ValueError(f"split {split!r}: not every seed predicted every example")
    return wide.select(seeds).to_numpy().T, wide.select("example_id", "label")


def multi_label_population(
    predictions: pl.DataFrame, split: str
) -> tuple[np.ndarray, pl.DataFrame]:
    """Multi-label predictions of one split as (seeds × examples × classes) 0/1."""
    part = predictions.filter(pl.col("split") == split).sort(["seed", "example_id"])
    seeds = part.get_column("seed").n_unique()
    examples = part.filter(pl.col("seed") == part.get_column("seed").min())
    if part.height != seeds * examples.height or not (
        part.get_column("example_id").to_numpy().reshape(seeds, -1)
        == examples.get_column("example_id").to_numpy()
    ).all():
        raise ValueError(f"split {split!r}: not every seed predicted every example")
    votes = np.stack(part.get_column("preds").to_numpy()).reshape(seeds, examples.height, -1)
    return votes, examples.select("example_id", "labels")


def paired_populations(
    dense: pl.DataFrame, pruned: pl.DataFrame, kind: LabelKind
) -> list[SplitPopulations]:
    """Per split of ``pruned`` (sorted): both populations, checked to share the examples.

    ``dense`` and ``pruned`` are tidy ``predictions.parquet`` frames of the given kind.
    """
    build = multi_label_population if kind is LabelKind.MULTI else population_matrix
    populations = []
    for split in sorted(set(pruned.get_column("split").unique().to_list())):
        dense_matrix, examples = build(dense, split)
        pruned_matrix, pruned_examples = build(pruned, split)
        if not examples.get_column("example_id").equals(pruned_examples.get_column("example_id")):
            raise ValueError(f"split {split!r}: dense and pruned cover different examples")
        populations.append(SplitPopulations(split, kind, dense_matrix, pruned_matrix, examples))
    return populations
