"""PIEs against the null rate: disagreement beyond what seed noise alone gives."""

from __future__ import annotations

import numpy as np
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


def plot_null_rate(table: pl.DataFrame, split: str = "test") -> Figure:
    """PIE share vs. the dense-vs-dense null share against sparsity, with 95 % intervals;
    the control's share (extra training alone) as a reference line. Cells without a null
    rate (imported ones, see their ``note``) are left out."""
    data = table.filter(pl.col("split") == split)
    if "null_mean" in data.columns:
        data = data.filter(pl.col("null_mean").is_not_null())
    if data.is_empty():
        return empty_figure("PIEs vs. the null", f"no {split} results")
    pairs = panels(data)
    methods = sorted(data.filter(~control_rows()).get_column("method").unique().to_list())
    palette = method_palette(methods)
    figure, axes = column_of_panels(len(pairs), width=6.0, height=3.8)
    for (dataset, model), ax in zip(pairs, axes, strict=True):
        panel = panel_of(data, dataset, model)
        control_line(ax, panel, "pies_share_mean")
        panel = panel.filter(~control_rows())
        sparsities = sorted(panel["sparsity"].unique().to_list())
        # The null depends on the dense population only: one band per panel (the cells'
        # draws differ only by chance; the band spans all of them).
        ax.axhspan(panel["null_share_low"].min() * 100, panel["null_share_high"].max() * 100,
                   color="grey", alpha=0.22, label="null: dense vs. dense (95 % interval)")
        ax.axhline(panel["null_share_mean"].mean() * 100, color="grey", linestyle="--",
                   label="null: dense vs. dense (mean)")
        spread = max(max(sparsities) - min(sparsities), 20)
        offsets = np.linspace(-0.015, 0.015, len(methods)) * spread
        ax.set_xlim(min(sparsities) - 0.12 * spread, max(sparsities) + 0.12 * spread)
        for offset, method in zip(offsets, methods, strict=True):
            line = panel.filter(pl.col("method") == method).sort("sparsity")
            if line.is_empty():
                continue
            mean = line["pies_share_mean"].to_numpy() * 100
            errors = np.vstack([mean - line["pies_share_low"].to_numpy() * 100,
                                line["pies_share_high"].to_numpy() * 100 - mean])
            ax.errorbar(line["sparsity"].to_numpy() + offset, mean, yerr=errors,
                        marker="o", capsize=3, color=palette[method],
                        label=f"PIEs: dense vs. {method}")
            mark_flagged_points(ax, line.with_columns(pl.col("sparsity") + offset),
                                "sparsity", "pies_share_mean")
        sizes = sorted(panel["population_size"].unique().to_list())
        ax.set_title(f"{dataset} · {model} (populations of {', '.join(map(str, sizes))} "
                     "seeds)")
        ax.set_xlabel("sparsity (% of prunable weights)")
        ax.set_ylabel("examples whose modal label differs (%)")
        ax.set_ylim(bottom=0)
        ax.set_xticks(sparsities)
    legend_with_flags(figure, axes)
    figure.tight_layout()
    return titled(figure, f"PIEs against the null rate ({split} split): disagreement "
                          "beyond what seed noise alone gives")
