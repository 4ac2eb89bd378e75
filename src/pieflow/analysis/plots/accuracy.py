"""Accuracy against sparsity: does a cell keep its accuracy, or collapse?"""

from __future__ import annotations

import polars as pl
from matplotlib.figure import Figure

from pieflow.analysis.plots.common import (
    column_of_panels,
    control_line,
    control_rows,
    empty_figure,
    legend_with_flags,
    mark_flagged_points,
    method_palette,
    panel_of,
    panels,
    titled,
)
from pieflow.layout import DENSE


def _with_dense_at_each_method(table: pl.DataFrame) -> pl.DataFrame:
    """Repeat the dense row (sparsity 0) under every pruning method so each line starts
    there; the control has no sparsity axis and is drawn as a reference line instead."""
    dense = table.filter(pl.col("method") == DENSE)
    pruned = table.filter((pl.col("method") != DENSE) & ~control_rows())
    methods = pruned.select("method").unique()
    return pl.concat([pruned, dense.drop("method").join(methods, how="cross")
                      .select(pruned.columns)]).sort(["method", "sparsity"])


def _label(line: pl.DataFrame, method: str) -> str:
    """The legend entry: the method and, where the table has it, its kind of compression
    (pruning during training, post-training pruning, quantization, …)."""
    if "compression" not in line.columns:
        return method
    kinds = line.get_column("compression").drop_nulls().filter(
        ~line.get_column("compression").drop_nulls().str.starts_with("none"))  # dense rows
    return f"{method} ({kinds[0]})" if kinds.len() else method


def plot_accuracy(table: pl.DataFrame, split: str = "test") -> Figure:
    """Accuracy (mean ± std over seeds) against sparsity, one line per method.

    Dotted: the majority-class share (a model answering one class); dash-dotted: the
    training-budget control; red ✕: collapsed; amber ◆: undertrained.
    """
    data = table.filter(pl.col("split") == split)
    if data.is_empty():
        return empty_figure(f"{split} accuracy", f"no {split} results")
    control = data.filter(control_rows())
    data = _with_dense_at_each_method(data)
    pairs = panels(data)  # a control always comes with pruned cells of its model
    methods = sorted(data.get_column("method").unique().to_list())
    palette = method_palette(methods)
    figure, axes = column_of_panels(len(pairs))
    for (dataset, model), ax in zip(pairs, axes, strict=True):
        panel = panel_of(data, dataset, model)
        for method in methods:
            line = panel.filter(pl.col("method") == method).sort("sparsity")
            if line.is_empty():
                continue
            ax.errorbar(line["sparsity"], line["accuracy_mean"] * 100,
                        yerr=line["accuracy_std"].fill_null(0) * 100, marker="o",
                        capsize=3, color=palette[method], label=_label(line, method))
        mark_flagged_points(ax, panel.unique(["method", "sparsity"]), "sparsity",
                            "accuracy_mean")
        control_line(ax, panel_of(control, dataset, model), "accuracy_mean")
        if "majority_share" in panel.columns and panel["majority_share"].drop_nulls().len():
            ax.axhline(panel["majority_share"].drop_nulls()[0] * 100, color="grey",
                       linestyle=":", linewidth=1.2, label="majority class")
        ax.set_title(f"{dataset} · {model}")
        ax.set_xlabel("sparsity (% of prunable weights; 0 = dense)")
        ax.set_ylabel(f"{split} accuracy (%)")
    legend_with_flags(figure, axes, title="method")
    figure.tight_layout()
    return titled(figure, f"{split.capitalize()} accuracy by sparsity "
                          "(mean ± std over seeds)")
