"""Paired statistics of a cell: dense vs. pruned on the same examples and the same seeds.

A PIE count says how many modal labels moved, not in which direction, and not how far the
predicted distributions moved where the label held. These statistics add that, one row per
split (``paired.parquet``):

* on the modal labels (the PIE table's ``dense_correct`` / ``pruned_correct``; multi-label:
  exact match), ``b`` = right → wrong and ``c`` = wrong → right, with McNemar's mid-p;
* per same-seed pair (pruned seed *i* is the twin of dense seed *i*, paired by id), the
  same counts and the share of examples where the two models predict the same (multi-label:
  the whole multi-hot vector), averaged over the pairs;
* generated answers: right and wrong are the metric's (``correct``), through the pooled
  answer ids of :func:`pieflow.diff.populations.pooled_answers` (every right answer is
  the target's id, so id == label is exactly ``correct``); two models "predict the same"
  when both are right or both give the same wrong answer;
* ``kl_mean``: the mean over examples of KL(p̄_dense ‖ p̄_pruned), p̄ the mean over all of a
  population's seeds of the softmax (multi-label: per-class Bernoulli KL of the mean
  sigmoids, averaged over the classes).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl
from scipy.stats import binom

from pieflow.diff.populations import SplitPopulations, common_seed_rows
from pieflow.labels import LabelKind

# Probabilities are clipped here before the log, so a class one population never predicts
# gives a large but finite KL.
PROBABILITY_FLOOR = 1e-12

PAIRED_SCHEMA = {
    "split": pl.String, "n_examples": pl.Int64, "n_pairs": pl.Int64,
    "correct_to_wrong": pl.Int64, "wrong_to_correct": pl.Int64, "mcnemar_p": pl.Float64,
    "pair_correct_to_wrong": pl.Float64, "pair_wrong_to_correct": pl.Float64,
    "top1_agreement": pl.Float64, "kl_mean": pl.Float64,
    "n_dense_seeds": pl.Int64, "n_pruned_seeds": pl.Int64,
}


def mcnemar_mid_p(b: int, c: int) -> float:
    """McNemar's mid-p of ``b`` discordant pairs one way and ``c`` the other.

    With k = min(b, c) of n = b + c: twice the binomial P(X ≤ k) at 0.5 (the exact
    two-sided p) minus P(X = k). Left uncapped, so b = c gives exactly 1 (Fagerland et al.
    2013); b = c = 0 gives 1 too. Less conservative than the exact test.
    """
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    return float(min(1.0, 2 * binom.cdf(k, n, 0.5) - binom.pmf(k, n, 0.5)))


def kl_divergence(dense: np.ndarray, pruned: np.ndarray, kind: LabelKind) -> np.ndarray:
    """Per example KL(dense ‖ pruned) of (examples × classes) mean probabilities.

    Single-label: categorical KL over the classes. Multi-label: Bernoulli KL per class,
    averaged over the classes.
    """
    def log(p: np.ndarray) -> np.ndarray:
        return np.log(np.clip(p, PROBABILITY_FLOOR, None))

    p, q = np.asarray(dense, dtype=np.float64), np.asarray(pruned, dtype=np.float64)
    if kind is LabelKind.MULTI:
        return (p * (log(p) - log(q)) + (1 - p) * (log(1 - p) - log(1 - q))).mean(axis=1)
    return (p * (log(p) - log(q))).sum(axis=1)


def _correct(preds: np.ndarray, labels: np.ndarray, kind: LabelKind) -> np.ndarray:
    """(seeds × examples) bool: each model right on each example (multi-label: all classes)."""
    if kind is LabelKind.MULTI:
        return (preds == labels[None]).all(axis=2)
    return preds == labels[None]


def _labels(pop: SplitPopulations) -> np.ndarray:
    column = pop.examples.get_column(pop.kind.label_column)
    return np.stack(column.to_numpy()) if pop.kind is LabelKind.MULTI else column.to_numpy()


def _pair_statistics(pop: SplitPopulations) -> dict[str, float | int]:
    """Means over same-seed pairs; NaN without a common seed."""
    dense_rows, pruned_rows = common_seed_rows(pop.dense_seeds, pop.pruned_seeds)
    if dense_rows.size == 0:
        return {"n_pairs": 0, **dict.fromkeys(
            ("pair_correct_to_wrong", "pair_wrong_to_correct", "top1_agreement"), np.nan)}
    dense, pruned = pop.dense[dense_rows], pop.pruned[pruned_rows]
    labels = _labels(pop)
    dense_ok, pruned_ok = _correct(dense, labels, pop.kind), _correct(pruned, labels, pop.kind)
    same = dense == pruned
    if pop.kind is LabelKind.MULTI:
        same = same.all(axis=2)
    return {
        "n_pairs": int(dense_rows.size),
        "pair_correct_to_wrong": float((dense_ok & ~pruned_ok).sum(axis=1).mean()),
        "pair_wrong_to_correct": float((~dense_ok & pruned_ok).sum(axis=1).mean()),
        "top1_agreement": float(same.mean(axis=1).mean()),
    }


def paired_table(populations: Iterable[SplitPopulations], pies: pl.DataFrame,
                 kl: bool = True) -> pl.DataFrame:
    """The ``paired.parquet`` rows of a cell: one per split.

    ``pies`` is the PIE table of the same populations, whose ``dense_correct`` /
    ``pruned_correct`` give ``b`` and ``c``. The populations must carry mean probabilities
    (predictions read with their logits), unless ``kl`` is off (imported predictions
    without logits): ``kl_mean`` is then NaN.
    """
    discordant = dict(
        (split, (b, c)) for split, b, c in pies.group_by("split").agg(
            (pl.col("dense_correct") & ~pl.col("pruned_correct")).sum(),
            (~pl.col("dense_correct") & pl.col("pruned_correct")).sum().alias("c"),
        ).iter_rows())
    rows = []
    for pop in populations:
        if kl and (pop.dense_probs is None or pop.pruned_probs is None):
            raise ValueError(f"split {pop.split!r}: the KL needs the predictions' logits")
        b, c = (int(n) for n in discordant[pop.split])
        rows.append({
            "split": pop.split, "n_examples": pop.examples.height,
            "correct_to_wrong": b, "wrong_to_correct": c, "mcnemar_p": mcnemar_mid_p(b, c),
            **_pair_statistics(pop),
            "kl_mean": (float(kl_divergence(pop.dense_probs, pop.pruned_probs, pop.kind)
                              .mean()) if kl else float("nan")),
            "n_dense_seeds": pop.dense.shape[0], "n_pruned_seeds": pop.pruned.shape[0],
        })
    return pl.DataFrame(rows, schema=PAIRED_SCHEMA)
