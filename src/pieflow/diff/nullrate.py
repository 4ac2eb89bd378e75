"""Null rate of PIEs: how many "PIEs" seed noise alone already produces.

A PIE count is only interpretable against the disagreement that seed noise alone
creates. Pruned seed *i* is the *twin* of dense seed *i* (same initialisation and data
order; iterative methods even continue from its checkpoint), so a fair null must compare
like with like. With the ``n`` seeds both populations hold (paired by seed id) and
``h = n // 2``, each repeat draws a random permutation of them into halves A and B of
``h`` seeds and records

* ``null = #(modal(dense A) != modal(dense B))``,
* ``pies = #(modal(dense A) != modal(pruned twins of B))``,
* ``excess = pies - null``.

Both counts compare ``h`` against ``h`` seeds from the same seed set, and neither side of
a comparison holds a twin of the other, so a pruning that changes nothing (pruned = dense)
gives ``pies == null`` in every draw: excess exactly 0 with a zero-width interval. (Drawing
the pruned seeds independently of A, as before, put twins of A's seeds on the pruned side
and biased the excess downwards.) Modal labels of smaller populations are noisier, which is
why both counts use ``h`` seeds, not the full populations.

Modal labels follow :func:`pieflow.labels.modal_labels`: the most voted class, ties going
to the lowest class index. For multi-label predictions the PIE rule of
:mod:`pieflow.diff.pies` applies instead: per class a population votes "on" when more
than half of its ``h`` models predict it, and an example counts when any class's vote
differs. Generated answers follow the single-label rule on answer ids: before the draws,
each example's answers are renumbered 0, 1, … in ascending id order
(:func:`pieflow.labels.answer_ranks`, dense and pruned together), which keeps every
modal answer and the tie rule while the vote blocks stay (seeds × examples × seeds)
however many distinct answers the data has. Everything else is the same for every kind,
draw for draw.

What the intervals cover: they are percentiles over the draws of the seed split, with the
examples and the pool of models fixed. They describe how much the counts move with the
choice of halves from *this* pool (a subsampling distribution). They do not cover sampling
of new examples or of new seeds beyond the pool, and, because the halves of different
draws overlap, they understate the spread a fresh set of seeds would show.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields

import numpy as np
import polars as pl

from pieflow.diff.populations import SplitPopulations, common_seed_rows
from pieflow.labels import LabelKind, answer_ranks

NULL_REPEATS = 200
NULL_SEED = 0
NULL_CONFIDENCE = 0.95
# Imported populations get a null rate only from this many dense members (and seeds
# shared with them) on: two halves of at least 2 models. Trained populations keep the
# rule of the null itself (2 shared seeds; findings warn below 5 per half).
IMPORTED_MIN_SEEDS = 4

# Upper bound on the elements of one (repeats × examples × classes) vote block, so memory
# stays bounded (~64 MiB of float32) for many examples or classes; repeats are chunked.
_BLOCK_ELEMENTS = 1 << 24


def split_rng(seed: int, split: str) -> np.random.Generator:
    """A generator per (seed, split): a split's numbers do not depend on the other splits."""
    return np.random.default_rng([seed, zlib.crc32(split.encode())])


# --------------------------------------------------------------------------------------
# Votes of weighted seed subsets, per label kind
# --------------------------------------------------------------------------------------


def _one_hot(preds: np.ndarray, num_classes: int) -> np.ndarray:
    """(seeds × examples) int → (seeds, classes · examples) float32 votes, class-major.

    Class-major so each class's counts are a contiguous block after the matmul.
    """
    if preds.size and (preds.min() < 0 or preds.max() >= num_classes):
        raise ValueError(f"predictions must lie in 0..{num_classes - 1}")
    seeds, examples = preds.shape
    onehot = np.empty((seeds, num_classes, examples), dtype=np.float32)
    for cls in range(num_classes):  # a loop over classes, vectorised over seeds × examples
        np.equal(preds, cls, out=onehot[:, cls, :])
    return onehot.reshape(seeds, num_classes * examples)


def _vote_matrix(preds: np.ndarray, kind: LabelKind, num_classes: int) -> np.ndarray:
    """A population as (seeds × cells) float32 0/1 votes, so a subset's counts are a matmul."""
    if kind is LabelKind.MULTI:
        return preds.reshape(preds.shape[0], -1).astype(np.float32)
    return _one_hot(preds, num_classes)


def _modal(counts: np.ndarray, num_classes: int) -> np.ndarray:
    """Modal label (repeats × examples) from class-major counts; ties → lowest class.

    Votes are exact: float32 sums of at most a few thousand 0/1 votes are integers. A
    running strict ``>`` over the classes keeps the lowest of tied classes, like argmax,
    and is much faster than ``argmax`` over a short last axis.
    """
    counts = counts.reshape(counts.shape[0], num_classes, -1)
    best = counts[:, 0].copy()
    modal = np.zeros(best.shape, dtype=np.min_scalar_type(max(num_classes - 1, 0)))
    for cls in range(1, num_classes):
        np.copyto(modal, cls, where=counts[:, cls] > best)
        np.maximum(best, counts[:, cls], out=best)
    return modal


def _decide(counts: np.ndarray, kind: LabelKind, num_classes: int, size: int,
            n_examples: int) -> np.ndarray:
    """Each subset's verdict as (repeats × examples × k): the modal label (k = 1), or the
    multi-label "on" votes (k = classes)."""
    if kind is LabelKind.MULTI:
        return (2 * counts > size).reshape(counts.shape[0], n_examples, -1)
    return _modal(counts, num_classes)[:, :, None]


# --------------------------------------------------------------------------------------
# Random seed subsets
# --------------------------------------------------------------------------------------


def _subset_weights(order: np.ndarray, start: int, size: int) -> np.ndarray:
    """0/1 (repeats × seeds) rows selecting ``order[:, start:start+size]`` per repeat."""
    weights = np.zeros(order.shape, dtype=np.float32)
    np.put_along_axis(weights, order[:, start:start + size], 1.0, axis=1)
    return weights


def _random_orders(rng: np.random.Generator, repeats: int, n_seeds: int) -> np.ndarray:
    """``repeats`` independent random permutations of the seed indices."""
    return rng.random((repeats, n_seeds)).argsort(axis=1)


def _chunks(repeats: int, cells: int) -> list[int]:
    per_chunk = max(1, _BLOCK_ELEMENTS // max(1, cells))
    return [min(per_chunk, repeats - start) for start in range(0, repeats, per_chunk)]


def null_and_pie_draws(
    dense: np.ndarray,
    pruned: np.ndarray,
    kind: LabelKind,
    num_classes: int,
    repeats: int,
    rng: np.random.Generator,
    *,
    dense_seeds: np.ndarray,
    pruned_seeds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-repeat null and (paired) PIE counts, and the population size ``h``.

    ``dense`` and ``pruned`` are population matrices of ``kind`` (see
    :mod:`pieflow.diff.populations`) whose rows are the seeds ``dense_seeds`` /
    ``pruned_seeds`` (generated answers: any ids; ``num_classes`` is then unused). Only
    the ``n`` common seeds take part; ``h = n // 2``. Each repeat splits them into halves
    A and B and compares modal(dense A) with modal(dense B) (the null) and with
    modal(pruned twins of B) (the PIEs). Vectorised over repeats and examples, in chunks
    of repeats of bounded memory.
    """
    dense, pruned = np.asarray(dense), np.asarray(pruned)
    ndim, shape = (3, "(seeds × examples × classes)") if kind is LabelKind.MULTI else (
        2, "(seeds × examples)")
    if dense.ndim != ndim or pruned.ndim != ndim:
        raise ValueError(f"predictions must be {shape} arrays, got shapes "
                         f"{dense.shape} and {pruned.shape}")
    if len(dense_seeds) != dense.shape[0] or len(pruned_seeds) != pruned.shape[0]:
        raise ValueError("every row of the predictions needs exactly one seed id")
    if dense.shape[1:] != pruned.shape[1:]:
        raise ValueError("dense and pruned predictions cover different numbers of examples "
                         "(or classes)")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    dense_rows, pruned_rows = common_seed_rows(dense_seeds, pruned_seeds)
    n_common = dense_rows.size
    if n_common < 2:
        raise ValueError(
            f"the null rate needs at least 2 seeds common to the dense and the pruned "
            f"population (two halves of twins), got {n_common}: dense seeds "
            f"{np.asarray(dense_seeds).tolist()}, pruned seeds "
            f"{np.asarray(pruned_seeds).tolist()}")
    size = n_common // 2
    n_examples = dense.shape[1]
    dense, pruned = dense[dense_rows], pruned[pruned_rows]  # row i: twins
    if kind is LabelKind.ANSWER:  # per-example ranks: as few "classes" as seeds
        ranks, n_ranks = answer_ranks(np.concatenate([dense, pruned]))
        num_classes = max(n_ranks, 1)
        dense, pruned = ranks[:n_common], ranks[n_common:]
    dense_votes = _vote_matrix(dense, kind, num_classes)
    pruned_votes = _vote_matrix(pruned, kind, num_classes)

    def verdict(weights: np.ndarray, votes: np.ndarray) -> np.ndarray:
        return _decide(weights @ votes, kind, num_classes, size, n_examples)

    nulls, pies = [], []
    for chunk in _chunks(repeats, dense_votes.shape[1]):
        order = _random_orders(rng, chunk, n_common)
        half_a = verdict(_subset_weights(order, 0, size), dense_votes)
        half_b = _subset_weights(order, size, size)
        nulls.append((half_a != verdict(half_b, dense_votes)).any(axis=2).sum(axis=1))
        pies.append((half_a != verdict(half_b, pruned_votes)).any(axis=2).sum(axis=1))
    return np.concatenate(nulls).astype(np.int64), np.concatenate(pies).astype(np.int64), size


# --------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NullRate:
    """PIEs in excess of the dense-vs-dense null at one population size (see module doc)."""

    n_examples: int
    n_dense_seeds: int
    n_pruned_seeds: int
    n_common_seeds: int
    population_size: int
    repeats: int
    confidence: float
    null_mean: float
    null_low: float
    null_high: float
    pies_mean: float
    pies_low: float
    pies_high: float
    excess_mean: float
    excess_low: float
    excess_high: float
    null_share_mean: float
    null_share_low: float
    null_share_high: float
    pies_share_mean: float
    pies_share_low: float
    pies_share_high: float
    excess_share_mean: float
    excess_share_low: float
    excess_share_high: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def excess_over_null(
    dense: np.ndarray,
    pruned: np.ndarray,
    kind: LabelKind,
    num_classes: int,
    repeats: int = NULL_REPEATS,
    seed: int | np.random.Generator = NULL_SEED,
    confidence: float = NULL_CONFIDENCE,
    *,
    dense_seeds: np.ndarray,
    pruned_seeds: np.ndarray,
) -> NullRate:
    """Null, PIE and excess counts: mean and percentile interval over draws of the seed
    split (not over examples; see the module doc for what that covers)."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    null, pies, size = null_and_pie_draws(dense, pruned, kind, num_classes, repeats, rng,
                                          dense_seeds=dense_seeds, pruned_seeds=pruned_seeds)
    n_examples = np.shape(dense)[1]
    quantiles = [(1 - confidence) / 2, (1 + confidence) / 2]
    stats: dict[str, float] = {}
    for name, values in (("null", null), ("pies", pies), ("excess", pies - null)):
        low, high = np.quantile(values, quantiles)
        stats[f"{name}_mean"], stats[f"{name}_low"], stats[f"{name}_high"] = (
            float(values.mean()), float(low), float(high))
    shares = {key.replace("_", "_share_", 1): value / n_examples if n_examples else np.nan
              for key, value in stats.items()}
    return NullRate(n_examples=n_examples, n_dense_seeds=np.shape(dense)[0],
                    n_pruned_seeds=np.shape(pruned)[0],
                    n_common_seeds=common_seed_rows(dense_seeds, pruned_seeds)[0].size,
                    population_size=size, repeats=repeats, confidence=confidence, **stats,
                    **shares)


def null_rate_skipped(n_dense: int, n_common: int, minimum: int) -> str | None:
    """Why a cell gets no null rate: fewer than ``minimum`` dense members, or fewer than
    ``minimum`` seeds it shares with them (twins); None when it gets one."""
    if n_dense < minimum:
        return (f"no null rate: the dense population has {n_dense} < {minimum} members "
                "(flips and McNemar only)")
    if n_common < minimum:
        return (f"no null rate: the populations share {n_common} < {minimum} seeds (the "
                "null pairs twins by seed; flips and McNemar only)")
    return None


def _skipped_row(pop: SplitPopulations, repeats: int, confidence: float,
                 note: str) -> dict[str, object]:
    """A null-rate row without draws: counts of seeds, every statistic null, the reason."""
    stats = {f.name: None for f in fields(NullRate)}
    return {**stats, "n_examples": pop.examples.height, "n_dense_seeds": pop.dense.shape[0],
            "n_pruned_seeds": pop.pruned.shape[0],
            "n_common_seeds": common_seed_rows(pop.dense_seeds, pop.pruned_seeds)[0].size,
            "repeats": repeats, "confidence": confidence, "note": note}


def null_rate_table(
    populations: Iterable[SplitPopulations],
    pies: pl.DataFrame,
    num_classes: int,
    repeats: int = NULL_REPEATS,
    seed: int = NULL_SEED,
    confidence: float = NULL_CONFIDENCE,
    min_seeds: int | None = None,
) -> pl.DataFrame:
    """One row per split of a pruned cell: PIEs in excess of the dense-vs-dense null.

    ``pies`` is the PIE table of the same populations (:func:`pieflow.diff.pies.pie_table`);
    its count per split, all dense vs. all pruned seeds (not only the common ones), is kept
    as ``n_pies_full`` for reference. Each split draws from its own generator
    (:func:`split_rng`). With ``min_seeds`` (imported populations:
    :data:`IMPORTED_MIN_SEEDS`), a split whose dense population or shared seeds number
    fewer gets no draws: its statistics are null and a ``note`` column says why (null
    where the split has its null rate).
    """
    full = dict(pies.group_by("split").agg(pl.col("is_pie").sum()).iter_rows())
    rows = []
    for pop in populations:
        n_common = common_seed_rows(pop.dense_seeds, pop.pruned_seeds)[0].size
        note = (null_rate_skipped(pop.dense.shape[0], n_common, min_seeds)
                if min_seeds is not None else None)
        if note is not None:
            rows.append({"split": pop.split, **_skipped_row(pop, repeats, confidence, note),
                         "n_pies_full": int(full[pop.split])})
            continue
        try:
            result = excess_over_null(pop.dense, pop.pruned, pop.kind, num_classes,
                                      repeats=repeats, seed=split_rng(seed, pop.split),
                                      confidence=confidence, dense_seeds=pop.dense_seeds,
                                      pruned_seeds=pop.pruned_seeds)
        except ValueError as err:
            raise ValueError(f"split {pop.split!r}: {err}") from err
        rows.append({"split": pop.split, **result.as_dict(), "note": None,
                     "n_pies_full": int(full[pop.split])})
    if not rows:
        return pl.DataFrame(schema={"split": pl.String})
    schema = {"split": pl.String, **{f.name: pl.Int64 if f.type == "int" else pl.Float64
                                     for f in fields(NullRate)},
              "note": pl.String, "n_pies_full": pl.Int64}
    table = pl.DataFrame(rows, schema=schema).select(pl.exclude("note"), "note")
    return table if min_seeds is not None else table.drop("note")
