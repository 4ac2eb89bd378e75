"""Which examples does compression take, and could the dense models have told in
advance? Every registered difficulty score (:mod:`pieflow.influence.scores`) measured
as a predictor of PIEs, per cell and split.

* ``auroc`` — the probability that a PIE scores harder than a non-PIE, ties counting
  half (the Mann–Whitney U of the PIEs over n_PIEs × n_non-PIEs, from midranks), with
  every score oriented so that higher means harder: 0.5 is chance, 1 a perfect
  separation, below 0.5 PIEs are *easier* than the rest.
* ``auroc_low`` / ``auroc_high`` — a percentile interval over bootstrap resamples of the
  examples (:data:`PREDICTOR_REPEATS` resamples with replacement, one seeded draw per
  cell × split shared by its scores, so scores are compared on the same resamples). It
  covers new examples from the same distribution, not new seeds.
* Deciles of the score (0 = easiest, 9 = hardest), each exactly a tenth of the examples:
  examples with tied scores are shared out evenly among the deciles their tied run of
  ranks spans (what breaking the ties at random gives in expectation), so a coarse
  score such as the agreement of 11 seeds is not ordered by ``example_id`` within a tie.
  ``top_decile_pie_share`` is the PIE rate of decile 9; ``base_pie_share`` the PIE rate
  of all examples.

Pure functions of one cell's ``pies.parquet`` rows and its model's influence scores,
vectorised over examples and bootstrap resamples.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from pieflow.analysis.cells import SORT_KEYS
from pieflow.seeding import derive_seed

PREDICTOR_REPEATS = 1000
PREDICTOR_CONFIDENCE = 0.95
PREDICTOR_SEED = 0
DECILES = 10
SCORE_KEYS = [*SORT_KEYS, "score"]


# --------------------------------------------------------------------------------------
# AUROC with ties, and its bootstrap
# --------------------------------------------------------------------------------------


def _runs(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ascending order of ``score`` and the start of each run of tied values in it."""
    order = np.argsort(score, kind="stable")
    ordered = score[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return order, starts


def weighted_auroc(score: np.ndarray, positive: np.ndarray, weights: np.ndarray
                   ) -> np.ndarray:
    """AUROC of ``score`` for ``positive`` under each row of ``weights`` (resamples ×
    examples: how often each example is drawn), ties counting half; NaN for a resample
    without positives or without negatives. Sorted once, O(resamples × examples)."""
    score, positive = np.asarray(score, dtype=np.float64), np.asarray(positive, dtype=bool)
    weights = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    order, starts = _runs(score)
    w = weights[:, order]
    pos = np.add.reduceat(w * positive[order], starts, axis=1)
    neg = np.add.reduceat(w, starts, axis=1) - pos
    below = np.cumsum(neg, axis=1) - neg  # negatives scoring strictly lower
    pairs = pos.sum(axis=1) * neg.sum(axis=1)
    wins = (pos * (below + 0.5 * neg)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, wins / np.where(pairs > 0, pairs, 1.0), np.nan)


def auroc(score: np.ndarray, positive: np.ndarray) -> float:
    """P(score of a positive > score of a negative) + ½ P(tie): U / (n₁ n₀), NaN without
    positives or negatives."""
    return float(weighted_auroc(score, positive, np.ones((1, len(score))))[0])


def bootstrap_weights(n: int, rng: np.random.Generator,
                      repeats: int = PREDICTOR_REPEATS) -> np.ndarray:
    """(repeats × n) draw counts of ``repeats`` resamples of n examples with replacement."""
    if n == 0:
        return np.zeros((repeats, 0))
    drawn = rng.integers(0, n, size=(repeats, n)) + n * np.arange(repeats)[:, None]
    return np.bincount(drawn.ravel(), minlength=repeats * n).reshape(repeats, n).astype(
        np.float64)


def auroc_interval(score: np.ndarray, positive: np.ndarray, weights: np.ndarray,
                   confidence: float = PREDICTOR_CONFIDENCE) -> tuple[float, float]:
    """The percentile interval of the AUROC over the resamples ``weights`` (resamples
    without a positive or a negative are left out; NaN if every one is)."""
    values = weighted_auroc(score, positive, weights)
    values = values[~np.isnan(values)]
    if not values.size:
        return float("nan"), float("nan")
    tail = (1.0 - confidence) / 2
    low, high = np.quantile(values, [tail, 1.0 - tail])
    return float(low), float(high)


# --------------------------------------------------------------------------------------
# Deciles, ties shared out
# --------------------------------------------------------------------------------------


def deciles(score: np.ndarray, positive: np.ndarray, bins: int = DECILES) -> pl.DataFrame:
    """Per decile of ``score`` (0 = lowest), each exactly n / ``bins`` examples: the
    (expected) examples and positives in it, their rate, and the range of scores in it.
    A run of tied scores spanning several deciles is shared out in proportion to the
    ranks it occupies in each. ``score`` must hold at least one example."""
    score, positive = np.asarray(score, dtype=np.float64), np.asarray(positive, dtype=bool)
    n = len(score)
    order, starts = _runs(score)
    ends = np.r_[starts[1:], n]
    positives = np.add.reduceat(positive[order].astype(np.float64), starts)
    edges = np.arange(bins + 1) * n / bins
    overlap = np.clip(np.minimum(ends[:, None], edges[None, 1:])
                      - np.maximum(starts[:, None], edges[None, :-1]), 0, None)
    share = overlap / np.maximum(ends - starts, 1)[:, None]  # runs × deciles
    values = score[order][starts]
    inside = overlap > 0
    examples = overlap.sum(axis=0)
    pies = (positives[:, None] * share).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(examples > 0, pies / np.where(examples > 0, examples, 1), np.nan)
    return pl.DataFrame({
        "decile": np.arange(bins, dtype=np.int64),
        "n_examples": examples, "n_pies": pies, "pie_rate": rate,
        "score_low": [values[inside[:, d]].min() if inside[:, d].any() else np.nan
                      for d in range(bins)],
        "score_high": [values[inside[:, d]].max() if inside[:, d].any() else np.nan
                       for d in range(bins)],
    }).with_columns(pl.col("pie_rate", "score_low", "score_high").fill_nan(None))


# --------------------------------------------------------------------------------------
# One cell
# --------------------------------------------------------------------------------------


def cell_predictors(pies: pl.DataFrame, influence: pl.DataFrame,
                    scores: Mapping[str, tuple[str, str]], keys: Mapping[str, object],
                    repeats: int = PREDICTOR_REPEATS,
                    confidence: float = PREDICTOR_CONFIDENCE
                    ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(predictor rows, decile rows) of one cell: per split and score of ``scores``
    (name → (hard, source): ``hard`` ``"high"`` or ``"low"``, ``source`` what it is
    computed from, as the rows say) present in ``influence`` with a value for at least
    one of the split's examples. Examples without a value are left out of that score's
    rows; a score without any gets no rows. ``keys``: the cell's, which seed the
    bootstrap (one generator per cell × split)."""
    present = [name for name in scores if name in influence.columns]
    joined = pies.select("split", "example_id", "is_pie").join(
        influence.select("split", "example_id", *present), on=["split", "example_id"],
        how="left").sort("split", "example_id")
    rows, bins = [], []
    for (split,), part in joined.group_by("split", maintain_order=True):
        rng = np.random.default_rng(derive_seed(PREDICTOR_SEED, *(keys[k] for k in SORT_KEYS[:4]),
                                                split))
        weights = bootstrap_weights(part.height, rng, repeats)
        is_pie = part.get_column("is_pie").to_numpy().astype(bool)
        for name in present:
            hard, source = scores[name]
            raw = part.get_column(name).cast(pl.Float64).fill_nan(None).to_numpy()
            raw = np.asarray(raw, dtype=np.float64)
            kept = ~np.isnan(raw)
            if not kept.any():
                continue
            value, positive = raw[kept], is_pie[kept]
            harder = value if hard == "high" else -value
            low, high = auroc_interval(harder, positive, weights[:, kept], confidence)
            binned = deciles(harder, positive)
            if hard == "low":  # ranges in the score's own units
                binned = binned.with_columns(score_low=-pl.col("score_high"),
                                             score_high=-pl.col("score_low"))
            top = binned.get_column("pie_rate")[-1]
            rows.append({"split": split, "score": name, "hard": hard, "source": source,
                         "auroc": auroc(harder, positive), "auroc_low": low,
                         "auroc_high": high, "top_decile_pie_share": top,
                         "base_pie_share": float(positive.mean()),
                         "n_pies": int(positive.sum()), "n_examples": int(kept.sum())})
            bins.append(binned.with_columns(pl.lit(split).alias("split"),
                                            pl.lit(name).alias("score")))
    table = pl.DataFrame(rows, schema=PREDICTOR_SCHEMA).with_columns(
        pl.col("auroc", "auroc_low", "auroc_high").fill_nan(None))
    binned = (pl.concat(bins).select("split", "score", pl.exclude("split", "score"))
              if bins else pl.DataFrame(schema=DECILE_SCHEMA))
    return table, binned


PREDICTOR_SCHEMA = {
    "split": pl.String, "score": pl.String, "hard": pl.String, "source": pl.String,
    "auroc": pl.Float64, "auroc_low": pl.Float64, "auroc_high": pl.Float64,
    "top_decile_pie_share": pl.Float64, "base_pie_share": pl.Float64, "n_pies": pl.Int64,
    "n_examples": pl.Int64}
DECILE_SCHEMA = {
    "split": pl.String, "score": pl.String, "decile": pl.Int64, "n_examples": pl.Float64,
    "n_pies": pl.Float64, "pie_rate": pl.Float64, "score_low": pl.Float64,
    "score_high": pl.Float64}


# --------------------------------------------------------------------------------------
# The best predictor of each cell
# --------------------------------------------------------------------------------------


def best_predictors(table: pl.DataFrame) -> pl.DataFrame:
    """Per cell × split, the score with the highest AUROC (ties: by name), with its
    interval and top-decile PIE share, and ``best_predictor_beats_chance`` (its interval
    lies above 0.5). Cells without PIEs (no AUROC) have no row."""
    columns = {"best_predictor": pl.String, "best_predictor_auroc": pl.Float64,
               "best_predictor_auroc_low": pl.Float64, "best_predictor_auroc_high": pl.Float64,
               "best_predictor_top_decile_pie_share": pl.Float64,
               "best_predictor_beats_chance": pl.Boolean}
    if table.is_empty() or not set(SCORE_KEYS) <= set(table.columns):
        return pl.DataFrame(schema={**{k: pl.Int64 if k == "sparsity" else pl.String
                                       for k in SORT_KEYS}, **columns})
    best = (table.filter(pl.col("auroc").is_not_null())
            .sort("auroc", "score", descending=[True, False])
            .group_by(SORT_KEYS, maintain_order=True).first())
    return best.select(
        *SORT_KEYS, pl.col("score").alias("best_predictor"),
        pl.col("auroc").alias("best_predictor_auroc"),
        pl.col("auroc_low").alias("best_predictor_auroc_low"),
        pl.col("auroc_high").alias("best_predictor_auroc_high"),
        pl.col("top_decile_pie_share").alias("best_predictor_top_decile_pie_share"),
        (pl.col("auroc_low") > 0.5).alias("best_predictor_beats_chance"))
