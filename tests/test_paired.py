"""Paired statistics of a cell (paired.parquet): hand-computed cases of every column."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from prediction_frames import multi_label_predictions, single_label_predictions

from pieflow.diff.paired import PROBABILITY_FLOOR, kl_divergence, mcnemar_mid_p, paired_table
from pieflow.diff.pies import pie_table
from pieflow.diff.populations import paired_populations
from pieflow.labels import LabelKind

SINGLE, MULTI = LabelKind.SINGLE, LabelKind.MULTI


def paired(dense: pl.DataFrame, pruned: pl.DataFrame, kind: LabelKind,
           num_classes: int) -> dict:
    """The first split's paired.parquet row, built as the diff_cell job builds it."""
    populations = paired_populations(dense, pruned, kind)
    return paired_table(populations, pie_table(populations, num_classes)).row(0, named=True)


def flat_logits(seeds: int, examples: int, classes: int) -> np.ndarray:
    return np.zeros((seeds, examples, classes))


@pytest.mark.parametrize(("b", "c", "expected"), [
    (5, 1, 8 / 64),      # n = 6, k = 1: 2 · 7/64 − 6/64
    (1, 5, 8 / 64),
    (2, 1, 5 / 8),       # n = 3, k = 1: 2 · 4/8 − 3/8
    (0, 4, 1 / 16),      # 2 · 1/16 − 1/16
    (10, 0, 1 / 1024),
    (3, 3, 1.0),         # balanced: exactly 1
    (0, 0, 1.0),
])
def test_mcnemar_mid_p_by_hand(b, c, expected):
    assert mcnemar_mid_p(b, c) == pytest.approx(expected, rel=1e-12)


def test_mid_p_is_the_exact_p_less_the_point_probability():
    from scipy.stats import binomtest  # the exact two-sided test, for comparison
    exact = binomtest(1, 6, 0.5).pvalue
    assert exact == pytest.approx(14 / 64)
    assert mcnemar_mid_p(5, 1) == pytest.approx(exact - 6 / 64)


def test_single_label_counts_and_pair_means_by_hand():
    labels = np.array([0, 1, 2, 0])
    dense = np.array([[0, 1, 2, 1], [0, 1, 1, 1], [0, 2, 2, 0]])
    pruned = np.array([[0, 2, 2, 0], [1, 2, 1, 0], [0, 1, 1, 1]])
    # dense modal 0, 1, 2, 1 (right, right, right, wrong); pruned modal 0, 2, 1, 0
    # (right, wrong, wrong, right): b = 2 (examples 1, 2), c = 1 (example 3)
    row = paired(single_label_predictions(dense, labels, logits=flat_logits(3, 4, 3)),
                 single_label_predictions(pruned, labels, logits=flat_logits(3, 4, 3)),
                 SINGLE, 3)
    assert (row["split"], row["n_examples"], row["n_pairs"]) == ("test", 4, 3)
    assert (row["correct_to_wrong"], row["wrong_to_correct"]) == (2, 1)
    assert row["mcnemar_p"] == pytest.approx(5 / 8)
    # seed 0: right→wrong on 1, wrong→right on 3, same on 0, 2; seed 1: r→w on 0, 1,
    # w→r on 3, same on 2; seed 2: r→w on 2, 3, w→r on 1, same on 0
    assert row["pair_correct_to_wrong"] == pytest.approx(5 / 3)
    assert row["pair_wrong_to_correct"] == pytest.approx(1.0)
    assert row["top1_agreement"] == pytest.approx((2 / 4 + 1 / 4 + 1 / 4) / 3)
    assert row["kl_mean"] == 0  # every model's logits are flat
    assert (row["n_dense_seeds"], row["n_pruned_seeds"]) == (3, 3)


def test_pairs_are_same_seed_ids_not_rows():
    labels = np.array([0, 1])
    dense = np.array([[0, 1], [1, 1], [0, 0], [1, 0]])  # seeds 0..3
    pruned = np.array([[1, 0], [0, 1]])  # seeds 3 and 0, in that order
    row = paired(single_label_predictions(dense, labels, logits=flat_logits(4, 2, 2)),
                 single_label_predictions(pruned, labels, seeds=np.array([3, 0]),
                                          logits=flat_logits(2, 2, 2)), SINGLE, 2)
    # pairs: dense seed 0 [0, 1] with pruned seed 0 [0, 1] (identical), dense seed 3
    # [1, 0] with pruned seed 3 [1, 0] (identical). By rows it would be [0,1] vs [1,0].
    assert (row["n_pairs"], row["n_dense_seeds"], row["n_pruned_seeds"]) == (2, 4, 2)
    assert row["top1_agreement"] == 1.0
    assert row["pair_correct_to_wrong"] == row["pair_wrong_to_correct"] == 0


def test_single_label_kl_of_mean_softmax_by_hand():
    # p̄_dense: example 0 [0.5, 0.5] (the mean of [0.6, 0.4] and [0.4, 0.6]), example 1
    # [0.9, 0.1]; p̄_pruned: [0.25, 0.75] and [0.9, 0.1].
    # KL: 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75) = 0.5 ln(4/3), and 0 → mean 0.25 ln(4/3).
    dense_probs = np.array([[[0.6, 0.4], [0.9, 0.1]], [[0.4, 0.6], [0.9, 0.1]]])
    pruned_probs = np.array([[[0.25, 0.75], [0.9, 0.1]]] * 2)
    labels = np.array([0, 0])
    preds = np.zeros((2, 2), dtype=np.int64)
    row = paired(single_label_predictions(preds, labels, logits=np.log(dense_probs)),
                 single_label_predictions(preds, labels, logits=np.log(pruned_probs) + 3.0),
                 SINGLE, 2)
    assert row["kl_mean"] == pytest.approx(0.25 * math.log(4 / 3), rel=1e-6)


def test_kl_clips_probabilities_before_the_log():
    kl = kl_divergence(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), SINGLE)
    assert kl.tolist() == pytest.approx([-math.log(PROBABILITY_FLOOR)])
    assert np.isfinite(kl_divergence(np.array([[1.0]]), np.array([[0.0]]), MULTI)).all()


def test_multi_label_statistics_by_hand():
    labels = np.array([[1, 0], [0, 1]])
    dense = np.tile(labels, (3, 1, 1))  # every dense model right on both examples
    pruned = np.array([[[1, 1], [0, 1]], [[1, 1], [0, 1]], [[1, 0], [0, 1]]])
    # pruned majority: example 0 [1, 1] (wrong), example 1 [0, 1] (right): b = 1, c = 0.
    # mean sigmoids: class 0 of example 0: dense 0.5 (logit 0), pruned 0.25 (logit
    # ln 1/3); every other class 0.8 on both sides (logit ln 4).
    # Bernoulli KL of example 0: (0.5 ln 2 + 0.5 ln(2/3) + 0) / 2 = 0.25 ln(4/3); of
    # example 1: 0. Mean over examples: 0.125 ln(4/3).
    dense_logits = np.full((3, 2, 2), math.log(4))
    dense_logits[:, 0, 0] = 0
    pruned_logits = np.full((3, 2, 2), math.log(4))
    pruned_logits[:, 0, 0] = math.log(1 / 3)
    row = paired(multi_label_predictions(dense, labels, logits=dense_logits),
                 multi_label_predictions(pruned, labels, logits=pruned_logits), MULTI, 2)
    assert (row["correct_to_wrong"], row["wrong_to_correct"]) == (1, 0)
    assert row["mcnemar_p"] == pytest.approx(0.5)
    # per pair: seeds 0 and 1 go right → wrong on example 0 (whole vectors differ there),
    # seed 2 equals its twin
    assert row["pair_correct_to_wrong"] == pytest.approx(2 / 3)
    assert row["pair_wrong_to_correct"] == 0
    assert row["top1_agreement"] == pytest.approx((0.5 + 0.5 + 1) / 3)
    assert row["kl_mean"] == pytest.approx(0.125 * math.log(4 / 3), rel=1e-6)


@pytest.mark.parametrize("kind", [SINGLE, MULTI])
def test_identical_populations(kind):
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(5, 20, 3))
    if kind is SINGLE:
        labels = rng.integers(0, 3, size=20)
        frame = single_label_predictions(logits.argmax(axis=2), labels, logits=logits)
    else:
        labels = rng.integers(0, 2, size=(20, 3))
        frame = multi_label_predictions((logits > 0).astype(np.int64), labels, logits=logits)
    row = paired(frame, frame.sample(fraction=1.0, shuffle=True, seed=2), kind, 3)
    assert (row["correct_to_wrong"], row["wrong_to_correct"], row["mcnemar_p"]) == (0, 0, 1.0)
    assert row["pair_correct_to_wrong"] == row["pair_wrong_to_correct"] == 0
    assert row["top1_agreement"] == 1.0
    assert row["kl_mean"] == pytest.approx(0, abs=1e-12)
    assert row["n_pairs"] == 5


def test_paired_statistics_need_logits():
    preds, labels = np.zeros((2, 3), dtype=np.int64), np.zeros(3, dtype=np.int64)
    frame = single_label_predictions(preds, labels)
    with pytest.raises(ValueError, match="logits"):
        paired(frame, frame, SINGLE, 2)
