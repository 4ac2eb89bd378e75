"""Difficulty of each example of an imported model: EL2N-like, from the dense
population's final probabilities.

EL2N (Paul et al. 2021) is ‖p − y‖₂ at an *early* checkpoint; imported models have none,
only their final predictions. The same norm on the final probabilities ranks examples by
how far the trained models are from the answer — a final-model difficulty, closer to the
final loss than to EL2N, and labelled so (``difficulty_source``). Without logits the
probabilities are the models' one-hot answers, and the score is √2 × the share of dense
models that are wrong. Generated answers have neither logits nor a class list: a model is
right or wrong by its line's metric (``correct``), and the score is the same one-hot
analogue, √2 × the share of dense models the metric calls wrong (0: every dense model
right, √2: none).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.special import expit, softmax

from pieflow.labels import LabelKind, one_hot

FROM_PROBABILITIES = "final probabilities (EL2N-like)"
FROM_ANSWERS = "final answers (EL2N-like, no logits)"  # √2 × share of dense models wrong
# generated answers: √2 × share of dense models wrong by the metric (``correct``)
FROM_CORRECTNESS = "final correctness (EL2N-like, no logits)"


def final_difficulty(predictions: pl.DataFrame, kind: LabelKind,
                     num_classes: int) -> pl.DataFrame:
    """``influence.parquet`` rows of an imported model: per split × example ``el2n`` and
    ``el2n_std`` (mean and standard deviation over the dense seeds), ``grand`` (NaN: no
    weights to differentiate), ``dense_loss`` (mean final loss; null without logits) and
    ``difficulty_source``. Generated answers: from ``correct`` (``num_classes`` unused)."""
    if kind is LabelKind.ANSWER:
        wrong = ~predictions.get_column("correct").to_numpy().astype(bool)
        return _per_example(predictions, np.sqrt(2) * wrong, FROM_CORRECTNESS)
    has_logits = predictions.height > 0 and predictions.get_column("logits").null_count() == 0
    if kind is LabelKind.MULTI:
        targets = np.stack(predictions.get_column("labels").to_numpy()).astype(np.float64)
        probs = (expit(_logits(predictions, num_classes)) if has_logits else
                 np.stack(predictions.get_column("preds").to_numpy()).astype(np.float64))
    else:
        targets = one_hot(predictions.get_column("label").to_numpy(), num_classes).astype(
            np.float64)
        probs = (softmax(_logits(predictions, num_classes), axis=1) if has_logits else
                 one_hot(predictions.get_column("pred").to_numpy(), num_classes).astype(
                     np.float64))
    scores = np.linalg.norm(probs - targets, axis=1) if predictions.height else np.zeros(0)
    return _per_example(predictions, scores, FROM_PROBABILITIES if has_logits else FROM_ANSWERS)


def _per_example(predictions: pl.DataFrame, scores: np.ndarray, source: str) -> pl.DataFrame:
    """Each row's score averaged over the dense seeds, per split × example."""
    return (predictions.select("split", "example_id", "loss")
            .with_columns(pl.Series("el2n", scores, dtype=pl.Float64))
            .group_by("split", "example_id")
            .agg(pl.col("el2n").mean(), pl.col("el2n").std(ddof=0).alias("el2n_std"),
                 pl.col("loss").mean().cast(pl.Float64).alias("dense_loss"))
            .with_columns(pl.lit(float("nan")).alias("grand"),
                          pl.lit(source).alias("difficulty_source"))
            .select("split", "example_id", "el2n", "el2n_std", "grand", "dense_loss",
                    "difficulty_source")
            .sort("split", "example_id"))


def _logits(predictions: pl.DataFrame, num_classes: int) -> np.ndarray:
    return np.stack(predictions.get_column("logits").to_numpy()).astype(np.float64).reshape(
        predictions.height, num_classes)
