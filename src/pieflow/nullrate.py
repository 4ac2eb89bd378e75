"""Null rate of PIEs: how many "PIEs" two *dense* populations already produce.

A PIE count is only interpretable against the disagreement that seed noise alone
creates. The null splits the dense seeds into two disjoint halves of ``h`` seeds and
counts examples whose modal labels differ; the PIE count is taken between ``h`` dense
and ``h`` pruned seeds, so both numbers come from populations of the same size (modal
labels of smaller populations are noisier, so a PIE count from 30 vs. 30 seeds is not
comparable with a 15 vs. 15 null).

Modal labels follow :func:`pieflow.pies.modal_labels`: the most voted class, ties going
to the lowest class index.

What is resampled (``excess_over_null``): only the *seeds*; the examples are fixed. Each
repeat draws, without replacement, a random split of the dense seeds into halves A and B
(``h`` each) and a random subset of ``h`` pruned seeds; it records
``null = #(modal(A) != modal(B))`` and ``pies = #(modal(A) != modal(pruned subset))``,
so null and PIEs of one repeat share the dense half A (a paired comparison), and
``excess = pies - null``. The intervals are percentiles of these per-repeat values. They
describe how much the counts move with the choice of seeds from *this* pool of models
(a subsampling distribution); they do not cover sampling of new examples, and, because
the subsets overlap, they understate the spread of a fresh set of seeds.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass

import numpy as np
import polars as pl

from pieflow.pies import modal_labels, paired_populations, vote_counts

# Upper bound on the elements of one (repeats × examples × classes) vote block, so memory
# stays bounded (~64 MiB of float32) for many examples or classes; repeats are chunked.
_BLOCK_ELEMENTS = 1 << 24


def _one_hot(preds: np.ndarray, num_classes: int) -> np.ndarray:
    """(seeds × examples) int → (seeds, classes · examples) float32 votes, class-major.

    Class-major so each class's counts are a contiguous block after the matmul.
    """
    preds = np.asarray(preds)
    if preds.ndim != 2:
        raise ValueError(f"predictions must be a (seeds × examples) array, got {preds.shape}")
    if preds.size and (preds.min() < 0 or preds.max() >= num_classes):
        raise ValueError(f"predictions must lie in 0..{num_classes - 1}")
    seeds, examples = preds.shape
    onehot = np.empty((seeds, num_classes, examples), dtype=np.float32)
    for cls in range(num_classes):  # a loop over classes, vectorised over seeds × examples
        np.equal(preds, cls, out=onehot[:, cls, :])
    return onehot.reshape(seeds, num_classes * examples)


def _subset_weights(order: np.ndarray, start: int, size: int, n_seeds: int) -> np.ndarray:
    """0/1 (repeats × seeds) rows selecting ``order[:, start:start+size]`` per repeat."""
    weights = np.zeros((order.shape[0], n_seeds), dtype=np.float32)
    np.put_along_axis(weights, order[:, start:start + size], 1.0, axis=1)
    return weights


def _modal(weights: np.ndarray, onehot: np.ndarray, num_classes: int) -> np.ndarray:
    """Modal label (repeats × examples) of each weighted seed subset; ties → lowest class.

    Votes are exact: float32 sums of at most a few thousand 0/1 votes are integers. A
    running strict ``>`` over the classes keeps the lowest of tied classes, like argmax,
    and is much faster than ``argmax`` over a short last axis.
    """
    counts = (weights @ onehot).reshape(weights.shape[0], num_classes, -1)
    best = counts[:, 0].copy()
    modal = np.zeros(best.shape, dtype=np.min_scalar_type(max(num_classes - 1, 0)))
    for cls in range(1, num_classes):
        np.copyto(modal, cls, where=counts[:, cls] > best)
        np.maximum(best, counts[:, cls], out=best)
    return modal


def _random_orders(rng: np.random.Generator, repeats: int, n_seeds: int) -> np.ndarray:
    """``repeats`` independent random permutations of the seed indices."""
    return rng.random((repeats, n_seeds)).argsort(axis=1)


def _chunks(repeats: int, n_examples: int, num_classes: int) -> list[int]:
    per_chunk = max(1, _BLOCK_ELEMENTS // max(1, n_examples * num_classes))
    return [min(per_chunk, repeats - start) for start in range(0, repeats, per_chunk)]


def _check_size(size: int, available: int, what: str) -> None:
    if size < 1:
        raise ValueError(f"population size must be at least 1, got {size}")
    if size > available:
        raise ValueError(f"population size {size} needs {size} {what} seeds, "
                         f"only {available} available")


def _null_and_pie_draws(
    dense_onehot: np.ndarray,
    pruned_onehot: np.ndarray | None,
    num_classes: int,
    size: int,
    repeats: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-repeat null and (paired) PIE counts, vectorised over repeats and examples."""
    n_dense = dense_onehot.shape[0]
    n_examples = dense_onehot.shape[1] // num_classes
    nulls, pies = [], []
    for chunk in _chunks(repeats, n_examples, num_classes):
        order = _random_orders(rng, chunk, n_dense)
        modal_a = _modal(_subset_weights(order, 0, size, n_dense), dense_onehot, num_classes)
        modal_b = _modal(_subset_weights(order, size, size, n_dense), dense_onehot,
                         num_classes)
        nulls.append((modal_a != modal_b).sum(axis=1))
        if pruned_onehot is not None:
            n_pruned = pruned_onehot.shape[0]
            pruned_order = _random_orders(rng, chunk, n_pruned)
            modal_p = _modal(_subset_weights(pruned_order, 0, size, n_pruned), pruned_onehot,
                             num_classes)
            pies.append((modal_a != modal_p).sum(axis=1))
    null = np.concatenate(nulls).astype(np.int64)
    return null, (np.concatenate(pies).astype(np.int64) if pruned_onehot is not None else None)


def null_disagreements(
    dense_preds: np.ndarray, num_classes: int, half_size: int, rng: np.random.Generator
) -> int:
    """Modal-label disagreements between two disjoint random halves of the dense seeds.

    The number of "PIEs" that seed noise alone gives at population size ``half_size``.
    """
    dense_preds = np.asarray(dense_preds)
    if dense_preds.ndim != 2 or dense_preds.shape[0] < 2:
        raise ValueError("the null needs a (seeds × examples) array with at least 2 dense "
                         f"seeds (two disjoint halves), got shape {dense_preds.shape}")
    if not 1 <= half_size <= dense_preds.shape[0] // 2:
        raise ValueError(f"half_size must lie in 1..{dense_preds.shape[0] // 2} for "
                         f"{dense_preds.shape[0]} dense seeds, got {half_size}")
    null, _ = _null_and_pie_draws(_one_hot(dense_preds, num_classes), None, num_classes,
                                  half_size, 1, rng)
    return int(null[0])


def pie_count(
    dense_preds: np.ndarray,
    pruned_preds: np.ndarray,
    num_classes: int,
    size: int,
    rng: np.random.Generator,
) -> int:
    """PIEs between a random ``size``-seed dense subset and a ``size``-seed pruned subset.

    Uses the null's population size, so the two counts are comparable.
    """
    dense_preds, pruned_preds = np.asarray(dense_preds), np.asarray(pruned_preds)
    _check_size(size, dense_preds.shape[0], "dense")
    _check_size(size, pruned_preds.shape[0], "pruned")
    if dense_preds.shape[1:] != pruned_preds.shape[1:]:
        raise ValueError("dense and pruned predictions cover different numbers of examples")
    dense = _one_hot(dense_preds, num_classes)
    pruned = _one_hot(pruned_preds, num_classes)
    n_dense, n_pruned = dense.shape[0], pruned.shape[0]
    modal_d = _modal(_subset_weights(_random_orders(rng, 1, n_dense), 0, size, n_dense),
                     dense, num_classes)
    modal_p = _modal(_subset_weights(_random_orders(rng, 1, n_pruned), 0, size, n_pruned),
                     pruned, num_classes)
    return int((modal_d != modal_p).sum())


@dataclass(frozen=True)
class NullRate:
    """PIEs in excess of the dense-vs-dense null at one population size (see module doc)."""

    n_examples: int
    n_dense_seeds: int
    n_pruned_seeds: int
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
    dense_preds: np.ndarray,
    pruned_preds: np.ndarray,
    num_classes: int,
    repeats: int = 200,
    seed: int | np.random.Generator = 0,
    confidence: float = 0.95,
) -> NullRate:
    """Null, PIE and excess counts (mean and percentile interval over random seed draws).

    Population size ``h = min(n_dense // 2, n_pruned)``: the largest for which two
    disjoint dense halves exist and the pruned side can match it.
    """
    dense_preds = np.asarray(dense_preds)
    pruned_preds = np.asarray(pruned_preds)
    if dense_preds.ndim != 2 or pruned_preds.ndim != 2:
        raise ValueError("predictions must be (seeds × examples) arrays, got shapes "
                         f"{dense_preds.shape} and {pruned_preds.shape}")
    n_dense, n_pruned = dense_preds.shape[0], pruned_preds.shape[0]
    if n_dense < 2:
        raise ValueError(f"the null rate needs at least 2 dense seeds (two disjoint halves), "
                         f"got {n_dense}")
    if n_pruned < 1:
        raise ValueError("the null rate needs at least 1 pruned seed, got 0")
    if dense_preds.shape[1:] != pruned_preds.shape[1:]:
        raise ValueError("dense and pruned predictions cover different numbers of examples")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    size = min(n_dense // 2, n_pruned)
    n_examples = dense_preds.shape[1]
    null, pies = _null_and_pie_draws(_one_hot(dense_preds, num_classes),
                                     _one_hot(pruned_preds, num_classes), num_classes, size,
                                     repeats, rng)
    assert pies is not None
    excess = pies - null
    quantiles = [(1 - confidence) / 2, (1 + confidence) / 2]
    stats: dict[str, float] = {}
    for name, values in (("null", null), ("pies", pies), ("excess", excess)):
        low, high = np.quantile(values, quantiles)
        stats[f"{name}_mean"], stats[f"{name}_low"], stats[f"{name}_high"] = (
            float(values.mean()), float(low), float(high))
    denominator = max(n_examples, 1)
    shares = {key.replace("_", "_share_", 1): value / denominator if n_examples else np.nan
              for key, value in stats.items()}
    return NullRate(n_examples=n_examples, n_dense_seeds=n_dense, n_pruned_seeds=n_pruned,
                    population_size=size, repeats=repeats, confidence=confidence,
                    **stats, **shares)


def _split_rng(seed: int, split: str) -> np.random.Generator:
    """A generator per (seed, split): a split's numbers do not depend on the other splits."""
    return np.random.default_rng([seed, zlib.crc32(split.encode())])


def null_rate_table(
    dense: pl.DataFrame,
    pruned: pl.DataFrame,
    num_classes: int,
    repeats: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
) -> pl.DataFrame:
    """One row per split of a pruned cell: PIEs in excess of the dense-vs-dense null.

    ``dense`` and ``pruned`` are tidy ``predictions.parquet`` frames (seed, split,
    example_id, label, pred). ``n_pies_full`` is the PIE count of the full populations
    (all dense vs. all pruned seeds, as in ``pies.parquet``), for reference.
    """
    rows = []
    for split, dense_preds, pruned_preds, _ in paired_populations(dense, pruned):
        result = excess_over_null(dense_preds, pruned_preds, num_classes, repeats=repeats,
                                  seed=_split_rng(seed, split), confidence=confidence)
        d_modal = modal_labels(vote_counts(dense_preds, num_classes))[0]
        p_modal = modal_labels(vote_counts(pruned_preds, num_classes))[0]
        rows.append({"split": split, **result.as_dict(),
                     "n_pies_full": int((d_modal != p_modal).sum())})
    if not rows:
        return pl.DataFrame(schema={"split": pl.String})
    return pl.DataFrame(rows)
