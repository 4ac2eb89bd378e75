"""Difficulty scores as predictors of PIEs: AUROC per score and cell with its bootstrap
interval, and the PIE rate by decile of each cell's best score."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
import seaborn as sns
from matplotlib.figure import Figure

from pieflow.analysis.plots.common import (
    COLLAPSED_COLOR,
    UNDERTRAINED_COLOR,
    cell_label,
    collapsed_rows,
    empty_figure,
    panel_of,
    panels,
    titled,
    undertrained_rows,
)


def _labelled(frame: pl.DataFrame) -> pl.DataFrame:
    """``cell``: "mag-pt 80%", with " (collapsed)" / " (undertrained)" where flagged."""
    return frame.with_columns(
        (cell_label()
         + pl.when(collapsed_rows(frame)).then(pl.lit(" (collapsed)"))
         .when(undertrained_rows(frame)).then(pl.lit(" (undertrained)")).otherwise(pl.lit(""))
         ).alias("cell"))


def _colours(cells: list[str]) -> dict[str, object]:
    palette = dict(zip(cells, sns.color_palette("viridis", max(len(cells), 1)), strict=False))
    for cell in cells:
        if cell.endswith("(collapsed)"):
            palette[cell] = COLLAPSED_COLOR
        elif cell.endswith("(undertrained)"):
            palette[cell] = UNDERTRAINED_COLOR
    return palette


def plot_pie_predictors(table: pl.DataFrame, deciles: pl.DataFrame,
                        split: str = "test") -> Figure:
    """Per dataset · model, left: the AUROC of every difficulty score for each cell's
    PIEs (● with its 95 % bootstrap interval; 0.5 = chance); right: the PIE rate in each
    decile of the cell's best score (highest AUROC), its base rate dashed."""
    title = f"Which examples become PIEs? Difficulty scores as predictors ({split} split)"
    if table.is_empty() or (data := table.filter(
            (pl.col("split") == split) & pl.col("auroc").is_not_null())).is_empty():
        return empty_figure(title, f"no {split} cells with PIEs and a difficulty score")
    data = _labelled(data).sort("method", "sparsity")
    binned = _labelled(deciles.filter(pl.col("split") == split))
    pairs = panels(data)
    n_scores = max(panel_of(data, d, m)["score"].n_unique() for d, m in pairs)
    figure, axes = plt.subplots(len(pairs), 2, figsize=(12.5, max(4.6, 0.5 * n_scores + 2.8)
                                                        * len(pairs)), squeeze=False)
    for (dataset, model), (left, right) in zip(pairs, axes, strict=True):
        panel = panel_of(data, dataset, model)
        cells = list(dict.fromkeys(panel["cell"].to_list()))
        scores = list(dict.fromkeys(panel["score"].to_list()))
        colours = _colours(cells)
        step = 0.7 / max(len(cells), 1)
        for i, cell in enumerate(cells):
            rows = panel.filter(pl.col("cell") == cell)
            y = np.array([scores.index(s) for s in rows["score"]]) - 0.35 + step * (i + 0.5)
            auroc = rows["auroc"].to_numpy()
            low = rows["auroc_low"].fill_null(np.nan).to_numpy()
            high = rows["auroc_high"].fill_null(np.nan).to_numpy()
            left.errorbar(auroc, y, xerr=np.nan_to_num(np.vstack([auroc - low, high - auroc])),
                          fmt="o", markersize=4, capsize=2, color=colours[cell], label=cell)
        left.axvline(0.5, color="grey", linestyle="--", linewidth=1)
        left.set_yticks(range(len(scores)), scores)
        left.invert_yaxis()
        lowest = panel["auroc_low"].min()
        left.set_xlim(min(0.3, (0.5 if lowest is None else lowest) - 0.02), 1.0)
        left.set_xlabel("AUROC for PIEs (0.5 = chance; > 0.5: harder examples are PIEs "
                        "more often)")
        left.set_title(f"{dataset} · {model}: AUROC per score (95 % bootstrap interval)")
        left.legend(title="cell", fontsize=8, loc="upper center", ncol=3,
                    bbox_to_anchor=(0.5, -0.2), frameon=False)
        best = panel.sort("auroc", "score", descending=[True, False]).group_by(
            "cell", maintain_order=True).first()
        for cell, score, base in best.select("cell", "score", "base_pie_share").rows():
            line = panel_of(binned, dataset, model).filter(
                (pl.col("cell") == cell) & (pl.col("score") == score)).sort("decile")
            right.plot(line["decile"], line["pie_rate"] * 100, marker="o", color=colours[cell],
                       label=f"{cell}: {score}")
            right.axhline(base * 100, color=colours[cell], linestyle=":", linewidth=1)
        right.set_xticks(range(10))
        right.set_ylim(bottom=0)
        right.set_xlabel("decile of the cell's best score (0 = easiest, 9 = hardest)")
        right.set_ylabel("PIEs (% of the decile)")
        right.set_title(f"{dataset} · {model}: PIE rate by decile (dotted: all examples)")
        right.legend(title="cell: its best score", fontsize=8, loc="upper center", ncol=2,
                     bbox_to_anchor=(0.5, -0.2), frameon=False)
    figure.tight_layout()
    return titled(figure, title)
