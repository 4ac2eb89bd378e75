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
