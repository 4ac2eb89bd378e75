"""Class figures: per-class accuracy by population, and which classes become PIEs.

Datasets of generated answers have no class list and no rows in the class tables; a
figure names them (``skipped``) instead of leaving them out silently.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import polars as pl
import seaborn as sns
from matplotlib.figure import Figure

from pieflow.analysis.plots.common import (
    COLLAPSED_COLOR,
    UNDERTRAINED_COLOR,
    cell_label,
    collapsed_rows,
    control_rows,
    empty_figure,
    panel_of,
    panels,
    titled,
    undertrained_rows,
)
from pieflow.analysis.plots.heatmap import heatmap_panels

NOT_APPLICABLE = "per-class figures do not apply to free-text answers (no fixed class list)"


def _with_note(figure: Figure, skipped: Sequence[str]) -> Figure:
    """The figure's title with the datasets it leaves out (generated answers) below it."""
    if skipped:
        titled(figure, f"{figure.get_suptitle()}\nleft out: {', '.join(skipped)} "
                       f"({NOT_APPLICABLE})")
    return figure


def _nothing(title: str, split: str, skipped: Sequence[str]) -> Figure:
    if skipped:
        return empty_figure(title, f"{NOT_APPLICABLE[0].upper()}{NOT_APPLICABLE[1:]}: "
                                   f"{', '.join(skipped)}")
    return empty_figure(title, f"no {split} results")


def plot_class_accuracy(table: pl.DataFrame, split: str = "test",
                        skipped: Sequence[str] = ()) -> Figure:
    """Heatmap: per-class score (mean over seeds) by population, classes by frequency.
    ``skipped``: datasets of generated answers (no classes), named in the figure."""
    data = table.filter(pl.col("split") == split) if "split" in table.columns else table
    if data.is_empty():
        return _nothing("Per-class accuracy", split, skipped)
    data = data.with_columns(
        (pl.col("score_mean") * 100).alias("percent"),
        (pl.col("class_name") + " (" + (pl.col("train_share") * 100).round(1)
         .cast(pl.String) + "% of train)").alias("row_label"))

    def measure(panel: pl.DataFrame) -> str:
        names = {"accuracy": "accuracy on the class (recall)", "f1": "F1 of the class"}
        return " / ".join(names.get(m, m) for m in sorted(panel["measure"].unique()))

    return _with_note(heatmap_panels(
        data, "class_rank", "row_label", "percent",
        f"Per-class accuracy by population ({split} split, % mean over seeds)\n"
        "rows: classes from most to least frequent in training",
        "per-class score (%)",
        lambda r: "" if r["percent"] is None else f"{r['percent']:.0f}",
        cmap="rocket", vmin=0, vmax=100, row_axis_label="class (by training frequency)",
        panel_note=measure), skipped)


def _cell_list(cells: pl.DataFrame) -> str:
    return ", ".join(cells.sort(["method", "sparsity"]).select(cell_label()).to_series())


def plot_pie_classes(table: pl.DataFrame, split: str = "test",
                     skipped: Sequence[str] = ()) -> Figure:
    """Bars: each class's share of all examples vs. of the PIEs, per sparsity.

    PIE shares are averaged over the methods of a sparsity (whiskers: their range), the
    control's changed answers are a group of their own; collapsed cells are left out and
    listed in the panel title, undertrained ones kept and listed. ``skipped``: datasets
    of generated answers (no classes), named in the figure.
    """
    data = table.filter(pl.col("split") == split) if "split" in table.columns else table
    if data.is_empty():
        return _nothing("PIE classes", split, skipped)
    pairs = panels(data)
    width = min(28.0, max(7.0, 0.55 * data["class"].n_unique() * 2 + 3))
    figure, axes = plt.subplots(len(pairs), 1, figsize=(width, 3.8 * len(pairs)),
                                squeeze=False)
    for (dataset, model), ax in zip(pairs, axes[:, 0], strict=True):
        panel = panel_of(data, dataset, model)
        classes = panel.select("class_rank", "class_name").unique().sort("class_rank")
        order = classes["class_name"].to_list()
        kept = panel.filter(~collapsed_rows(panel))
        left_out = panel.filter(collapsed_rows(panel)).select("method", "sparsity").unique()
        data_bars = panel.unique(["class"]).select(
            "class_name", pl.lit("all examples").alias("group"),
            (pl.col("class_share") * 100).alias("percent"))
        pie_bars = kept.filter(pl.col("pie_share").is_not_null()).select(
            "class_name", pl.when(control_rows()).then(pl.lit("changed by the control"))
            .otherwise(pl.lit("PIEs at ") + pl.col("sparsity").cast(pl.String)
                       + pl.lit("% sparsity")).alias("group"),
            (pl.col("pie_share") * 100).alias("percent"),
            # the control (sparsity 0) right after the data's bars
            pl.when(control_rows()).then(-1).otherwise(pl.col("sparsity")).alias("sparsity"))
        groups = ["all examples", *dict.fromkeys(pie_bars.sort("sparsity")["group"].to_list())]
        long = pl.concat([data_bars, pie_bars.drop("sparsity")]).to_pandas()
        colours = ["#7f7f7f", *sns.color_palette("flare", max(len(groups) - 1, 1))]
        sns.barplot(long, x="class_name", y="percent", hue="group", order=order,
                    hue_order=groups, palette=colours[:len(groups)],
                    errorbar=("pi", 100), capsize=0.1, ax=ax)
        undertrained = kept.filter(undertrained_rows(kept)).select("method", "sparsity"
                                                                   ).unique()
        note = ""
        if left_out.height:
            note += (f"\n{left_out.height} collapsed cell(s) left out: "
                     f"{_cell_list(left_out)}")
        if undertrained.height:
            note += f"\nundertrained (kept): {_cell_list(undertrained)}"
        colour = (COLLAPSED_COLOR if left_out.height
                  else UNDERTRAINED_COLOR if undertrained.height else "black")
        ax.set_title(f"{dataset} · {model}{note}", fontsize=10, color=colour)
        ax.set_xlabel("class (most to least frequent in training data)")
        ax.set_ylabel("share carrying the class (%)")
        ax.tick_params(axis="x", rotation=45 if len(order) > 8 else 0)
        ax.legend(title="", fontsize=8)
    figure.tight_layout()
    return _with_note(titled(figure, f"Which classes become PIEs? Class shares among all "
                                     f"{split} examples vs. among PIEs (mean over methods; "
                                     "whiskers: range)"), skipped)
