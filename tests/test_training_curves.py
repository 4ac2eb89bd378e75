"""The training-curve table and figure (rule summarise_training): numbers by hand."""

from __future__ import annotations

import matplotlib.pyplot as plt
import polars as pl
import pytest
from matplotlib.figure import Figure

from pieflow.analysis.job import summarise_training_job
from pieflow.analysis.plots.training import plot_training_curves
from pieflow.analysis.training import (
    convergence_notes,
    majority_shares,
    training_curves,
    training_table,
)


def _history(method: str, seed: int, accuracies: list[float], first_epoch: int = 1,
             model: str = "m") -> pl.DataFrame:
    epochs = list(range(first_epoch, first_epoch + len(accuracies)))
    return pl.DataFrame({
        "dataset": "d", "model": model, "method": method, "seed": seed, "epoch": epochs,
        "steps": [10 * e for e in epochs], "train_loss": [1.0 / e for e in epochs],
        "val_accuracy": accuracies, "val_loss": [1.0 - a for a in accuracies]})


def test_means_over_seeds_and_a_plateau_within_seed_noise():
    # dense: epoch 3 gains 0.005 over epoch 2's mean 0.70; seeds' std at epoch 3 is 0.05
    histories = pl.concat([_history("dense", 0, [0.50, 0.70, 0.655]),
                           _history("dense", 1, [0.60, 0.70, 0.755])])
    curves = training_curves(histories)
    assert curves["epoch"].to_list() == [1, 2, 3]
    assert curves["seeds"].to_list() == [2, 2, 2]
    assert curves["val_accuracy_mean"].to_list() == pytest.approx([0.55, 0.70, 0.705])
    assert curves["val_accuracy_min"].to_list() == pytest.approx([0.50, 0.70, 0.655])
    assert curves["val_accuracy_max"].to_list() == pytest.approx([0.60, 0.70, 0.755])
    assert curves["train_loss_mean"].to_list() == pytest.approx([1.0, 0.5, 1 / 3])
    assert curves["last_epoch_gain"][0] == pytest.approx(0.005)
    assert curves["last_epoch_std"][0] == pytest.approx(0.1 / 2 ** 0.5)
    assert curves["converged"].to_list() == [True] * 3


def test_still_rising_beyond_seed_noise_is_not_converged():
    histories = pl.concat([_history("dense", 0, [0.50, 0.60, 0.70]),
                           _history("dense", 1, [0.51, 0.61, 0.71])])
    curves = training_curves(histories)
    assert curves["last_epoch_gain"][0] == pytest.approx(0.10)
    assert not curves["converged"][0]


def test_a_fall_at_the_last_epoch_counts_as_a_plateau():
    curves = training_curves(pl.concat([_history("dense", s, [0.6, 0.7, 0.65])
                                        for s in range(3)]))
    assert curves["last_epoch_gain"][0] == pytest.approx(-0.05)
    assert curves["converged"][0]


def test_one_epoch_or_no_validation_is_not_judged():
    one = training_curves(pl.concat([_history("dense", s, [0.6]) for s in range(2)]))
    assert one["converged"].to_list() == [None]
    unmeasured = pl.concat([_history("dense", s, [0.6, 0.7]) for s in range(2)]).drop(
        "val_accuracy", "val_loss")
    curves = training_curves(unmeasured)
    assert curves["converged"].to_list() == [None, None]
    assert curves["val_accuracy_mean"].to_list() == [None, None]
    assert curves["train_loss_mean"].to_list() == pytest.approx([1.0, 0.5])


def test_the_control_keeps_only_its_own_epochs_and_is_judged_on_them():
    # a control history repeats its dense seed's epochs 1-2, then trains epochs 3-6
    dense = [_history("dense", s, [0.5, 0.6]) for s in range(2)]
    control = [pl.concat([_history("control", s, [0.5, 0.6]),
                          _history("control", s, [0.62, 0.66, 0.70, 0.74], first_epoch=3)])
               for s in range(2)]
    curves = training_curves(pl.concat(dense + control))
    by_method = dict(curves.group_by("method").agg(pl.col("epoch")).iter_rows())
    assert sorted(by_method["dense"]) == [1, 2]
    assert sorted(by_method["control"]) == [3, 4, 5, 6]
    judged = dict(curves.select("method", "converged").unique().iter_rows())
    assert judged == {"dense": False, "control": False}  # both still rising


def test_majority_share_per_dataset():
    shares = majority_shares({"a": pl.Series([0, 1, 1, 2]), "b": pl.Series([3, 3])})
    assert dict(shares.iter_rows()) == {"a": 0.5, "b": 1.0}


HISTORY_COLUMNS = ["epoch", "steps", "train_loss", "val_accuracy", "val_loss", "seed"]


def test_training_table_takes_the_keys_from_the_rule_and_adds_the_majority_floor():
    # both files say seed 7: the rule's keys name the seeds, and the models
    histories = [_history("dense", 7, [0.6, 0.7, 0.65]).select(HISTORY_COLUMNS)
                 for _ in range(3)] + [_history("dense", 7, [0.6]).select(HISTORY_COLUMNS)]
    seeds = [{"dataset": "d", "model": "m", "method": "dense", "seed": s} for s in range(3)]
    seeds.append({"dataset": "d", "model": "n", "method": "dense", "seed": 0})
    table = training_table(histories, seeds, {"d": pl.Series([0, 0, 1])})
    assert table.filter(pl.col("model") == "m")["seeds"].to_list() == [3, 3, 3]
    assert table["majority_share"].to_list() == pytest.approx([2 / 3] * 4)
    assert training_table(histories, seeds, {})["majority_share"].null_count() == 4
    assert training_table([], [], {}).is_empty()
    assert convergence_notes(table) == [
        "d · m: dense at a plateau (last epoch gain -5.0 pts)",
        "d · n: dense not judged (last epoch gain n/a)"]
    assert convergence_notes(pl.DataFrame()) == []

    figure = plot_training_curves(table)
    assert isinstance(figure, Figure)
    assert figure.get_suptitle().startswith("Training curves: have the dense populations")
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[0] == "d · m: dense at a plateau (last epoch -5.0 pts)"
    assert titles[2].startswith("d · n: plateau not judged")
    assert figure.axes[1].get_ylabel() == "mean training loss"
    plt.close(figure)


def test_job_writes_table_view_and_figure(tmp_path):
    paths, seeds = [], []
    for method, model in [("dense", "m"), ("dense", "n"), ("control", "m")]:
        for seed in range(3):
            frame = (_history(method, seed, [0.5 + 0.01 * seed, 0.6, 0.62], model=model)
                     if method == "dense" else
                     _history(method, seed, [0.5, 0.6, 0.62, 0.63, 0.63], model=model))
            path = tmp_path / f"{method}-{model}-{seed}.parquet"
            frame.select("epoch", "steps", "train_loss", "val_accuracy", "val_loss",
                         "seed").write_parquet(path)
            paths.append(str(path))
            seeds.append({"dataset": "d", "model": model, "method": method, "seed": seed})
    validation = tmp_path / "validation.parquet"
    pl.DataFrame({"label": [0, 0, 0, 1, 2]}).write_parquet(validation)
    meta = tmp_path / "meta.json"
    meta.write_text('{"label_kind": "single"}')
    outputs = {"table": str(tmp_path / "training.parquet"),
               "table_view": str(tmp_path / "training.html"),
               "figure": str(tmp_path / "training_curve.png")}
    summarise_training_job(paths, seeds, [str(validation)], [str(meta)], ["d"], outputs)
    table = pl.read_parquet(outputs["table"])
    assert table.select("model", "method").unique().height == 3
    assert table["majority_share"].unique().to_list() == [0.6]
    control = table.filter(pl.col("method") == "control")
    assert control["epoch"].to_list() == [4, 5]
    assert "Training curves" in (tmp_path / "training.html").read_text()
    assert (tmp_path / "training_curve.png").stat().st_size > 10_000
