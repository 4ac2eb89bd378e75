"""Heatmap panels: rows of a table (classes, text features) against the populations."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
import seaborn as sns
from matplotlib.figure import Figure

from pieflow.analysis.plots.common import (
    cell_columns,
    mark_flagged_ticks,
    panel_of,
    panels,
    titled,
)


def heatmap_panels(data: pl.DataFrame, row_key: str, row_label: str, value: str,
                   title: str, colorbar: str,
                   annotate: Callable[[dict[str, Any]], str],
                   cmap: str, vmin: float, vmax: float, center: float | None = None,
                   row_axis_label: str = "",
                   panel_note: Callable[[pl.DataFrame], str] | None = None) -> Figure:
    """One heatmap per dataset · model, rows ``row_key`` (ordered), columns cells."""
    pairs = panels(data)
    shapes = []
    for dataset, model in pairs:
        panel = panel_of(data, dataset, model)
        shapes.append((panel[row_key].n_unique(), cell_columns(panel).height))
    width = min(30.0, max(9.0, 1.0 * max(c for _, c in shapes) + 5.0))
    heights = [max(2.2, 0.38 * r + 1.6) for r, _ in shapes]
    figure, axes = plt.subplots(len(pairs), 1, figsize=(width, sum(heights)),
                                gridspec_kw={"height_ratios": heights}, squeeze=False)
    for (dataset, model), ax in zip(pairs, axes[:, 0], strict=True):
        panel = panel_of(data, dataset, model)
        cells = cell_columns(panel)
        rows = panel.select(row_key, row_label).unique().sort(row_key)
        grid = np.full((rows.height, cells.height), np.nan)
        labels = np.full(grid.shape, "", dtype=object)
        row_index = {key: i for i, key in enumerate(rows[row_key].to_list())}
        col_index = {key: j for j, key in enumerate(cells.select("method", "sparsity").rows())}
        for record in panel.iter_rows(named=True):  # rows × cells entries, not examples
            i = row_index[record[row_key]]
            j = col_index[(record["method"], record["sparsity"])]
            if record[value] is not None:
                grid[i, j] = record[value]
            labels[i, j] = annotate(record)
        show_labels = grid.size <= 600
        with warnings.catch_warnings():  # seaborn 0.13 calls a deprecated cmap method
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            sns.heatmap(grid, ax=ax, cmap=cmap, vmin=vmin, vmax=vmax, center=center,
                        annot=labels if show_labels else False, fmt="",
                        annot_kws={"fontsize": 8}, linewidths=0.5, linecolor="white",
                        xticklabels=cells["column"].to_list(),
                        yticklabels=rows[row_label].to_list(),
                        cbar_kws={"label": colorbar, "shrink": 0.8})
        mark_flagged_ticks(ax, cells)
        ax.tick_params(axis="x", rotation=0, labelsize=9)
        ax.tick_params(axis="y", rotation=0, labelsize=9)
        note = f" — {panel_note(panel)}" if panel_note else ""
        ax.set_title(f"{dataset} · {model}{note}")
        ax.set_xlabel("population (method, sparsity)")
        ax.set_ylabel(row_axis_label)
    figure.tight_layout()
    return titled(figure, title)
