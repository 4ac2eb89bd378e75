"""The training curve: validation accuracy and training loss per epoch, over seeds."""

from __future__ import annotations

import matplotlib.pyplot as plt
import polars as pl
from matplotlib.figure import Figure

from pieflow.analysis.plots.common import (
    CONTROL_COLOR,
    CONTROL_LABEL,
    empty_figure,
    legend_with_flags,
    panel_of,
    panels,
    titled,
)
from pieflow.layout import CONTROL, DENSE

DENSE_COLOR = "#1f77b4"
STYLES = {DENSE: dict(color=DENSE_COLOR, linestyle="-", label="dense"),
          CONTROL: dict(color=CONTROL_COLOR, linestyle="-.", label=CONTROL_LABEL)}


def _verdict(panel: pl.DataFrame) -> str:
    dense = panel.filter(pl.col("method") == DENSE)
    if dense.is_empty() or dense["converged"].is_null().all():
        return "plateau not judged (one epoch or no validation)"
    gain = dense["last_epoch_gain"][0] * 100
    if dense["converged"][0]:
        return f"dense at a plateau (last epoch {gain:+.1f} pts)"
    return f"dense STILL IMPROVING (last epoch {gain:+.1f} pts)"


def plot_training_curves(curves: pl.DataFrame) -> Figure:
    """One row per dataset · model: validation accuracy (mean, min–max band over seeds,
    the majority-class share as a floor) and training loss against the epoch, for the
    dense population and the control that continues it."""
    if curves.is_empty():
        return empty_figure("Training curves", "no trained populations")
    pairs = panels(curves)
    figure, grid = plt.subplots(len(pairs), 2, figsize=(10.5, 3.4 * len(pairs)),
                                squeeze=False)
    for (dataset, model), (acc_ax, loss_ax) in zip(pairs, grid, strict=True):
        panel = panel_of(curves, dataset, model)
        for method in (DENSE, CONTROL):
            line = _with_join_point(panel, method)
            if line.is_empty():
                continue
            style = STYLES[method]
            epochs = line["epoch"].to_numpy()
            if line["val_accuracy_mean"].is_not_null().any():
                acc_ax.plot(epochs, line["val_accuracy_mean"].to_numpy() * 100,
                            marker="o", markersize=4, **style)
                acc_ax.fill_between(epochs, line["val_accuracy_min"].to_numpy() * 100,
                                    line["val_accuracy_max"].to_numpy() * 100,
                                    color=style["color"], alpha=0.18)
            loss_ax.plot(epochs, line["train_loss_mean"].to_numpy(), marker="o",
                         markersize=4, **style)
        majority = panel["majority_share"].drop_nulls()
        if len(majority):
            acc_ax.axhline(majority[0] * 100, color="black", linestyle=":", linewidth=1.2,
                           label="majority class (validation)")
        seeds = panel.filter(pl.col("method") == DENSE)["seeds"].max()
        acc_ax.set_title(f"{dataset} · {model}: {_verdict(panel)}", fontsize=10)
        acc_ax.set_ylabel("validation accuracy (%)")
        loss_ax.set_title(f"training loss ({seeds} dense seeds)", fontsize=10)
        loss_ax.set_ylabel("mean training loss")
        for ax in (acc_ax, loss_ax):
            ax.set_xlabel("epoch")
            ax.xaxis.get_major_locator().set_params(integer=True)
    legend_with_flags(figure, [ax for row in grid for ax in row], flags=False)
    figure.tight_layout()
    return titled(figure, "Training curves: have the dense populations converged? "
                          "(mean over seeds, band: min–max)")


def _with_join_point(panel: pl.DataFrame, method: str) -> pl.DataFrame:
    """The population's rows by epoch; a control's line starts at the dense population's
    last epoch, so the curve reads as one continued run."""
    line = panel.filter(pl.col("method") == method).sort("epoch")
    if method == DENSE or line.is_empty():
        return line
    dense = panel.filter(pl.col("method") == DENSE).sort("epoch")
    return pl.concat([dense.tail(1), line], how="vertical_relaxed") if dense.height else line
