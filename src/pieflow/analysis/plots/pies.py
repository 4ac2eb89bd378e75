"""PIE figures: how many PIEs per sparsity, where the accuracy goes, and the loss change
by EL2N difficulty."""

from __future__ import annotations

import matplotlib.pyplot as plt
import polars as pl
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from pieflow.analysis.pies import EARLY_CHECKPOINT
from pieflow.analysis.plots.common import (
    COLLAPSED_COLOR,
    UNDERTRAINED_COLOR,
    cell_columns,
    cell_label,
    collapsed_rows,
    column_of_panels,
    control_line,
    control_rows,
    empty_figure,
    legend_with_flags,
    mark_flagged_points,
    mark_flagged_ticks,
    method_palette,
    panel_of,
    panels,
    titled,
    undertrained_rows,
)


def plot_pie_share(table: pl.DataFrame, split: str = "test") -> Figure:
    """Share of examples that are PIEs against sparsity, one line per method; the
    control's share of changed answers (extra training alone) as a reference line."""
    data = table.filter(pl.col("split") == split)
    if data.is_empty():
        return empty_figure(f"PIEs on the {split} split", f"no {split} results")
    pairs = panels(data)
    methods = sorted(data.filter(~control_rows()).get_column("method").unique().to_list())
    palette = method_palette(methods)
    figure, axes = column_of_panels(len(pairs))
    for (dataset, model), ax in zip(pairs, axes, strict=True):
        panel = panel_of(data, dataset, model)
        for method in methods:
            line = panel.filter(pl.col("method") == method).sort("sparsity")
            if line.height:
                ax.plot(line["sparsity"], line["pie_share"] * 100, marker="o",
                        color=palette[method], label=method)
        mark_flagged_points(ax, panel.filter(~control_rows()), "sparsity", "pie_share")
        control_line(ax, panel, "pie_share")
        ax.set_title(f"{dataset} · {model}")
        ax.set_xlabel("sparsity (% of prunable weights)")
        ax.set_ylabel("PIEs (% of examples)")
        ax.set_ylim(bottom=0)
    legend_with_flags(figure, axes, title="method")
    figure.tight_layout()
    return titled(figure, f"PIEs on the {split} split by sparsity (all seeds vs. all "
                          "seeds)")


def plot_pie_accuracy(table: pl.DataFrame, split: str = "test") -> Figure:
    """Dense (●) → pruned (▼) accuracy on PIEs, non-PIEs and all examples, per cell."""
    data = table.filter(pl.col("split") == split)
    if data.is_empty():
        return empty_figure("Accuracy on PIEs", f"no {split} results")
    pairs = panels(data)
    subsets = {"on_pies": "PIEs", "on_non_pies": "non-PIEs", "on_all": "all examples"}
    colours = dict(zip(subsets, sns.color_palette("deep", 3), strict=True))
    offsets = dict(zip(subsets, (-0.22, 0.0, 0.22), strict=True))
    n_cells = max(cell_columns(panel_of(data, d, m)).height for d, m in pairs)
    figure, axes = plt.subplots(len(pairs), 1, figsize=(max(6.0, 1.3 * n_cells + 2.5),
                                                        3.6 * len(pairs)), squeeze=False)
    for (dataset, model), ax in zip(pairs, axes[:, 0], strict=True):
        panel = panel_of(data, dataset, model)
        cells = cell_columns(panel)
        panel = panel.join(cells.select("method", "sparsity").with_row_index("x"),
                           on=["method", "sparsity"])
        x = panel["x"].to_numpy().astype(float)
        for subset in subsets:
            dense = panel[f"dense_accuracy_{subset}"].to_numpy() * 100
            pruned = panel[f"pruned_accuracy_{subset}"].to_numpy() * 100
            where = x + offsets[subset]
            ax.vlines(where, dense, pruned, color=colours[subset], linewidth=2)
            ax.scatter(where, dense, marker="o", s=40, color=colours[subset], zorder=3)
            ax.scatter(where, pruned, marker="v", s=55, color=colours[subset], zorder=3,
                       edgecolors="black", linewidths=0.5)
        ax.set_xticks(range(cells.height), cells["column"].to_list())
        mark_flagged_ticks(ax, cells)
        ax.set_xlim(-0.6, cells.height - 0.4)
        ax.set_ylim(-3, 103)
        ax.set_title(f"{dataset} · {model}")
        ax.set_xlabel("cell (method, sparsity; control: extra training, unpruned)")
        ax.set_ylabel(f"{split} accuracy (%, mean over seeds)")
    handles = [Line2D([], [], color=colour, linewidth=2, label=subsets[subset])
               for subset, colour in colours.items()]
    handles += [Line2D([], [], linestyle="", marker="o", color="grey", label="dense population"),
                Line2D([], [], linestyle="", marker="v", color="grey", markeredgecolor="black",
                       label="pruned population")]
    figure.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5),
                  title="examples / population")
    figure.tight_layout()
    return titled(figure, "Where the accuracy goes: dense (●) → pruned (▼) accuracy on "
                          f"PIEs, non-PIEs and all {split} examples")


def plot_el2n_bins(table: pl.DataFrame, split: str = "test") -> Figure:
    """Mean (pruned − dense) loss per EL2N bin (± standard error), one line per cell."""
    data = table.filter(pl.col("split") == split)
    if data.is_empty():
        return empty_figure("Loss by EL2N", f"no {split} results")
    data = data.with_columns(
        (cell_label()
         + pl.when(collapsed_rows(data)).then(pl.lit(" (collapsed)"))
         .when(undertrained_rows(data)).then(pl.lit(" (undertrained)")).otherwise(pl.lit(""))
         ).alias("cell")).sort(["method", "sparsity", "el2n_bin"])
    pairs = panels(data)
    figure, axes = column_of_panels(len(pairs), width=6.0, height=3.6)
    for (dataset, model), ax in zip(pairs, axes, strict=True):
        panel = panel_of(data, dataset, model)
        cells = panel.select("cell", "method", "sparsity").unique().sort(
            ["method", "sparsity"])["cell"].to_list()
        colours = sns.color_palette("viridis", len(cells))
        for colour, cell in zip(colours, cells, strict=True):
            line = panel.filter(pl.col("cell") == cell)
            flagged = {"(collapsed)": COLLAPSED_COLOR, "(undertrained)": UNDERTRAINED_COLOR}
            flag = next((f for f in flagged if cell.endswith(f)), None)
            ax.errorbar(line["el2n_bin"], line["loss_diff_mean"],
                        yerr=line["loss_diff_se"].fill_null(0), marker=".", capsize=2,
                        color=flagged.get(flag, colour),
                        linestyle=":" if flag else "-", label=cell)
        ax.axhline(0, color="grey", linewidth=0.8)
        if panel["loss_diff_mean"].is_null().all():  # imported without logits
            ax.text(0.5, 0.5, "no losses: the predictions carry no logits",
                    transform=ax.transAxes, ha="center", color="grey")
        ax.set_xticks(range(0, int(panel["el2n_bin"].max()) + 1, 2))
        source = (panel["difficulty_source"][0] if "difficulty_source" in panel.columns
                  else EARLY_CHECKPOINT)
        ax.set_title(f"{dataset} · {model}" + (
            "" if source == EARLY_CHECKPOINT else f" (difficulty: {source})"))
        ax.set_xlabel("EL2N bin (20 equal-frequency bins; 0 = easiest)")
        ax.set_ylabel("pruned − dense loss (nats)")
        ax.legend(title="cell", fontsize=8, loc="upper left")
    figure.tight_layout()
    return titled(figure, f"Where pruning costs loss: {split} examples by EL2N "
                          "difficulty (± standard error)")
