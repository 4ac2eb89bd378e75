"""Text figure: are PIEs longer or harder to read than other examples?"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from matplotlib.figure import Figure

from pieflow.analysis.plots.common import empty_figure
from pieflow.analysis.plots.heatmap import heatmap_panels

SIGNIFICANCE = 0.05


def plot_text_effects(table: pl.DataFrame, split: str = "test") -> Figure:
    """Heatmap: rank-biserial effect size of PIEs vs. non-PIEs per text feature and cell."""
    data = table.filter(pl.col("split") == split)
    if data.is_empty():
        return empty_figure("Text features of PIEs", f"no {split} results")
    order = {name: i for i, name in enumerate(dict.fromkeys(data["feature"].to_list()))}
    data = data.with_columns(
        pl.col("feature").replace_strict(order, return_dtype=pl.Int64).alias("feature_rank"))

    def annotate(record: dict[str, Any]) -> str:
        effect = record["rank_biserial"]
        if effect is None or np.isnan(effect):
            return "n/a"
        p = record["p_holm"]
        return f"{effect:+.2f}" + ("*" if p is not None and p < SIGNIFICANCE else "")

    return heatmap_panels(
        data, "feature_rank", "feature", "rank_biserial",
        f"Are PIEs longer or harder to read? PIEs vs. non-PIEs on the {split} split\n"
        "rank-biserial effect (> 0: PIEs higher; * Holm-corrected p < 0.05)",
        "rank-biserial effect", annotate,
        cmap="vlag", vmin=-1, vmax=1, center=0, row_axis_label="text feature")
