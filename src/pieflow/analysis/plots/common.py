"""What every figure shares: the theme, one panel per dataset · model, the collapsed-cell
marks, saving."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import polars as pl
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pieflow.layout import DENSE

sns.set_theme(style="whitegrid", context="notebook")

COLLAPSED_COLOR = "#c0392b"
COLLAPSED_MARKER = dict(marker="X", s=90, color=COLLAPSED_COLOR, zorder=5,
                        edgecolors="white", linewidths=0.6)


def save_figure(figure: Figure, path: str | Path, title: str) -> None:
    figure.suptitle(title, y=1.0, va="bottom", fontsize=13)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)


def empty_figure(path: str | Path, title: str, message: str) -> None:
    """A figure saying why there is nothing to show, so the report keeps its entry."""
    figure, ax = plt.subplots(figsize=(6, 2))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    save_figure(figure, path, title)


def collapsed_rows(frame: pl.DataFrame) -> pl.Expr:
    """True on rows of collapsed cells (false when the table has no flag)."""
    if "collapsed" not in frame.columns:
        return pl.lit(False)
    return pl.col("collapsed").fill_null(False)


def panels(frame: pl.DataFrame) -> list[tuple[str, str]]:
    """The (dataset, model) pairs of a table, one panel each."""
    return frame.select("dataset", "model").unique().sort(["dataset", "model"]).rows()


def panel_of(frame: pl.DataFrame, dataset: str, model: str) -> pl.DataFrame:
    return frame.filter((pl.col("dataset") == dataset) & (pl.col("model") == model))


def column_of_panels(n_panels: int, width: float = 4.6, height: float = 3.4
                     ) -> tuple[Figure, list[Axes]]:
    """A figure with one row per panel."""
    figure, axes = plt.subplots(n_panels, 1, figsize=(width, height * n_panels),
                                squeeze=False)
    return figure, list(axes[:, 0])


def collapsed_handle() -> Line2D:
    return Line2D([], [], linestyle="", marker="X", markersize=9, color=COLLAPSED_COLOR,
                  label="collapsed cell (≈ majority-class accuracy)")


def legend_with_collapsed(figure: Figure, ax: Axes, title: str | None = None) -> None:
    """The figure's legend: the lines of ``ax`` and the collapsed-cell mark."""
    handles, labels = ax.get_legend_handles_labels()
    figure.legend([*handles, collapsed_handle()], [*labels, collapsed_handle().get_label()],
                  loc="center left", bbox_to_anchor=(1.0, 0.5), title=title)


def method_palette(methods: list[str]) -> dict[str, tuple]:
    colours = sns.color_palette("tab10", max(len(methods), 1))
    return dict(zip(methods, colours, strict=False))


def cell_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per (method, sparsity) with its column label, dense first."""
    cells = frame.select("method", "sparsity", collapsed_rows(frame).alias("collapsed")
                         ).group_by("method", "sparsity").agg(pl.col("collapsed").any())
    cells = cells.with_columns(
        (pl.col("method") != DENSE).alias("_pruned"),
        pl.when(pl.col("method") == DENSE).then(pl.lit("dense"))
        .otherwise(pl.col("method") + " " + pl.col("sparsity").cast(pl.String) + "%")
        .alias("column"))
    return cells.with_columns(
        pl.when(pl.col("collapsed")).then(pl.col("column") + "\n(collapsed)")
        .otherwise(pl.col("column")).alias("column")).sort(["_pruned", "method", "sparsity"])


def mark_collapsed_ticks(ax: Axes, collapsed: list[bool]) -> None:
    """Red, bold x tick labels for the columns of collapsed cells."""
    for tick, flag in zip(ax.get_xticklabels(), collapsed, strict=True):
        if flag:
            tick.set_color(COLLAPSED_COLOR)
            tick.set_fontweight("bold")
