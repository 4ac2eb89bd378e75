"""A cell's populations as matrices: what PIEs, the null rate and the paired statistics use.

Single-label: (seeds × examples) class indices. Multi-label: (seeds × examples × classes)
0/1 votes. Generated answers: (seeds × examples) answer ids, every answer the metric calls
right pooled into the target's id (:func:`pooled_answers`), so that a model is right
exactly where its id is the label's, as for single-label data. The dense and the pruned
population of a split are paired on the same examples, in ``example_id`` order, so their
columns line up. Rows are in ascending numeric seed order and every matrix carries its
seed ids, because pruned seed *i* is the twin of dense seed *i* (same initialisation and
data order): the null rate pairs twins by id, never by row position, and either side may
lack seeds the other has.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import expit, softmax

from pieflow.labels import LabelKind


@dataclass(frozen=True)
class SplitPopulations:
    """The dense and the pruned population of one split, over the same examples.

    ``examples`` holds ``example_id`` and the label column of the kind, one row per
    column of the matrices; ``dense_seeds`` / ``pruned_seeds`` the seed id of each row.
    ``dense_probs`` / ``pruned_probs`` (examples × classes) are the mean over the
    population's seeds of the softmax (multi-label: sigmoid) of the logits, when the
    predictions carried logits.
    """

    split: str
    kind: LabelKind
    dense: np.ndarray
    pruned: np.ndarray
    examples: pl.DataFrame
    dense_seeds: np.ndarray
    pruned_seeds: np.ndarray
    dense_probs: np.ndarray | None = None
    pruned_probs: np.ndarray | None = None


def common_seed_rows(
    dense_seeds: np.ndarray, pruned_seeds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the seeds both populations hold, paired by seed id (ascending ids):
    ``dense[d[i]]`` and ``pruned[p[i]]`` are twins."""
    dense_seeds, pruned_seeds = np.asarray(dense_seeds), np.asarray(pruned_seeds)
    for name, seeds in (("dense", dense_seeds), ("pruned", pruned_seeds)):
        if seeds.ndim != 1 or np.unique(seeds).size != seeds.size:
            raise ValueError(f"{name} seed ids must be distinct, got {seeds.tolist()}")
    _, dense_rows, pruned_rows = np.intersect1d(dense_seeds, pruned_seeds,
                                                assume_unique=True, return_indices=True)
    return dense_rows, pruned_rows


def prediction_columns(kind: LabelKind) -> list[str]:
    """The columns of ``predictions.parquet`` the diff reads; ``logits`` only for the KL
    of ``paired.parquet`` (never the loss)."""
    return ["seed", "split", "example_id", *kind.prediction_columns, "logits"]


def population_matrix(
    predictions: pl.DataFrame, split: str
) -> tuple[np.ndarray, np.ndarray, pl.DataFrame]:
    """Single-label predictions (or pooled answer ids) of one split as (seeds ×
    examples), the seed id of each row (ascending), and the examples' ids and labels."""
    part = predictions.filter(pl.col("split") == split)
    wide = part.pivot(on="seed", index=["example_id", "label"], values="pred").sort(
        "example_id")
    # Pivoted column names are strings ("10" sorts before "2"): order them numerically.
    names = sorted((c for c in wide.columns if c not in ("example_id", "label")), key=int)
    if wide.select(pl.any_horizontal(pl.col(names).is_null()).any()).item():
        raise ValueError(f"split {split!r}: not every seed predicted every example")
    seeds = np.array([int(name) for name in names], dtype=np.int64)
    return wide.select(names).to_numpy().T, seeds, wide.select("example_id", "label")


def multi_label_population(
    predictions: pl.DataFrame, split: str
) -> tuple[np.ndarray, np.ndarray, pl.DataFrame]:
    """Multi-label predictions of one split as (seeds × examples × classes) 0/1, the seed
    id of each row (ascending), and the examples' ids and label sets."""
    part = predictions.filter(pl.col("split") == split).sort(["seed", "example_id"])
    seeds = np.unique(part.get_column("seed").to_numpy()).astype(np.int64)
    examples = part.filter(pl.col("seed") == seeds.min()) if seeds.size else part
    if part.height != seeds.size * examples.height or not (
        part.get_column("example_id").to_numpy().reshape(seeds.size, -1)
        == examples.get_column("example_id").to_numpy()
    ).all():
        raise ValueError(f"split {split!r}: not every seed predicted every example")
    votes = np.stack(part.get_column("preds").to_numpy()).reshape(seeds.size,
                                                                  examples.height, -1)
    return votes, seeds, examples.select("example_id", "labels")


def mean_probabilities(predictions: pl.DataFrame, split: str, kind: LabelKind) -> np.ndarray:
    """(examples × classes) mean over seeds of softmax (multi-label: per-class sigmoid)
    of the logits, examples in ``example_id`` order; vectorised over seeds and examples.

    Call after the population matrix of the split, which checks that every seed
    predicted every example once.
    """
    part = predictions.filter(pl.col("split") == split).sort(["example_id", "seed"])
    widths = part.get_column("logits").list.len()
    if part.height and widths.min() != widths.max():
        raise ValueError(f"split {split!r}: logits of different lengths")
    n_examples = part.get_column("example_id").n_unique()
    logits = part.get_column("logits").explode().to_numpy().astype(np.float64)
    logits = logits.reshape(n_examples, part.height // max(n_examples, 1), -1)
    probs = expit(logits) if kind is LabelKind.MULTI else softmax(logits, axis=2)
    return probs.mean(axis=1)


def pooled_answers(predictions: pl.DataFrame) -> pl.DataFrame:
    """Generated answers with every answer the metric calls right (``correct``) replaced
    by the target's id: "19", "$19" and "19." are one right answer to an example whose
    target is 19 (lm-eval's ``exact_match`` normalises them alike), while wrong answers
    keep their own ids, so a change from one wrong answer to another is a change. A
    model is then right exactly where its pooled id is the label. Raises ``ValueError``
    where an answer equal to the target is scored wrong (the pooling would call it
    right)."""
    bad = predictions.filter((pl.col("pred") == pl.col("label")) & ~pl.col("correct"))
    if bad.height:
        row = bad.row(0, named=True)
        raise ValueError(f"split {row['split']!r}, example {row['example_id']}, seed "
                         f"{row['seed']}: the answer equals the target but is scored wrong "
                         f"({bad.height} such rows)")
    return predictions.with_columns(
        pl.when(pl.col("correct")).then(pl.col("label")).otherwise(pl.col("pred"))
        .alias("pred"))


def paired_populations(
    dense: pl.DataFrame, pruned: pl.DataFrame, kind: LabelKind
) -> list[SplitPopulations]:
    """Per split of ``pruned`` (sorted): both populations, checked to share the examples.

    ``dense`` and ``pruned`` are tidy ``predictions.parquet`` frames of the given kind;
    with a ``logits`` column in both, the mean probabilities are built too. Generated
    answers (with their ``correct`` column) are pooled first (:func:`pooled_answers`).
    """
    build = multi_label_population if kind is LabelKind.MULTI else population_matrix
    with_probs = "logits" in dense.columns and "logits" in pruned.columns
    if kind is LabelKind.ANSWER:
        dense, pruned = pooled_answers(dense), pooled_answers(pruned)
    populations = []
    for split in sorted(set(pruned.get_column("split").unique().to_list())):
        dense_matrix, dense_seeds, examples = build(dense, split)
        pruned_matrix, pruned_seeds, pruned_examples = build(pruned, split)
        if not examples.get_column("example_id").equals(pruned_examples.get_column("example_id")):
            raise ValueError(f"split {split!r}: dense and pruned cover different examples")
        probs = ((mean_probabilities(dense, split, kind), mean_probabilities(pruned, split, kind))
                 if with_probs else (None, None))
        populations.append(SplitPopulations(split, kind, dense_matrix, pruned_matrix, examples,
                                            dense_seeds, pruned_seeds, *probs))
    return populations
