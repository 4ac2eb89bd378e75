"""What every figure shares: the theme, one panel per dataset · model, the marks of
flagged cells (collapsed: red ✕, undertrained: amber ◆), the control's reference line,
the title. Figures are returned, never saved: the analysis job writes them."""

from __future__ import annotations

import matplotlib.pyplot as plt
import polars as pl
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pieflow.analysis.flags import FLAGS
from pieflow.layout import CONTROL, DENSE

sns.set_theme(style="whitegrid", context="notebook")

COLLAPSED_COLOR = "#c0392b"
COLLAPSED_MARKER = dict(marker="X", s=90, color=COLLAPSED_COLOR, zorder=5,
                        edgecolors="white", linewidths=0.6)
UNDERTRAINED_COLOR = "#e69f00"
UNDERTRAINED_MARKER = dict(marker="D", s=60, facecolors="none", edgecolors=UNDERTRAINED_COLOR,
                           linewidths=1.8, zorder=6)
CONTROL_COLOR = "#555555"
CONTROL_LABEL = "control (same training budget, unpruned)"


def titled(figure: Figure, title: str) -> Figure:
    """``figure`` with its title above every panel."""
    figure.suptitle(title, y=1.0, va="bottom", fontsize=13)
    return figure


def empty_figure(title: str, message: str) -> Figure:
    """A figure saying why there is nothing to show, so the report keeps its entry."""
    figure, ax = plt.subplots(figsize=(6, 2))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    return titled(figure, title)


def collapsed_rows(frame: pl.DataFrame) -> pl.Expr:
    """True on rows of collapsed cells (false when the table has no flag)."""
    return _flagged(frame, "collapsed")


def undertrained_rows(frame: pl.DataFrame) -> pl.Expr:
    """True on rows of undertrained cells (false when the table has no flag)."""
    return _flagged(frame, "undertrained")


def _flagged(frame: pl.DataFrame, flag: str) -> pl.Expr:
    if flag not in frame.columns:
        return pl.lit(False)
    return pl.col(flag).fill_null(False)


def control_rows() -> pl.Expr:
    return pl.col("method") == CONTROL


def mark_flagged_points(ax: Axes, panel: pl.DataFrame, x: str, y: str,
                        scale: float = 100.0) -> None:
    """A red ✕ on collapsed and an amber ◆ around undertrained points of ``panel``."""
    for rows, marker in ((collapsed_rows(panel), COLLAPSED_MARKER),
                         (undertrained_rows(panel), UNDERTRAINED_MARKER)):
        flagged = panel.filter(rows)
        if flagged.height:
            ax.scatter(flagged[x], flagged[y] * scale, **marker)


def control_line(ax: Axes, panel: pl.DataFrame, y: str, scale: float = 100.0) -> None:
    """The control population as a horizontal reference: it has no sparsity axis."""
    control = panel.filter(control_rows())
    if control.height:
        value = control[y].mean() * scale
        undertrained = control.select(undertrained_rows(control).any()).item()
        # amber when flagged: the control beats the dense models by more than seed noise
        ax.axhline(value, color=UNDERTRAINED_COLOR if undertrained else CONTROL_COLOR,
                   linestyle="-.", linewidth=1.4,
                   label=CONTROL_LABEL + (", undertrained" if undertrained else ""))


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


def flag_handles() -> list[Line2D]:
    return [Line2D([], [], linestyle="", marker="X", markersize=9, color=COLLAPSED_COLOR,
                   label="collapsed cell (≈ majority-class accuracy)"),
            Line2D([], [], linestyle="", marker="D", markersize=7, markerfacecolor="none",
                   markeredgecolor=UNDERTRAINED_COLOR, markeredgewidth=1.8,
                   label="undertrained (beats dense by > dense seeds' std)")]


def legend_with_flags(figure: Figure, axes: list[Axes], title: str | None = None,
                      flags: bool = True) -> None:
    """The figure's legend: the lines of every panel (once each) and, unless ``flags`` is
    false (a figure of no cells that could be flagged), the flag marks."""
    entries: dict[str, object] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    for handle in flag_handles() if flags else []:
        entries[handle.get_label()] = handle
    figure.legend(list(entries.values()), list(entries), loc="center left",
                  bbox_to_anchor=(1.0, 0.5), title=title)


def method_palette(methods: list[str]) -> dict[str, tuple]:
    colours = sns.color_palette("tab10", max(len(methods), 1))
    return dict(zip(methods, colours, strict=False))


def cell_label() -> pl.Expr:
    """A population's name in figures: "dense", "control" or "<method> <sparsity>%"."""
    return (pl.when(pl.col("method").is_in([DENSE, CONTROL])).then(pl.col("method"))
            .otherwise(pl.col("method") + " " + pl.col("sparsity").cast(pl.String) + "%"))


def cell_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per (method, sparsity) with its column label: dense, control, then pruned."""
    cells = frame.select("method", "sparsity", collapsed_rows(frame).alias("collapsed"),
                         undertrained_rows(frame).alias("undertrained")
                         ).group_by("method", "sparsity").agg(pl.col(*FLAGS).any())
    cells = cells.with_columns(
        pl.col("method").replace_strict({DENSE: 0, CONTROL: 1}, default=2).alias("_order"),
        cell_label().alias("column"))
    return cells.with_columns(
        pl.when(pl.col("collapsed")).then(pl.col("column") + "\n(collapsed)")
        .when(pl.col("undertrained")).then(pl.col("column") + "\n(undertrained)")
        .otherwise(pl.col("column")).alias("column")).sort(["_order", "method", "sparsity"])


def mark_flagged_ticks(ax: Axes, cells: pl.DataFrame) -> None:
    """Bold x tick labels for flagged columns of ``cell_columns``: red if collapsed,
    amber if undertrained."""
    flags = zip(cells["collapsed"].to_list(), cells["undertrained"].to_list(), strict=True)
    for tick, (collapsed, undertrained) in zip(ax.get_xticklabels(), flags, strict=True):
        if collapsed or undertrained:
            tick.set_color(COLLAPSED_COLOR if collapsed else UNDERTRAINED_COLOR)
            tick.set_fontweight("bold")
