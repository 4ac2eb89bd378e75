"""Difficulty of each example of an imported model: every registered score that exists
for imported populations and LLMs (:mod:`pieflow.influence.scores`), all computed from
the dense population's final predictions — no early checkpoint or training record
exists.

EL2N (Paul et al. 2021) is ‖p − y‖₂ at an *early* checkpoint; imported models have none,
only their final predictions. The same norm on the final probabilities ranks examples by
how far the trained models are from the answer — a final-model difficulty, closer to the
final loss than to EL2N, and labelled so (``difficulty_source``). Without logits the
probabilities are the models' one-hot answers, and the score is √2 × the share of dense
models that are wrong. Generated answers have neither logits nor a class list: a model is
right or wrong by its line's metric (``correct``), and the score is the same one-hot
analogue, √2 × the share of dense models the metric calls wrong (0: every dense model
right, √2: none). The other scores (agreement of the dense members, confidence in their
modal answer, the margin of the right choice over the best wrong one — for lm-eval the
choices' log-likelihoods —, the final loss) are null where the predictions cannot give
them (no logits; generated answers have only the agreement).
"""

from __future__ import annotations

import polars as pl

from pieflow.influence.final import final_scores
from pieflow.influence.scores import IMPORTED, LLM
from pieflow.labels import LabelKind

FROM_PROBABILITIES = "final probabilities (EL2N-like)"
FROM_ANSWERS = "final answers (EL2N-like, no logits)"  # √2 × share of dense models wrong
# generated answers: √2 × share of dense models wrong by the metric (``correct``)
FROM_CORRECTNESS = "final correctness (EL2N-like, no logits)"


def final_difficulty(predictions: pl.DataFrame, kind: LabelKind,
                     num_classes: int) -> pl.DataFrame:
    """``influence.parquet`` rows of an imported model: per split × example ``el2n`` and
    ``el2n_std`` (mean and standard deviation over the dense seeds), ``grand`` (NaN: no
    weights to differentiate), ``dense_loss`` (mean final loss; null without logits),
    ``dense_agreement``, ``modal_confidence``, ``choice_margin`` (see
    :mod:`pieflow.influence.scores`) and ``difficulty_source``. ``num_classes``: the
    width of the logits (the predictions' own, padded by the import)."""
    has_logits = (kind is not LabelKind.ANSWER and predictions.height > 0
                  and predictions.get_column("logits").null_count() == 0)
    if has_logits and predictions.get_column("logits").list.len().max() != num_classes:
        raise ValueError(f"logits of {predictions.get_column('logits').list.len().max()} "
                         f"values, the dataset has {num_classes} classes")
    source = (FROM_CORRECTNESS if kind is LabelKind.ANSWER else FROM_PROBABILITIES
              if has_logits else FROM_ANSWERS)
    scores = final_scores(predictions, kind, (IMPORTED, LLM))
    return (scores.with_columns(pl.lit(float("nan")).alias("grand"),
                                pl.lit(source).alias("difficulty_source"))
            .select("split", "example_id", "el2n", "el2n_std", "grand",
                    pl.exclude("split", "example_id", "el2n", "el2n_std", "grand",
                               "difficulty_source"), "difficulty_source")
            .sort("split", "example_id"))
