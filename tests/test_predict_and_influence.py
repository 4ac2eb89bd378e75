import math

import numpy as np
import polars as pl
import pytest
import torch

from pieflow.analysis.pies import el2n_bins, pie_summary
from pieflow.influence.el2n import el2n
from pieflow.labels import LabelKind, f1_per_class
from pieflow.predict.inference import tune_threshold
from pieflow.predict.metrics import metrics_frame


def test_macro_f1_hand_computed():
    predictions = pl.DataFrame({"seed": [0] * 4, "split": ["test"] * 4,
                                "label": [0, 0, 1, 2], "pred": [0, 1, 1, 1]})
    metrics = metrics_frame(predictions, 3, LabelKind.SINGLE).row(0, named=True)
    # class 0: tp 1, fp 0, fn 1 → 2/3; class 1: tp 1, fp 2, fn 0 → 0.5; class 2: 0
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 0) / 3)
    assert metrics["accuracy"] == 0.5


def test_el2n_single_and_multi_label():
    logits = torch.tensor([[0.0, 0.0], [100.0, -100.0]])
    single = el2n(logits, torch.tensor([0, 0]), LabelKind.SINGLE)
    assert single.tolist() == pytest.approx([math.sqrt(0.5), 0])
    multi = el2n(torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, 0.0]]), LabelKind.MULTI)
    assert multi.tolist() == pytest.approx([math.sqrt(0.25 + 0.25)])


def test_threshold_tuning_picks_the_best_macro_f1():
    targets = torch.tensor([[1, 0], [0, 1], [1, 1], [0, 0]])
    probs = torch.tensor([[0.7, 0.2], [0.3, 0.8], [0.65, 0.6], [0.1, 0.35]])
    threshold = tune_threshold(torch.logit(probs), targets)
    assert f1_per_class(targets.numpy(), (probs >= threshold).numpy()).mean() == 1.0
    assert 0.35 < threshold <= 0.6


def test_multi_label_metrics():
    predictions = pl.DataFrame({
        "seed": [0, 0], "split": ["test", "test"],
        "labels": [[1, 0], [0, 1]], "preds": [[1, 0], [1, 1]]})
    metrics = metrics_frame(predictions, 2, LabelKind.MULTI).row(0, named=True)
    assert metrics["accuracy"] == 0.5  # exact match
    assert metrics["micro_f1"] == pytest.approx(2 * 2 / (2 + 3))
    assert metrics["macro_f1"] == pytest.approx((2 / 3 + 1) / 2)


def _predictions(losses: dict[int, list[float]], preds: dict[int, list[int]]):
    return pl.DataFrame([
        {"seed": s, "split": "test", "example_id": i, "label": 0, "pred": preds[s][i],
         "loss": loss} for s, row in losses.items() for i, loss in enumerate(row)])


def test_el2n_bins_average_same_seed_loss_differences():
    n = 40
    influence = pl.DataFrame({"split": ["test"] * n, "example_id": list(range(n)),
                              "el2n": [0.5] * n})  # all tied: ranks still fill bins
    dense = _predictions({0: [1.0] * n, 1: [2.0] * n}, {0: [0] * n, 1: [0] * n})
    pruned = _predictions({0: [1.0 + i for i in range(n)], 1: [2.0 + i for i in range(n)]},
                          {0: [0] * n, 1: [0] * n})
    bins = el2n_bins(dense, pruned, influence, bins=20)
    assert bins["n_examples"].to_list() == [2] * 20
    # tied EL2N → ordinal ranks follow row order: bin b holds examples 2b and 2b+1
    assert bins["loss_diff_mean"].to_list() == pytest.approx([2 * b + 0.5 for b in range(20)])
    assert bins["loss_diff_se"].to_list() == pytest.approx([0.5] * 20)


def test_pie_summary_flags_a_collapsed_cell():
    n = 10
    labels = [0] * 6 + [1] * 4
    dense = pl.DataFrame([{"seed": s, "split": "test", "example_id": i, "label": labels[i],
                           "pred": labels[i], "loss": 0.1} for s in range(2) for i in range(n)])
    collapsed = dense.with_columns(pl.lit(0).alias("pred"))
    pies = pl.DataFrame({"split": ["test"] * n, "example_id": list(range(n)),
                         "label": labels, "is_pie": [lab == 1 for lab in labels],
                         "tie": [False] * n})
    summary = pie_summary(pies, dense, collapsed, LabelKind.SINGLE).row(0, named=True)
    assert summary["n_pies"] == 4 and summary["pie_share"] == 0.4
    assert summary["majority_share"] == 0.6
    assert summary["collapsed"] is True
    assert summary["pruned_accuracy_on_pies"] == 0.0
    assert summary["dense_accuracy_on_all"] == 1.0


def test_forgetting_events_hand_computed():
    from pieflow.influence.el2n import forgetting_events

    learned = np.array([[1, 0, 1, 0],   # epoch 1
                        [0, 0, 1, 1],   # epoch 2
                        [1, 0, 0, 1]])  # epoch 3
    events, never = forgetting_events(learned)
    assert events.tolist() == [1, 0, 1, 0]
    assert never.tolist() == [False, True, False, False]


def test_minibatch_correctness_is_recorded_per_example(bilstm_spec, tweets):
    from conftest import encoded

    from pieflow.train.dense import train_dense

    spec = dict(bilstm_spec, epochs=2)
    data = encoded(spec, tweets.splits["train"])
    run = train_dense(spec, data, 3, 0, torch.device("cpu"))
    assert len(run.state.learned) == 2
    assert all(epoch.shape == (len(data),) for epoch in run.state.learned)


# --------------------------------------------------------------------------------------
# The difficulty registry and the scores of the final dense predictions
# --------------------------------------------------------------------------------------


def test_the_registry_holds_every_score_with_its_direction_and_populations():
    from pieflow.influence.scores import DIFFICULTY_SCORES, IMPORTED, LLM, TRAINED

    expected = {"el2n": ("high", (TRAINED, IMPORTED, LLM)), "grand": ("high", (TRAINED,)),
                "dense_loss": ("high", (TRAINED, IMPORTED, LLM)),
                "dense_agreement": ("low", (TRAINED, IMPORTED, LLM)),
                "modal_confidence": ("low", (TRAINED, IMPORTED, LLM)),
                "choice_margin": ("low", (TRAINED, IMPORTED, LLM)),
                "forgetting_events": ("high", (TRAINED,)),
                "never_learned_share": ("high", (TRAINED,))}
    assert {name: (s.hard, s.exists_for) for name, s in DIFFICULTY_SCORES.items()} == expected
    el2n_score = DIFFICULTY_SCORES["el2n"]  # two computations: early checkpoint, final
    assert el2n_score.computation(TRAINED).source == "early checkpoint"
    assert el2n_score.computation(IMPORTED).source == "final predictions"
    assert DIFFICULTY_SCORES["grand"].computation(IMPORTED) is None


def test_a_score_cannot_be_registered_twice_for_the_same_populations():
    from pieflow.influence.scores import FINAL_PREDICTIONS, TRAINED, register_difficulty

    with pytest.raises(ValueError, match="registered already"):
        register_difficulty("dense_loss", hard="high", exists_for=(TRAINED,),
                            source=FINAL_PREDICTIONS)(lambda final: None)
    with pytest.raises(ValueError, match="hard must be one of"):
        register_difficulty("x", hard="up", exists_for=(TRAINED,), source=FINAL_PREDICTIONS)


def test_final_scores_single_label_by_hand():
    """3 dense members, 2 examples of 3 classes (label 0 and 2)."""
    from prediction_frames import single_label_predictions

    from pieflow.influence.final import final_scores
    from pieflow.influence.scores import TRAINED

    preds = np.array([[0, 1], [0, 2], [1, 2]])
    logits = np.array([[[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
                       [[1.0, 0.0, 0.0], [0.0, 0.0, 3.0]],
                       [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]])
    frame = single_label_predictions(preds, np.array([0, 2]), logits=logits).with_columns(
        pl.Series("loss", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]))
    table = final_scores(frame, LabelKind.SINGLE, (TRAINED,)).sort("example_id")
    assert table["dense_agreement"].to_list() == pytest.approx([2 / 3, 2 / 3])
    assert table["dense_loss"].to_list() == pytest.approx([(0.1 + 0.3 + 0.5) / 3,
                                                           (0.2 + 0.4 + 0.6) / 3])
    softmax = torch.softmax(torch.tensor(logits), dim=2).numpy()
    # modal answers: 0 (two of three) and 2
    assert table["modal_confidence"].to_list() == pytest.approx(
        [softmax[:, 0, 0].mean(), softmax[:, 1, 2].mean()])
    # right choice minus the best wrong one: (2, 1, −1) and (−1, 3, 1)
    assert table["choice_margin"].to_list() == pytest.approx([2 / 3, 1.0])
    assert "el2n" not in table.columns  # at the early checkpoint for trained models


def test_final_scores_of_imported_populations_without_logits_are_null_where_unknown():
    from prediction_frames import multi_label_predictions, single_label_predictions

    from pieflow.imports.difficulty import final_difficulty

    frame = single_label_predictions(np.array([[0, 1], [0, 0]]), np.array([0, 1])).with_columns(
        pl.lit(None, pl.List(pl.Float32)).alias("logits"), pl.lit(None, pl.Float64).alias("loss"))
    table = final_difficulty(frame, LabelKind.SINGLE, 2).sort("example_id")
    assert table["dense_agreement"].to_list() == pytest.approx([1.0, 0.5])
    for column in ("modal_confidence", "choice_margin", "dense_loss"):
        assert table[column].is_null().all(), column
    # multi-label: agreement and confidence per class, averaged; no choice margin
    votes = np.array([[[1, 0]], [[1, 1]], [[0, 0]]])  # 3 members, 1 example, 2 classes
    logits = np.array([[[0.0, 0.0]], [[2.0, 2.0]], [[-2.0, 0.0]]])
    frame = multi_label_predictions(votes, np.array([[1, 0]]), logits=logits).with_columns(
        pl.lit(0.5).alias("loss"))
    row = final_difficulty(frame, LabelKind.MULTI, 2).row(0, named=True)
    assert row["dense_agreement"] == pytest.approx((2 / 3 + 2 / 3) / 2)
    sig = 1 / (1 + np.exp(-logits[:, 0, :]))  # majority votes: class 0 on, class 1 off
    assert row["modal_confidence"] == pytest.approx(
        np.mean([(s[0] + (1 - s[1])) / 2 for s in sig]))
    assert row["choice_margin"] is None


def test_dense_agreement_is_the_pie_tables_dense_agreement():
    """The influence stage and the diff compute the dense population's agreement from
    the same population matrices: equal for every example, ties included."""
    from prediction_frames import find_pies, single_label_predictions

    from pieflow.influence.final import final_scores
    from pieflow.influence.scores import TRAINED

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, size=40)
    dense = single_label_predictions(rng.integers(0, 3, size=(6, 40)), labels)
    pruned = single_label_predictions(rng.integers(0, 3, size=(6, 40)), labels)
    pies = find_pies(dense, pruned, LabelKind.SINGLE, 3).sort("example_id")
    scores = final_scores(dense.with_columns(pl.lit(0.0).alias("loss")), LabelKind.SINGLE,
                          (TRAINED,)).sort("example_id")
    assert scores["dense_agreement"].to_list() == pies["dense_agreement"].to_list()


def test_a_new_difficulty_score_is_one_function_and_one_entry():
    """The Extending recipe: a registered function of the final predictions becomes a
    column of every influence file of the populations it exists for."""
    from prediction_frames import single_label_predictions

    from pieflow.imports.difficulty import final_difficulty
    from pieflow.influence.scores import (
        FINAL_PREDICTIONS,
        IMPORTED,
        register_difficulty,
        unregister_difficulty,
    )

    @register_difficulty("wrong_share", hard="high", exists_for=(IMPORTED,),
                         source=FINAL_PREDICTIONS)
    def wrong_share(final):
        """Share of the dense members that are wrong."""
        return ~final.correct

    try:
        frame = single_label_predictions(np.array([[0, 1], [1, 1]]), np.array([0, 1]))
        frame = frame.with_columns(pl.lit(None, pl.List(pl.Float32)).alias("logits"),
                                   pl.lit(None, pl.Float64).alias("loss"))
        table = final_difficulty(frame, LabelKind.SINGLE, 2).sort("example_id")
        assert table["wrong_share"].to_list() == [0.5, 0.0]
    finally:
        unregister_difficulty("wrong_share")
