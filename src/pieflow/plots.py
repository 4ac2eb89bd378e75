"""Seaborn figures of the summary tables, each titled with what the reader sees."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: jobs run on laptops, CI and cluster nodes alike
import matplotlib.pyplot as plt  # noqa: E402
import polars as pl  # noqa: E402
import seaborn as sns  # noqa: E402


def _save(grid, path: str | Path, title: str) -> None:
    grid.figure.suptitle(title, y=1.02)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    grid.figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(grid.figure)


def _with_dense_at_each_method(table: pl.DataFrame, value: str) -> pl.DataFrame:
    """Repeat the dense row (sparsity 0) under every method so each line starts there."""
    dense = table.filter(pl.col("method") == "dense")
    pruned = table.filter(pl.col("method") != "dense")
    methods = pruned.select("method").unique()
    return pl.concat([pruned, dense.drop("method").join(methods, how="cross")
                      .select(pruned.columns)]).sort(["method", "sparsity"])


def plot_accuracy(table: pl.DataFrame, path: str | Path, split: str = "test") -> None:
    """Test accuracy (mean ± std over seeds) against sparsity, one line per method."""
    data = _with_dense_at_each_method(table.filter(pl.col("split") == split), "accuracy_mean")
    long = data.to_pandas()
    grid = sns.FacetGrid(long, row="dataset", col="model", hue="method", height=3.2,
                         aspect=1.3, sharey=False, margin_titles=True)
    grid.map(plt.errorbar, "sparsity", "accuracy_mean", "accuracy_std", marker="o",
             capsize=3)
    grid.add_legend(title="method")
    grid.set_axis_labels("sparsity (% of prunable weights)", f"{split} accuracy")
    _save(grid, path, f"{split.capitalize()} accuracy by sparsity (mean ± std over seeds; "
                      "sparsity 0 = dense)")


def plot_pie_share(table: pl.DataFrame, path: str | Path, split: str = "test") -> None:
    """Share of examples that are PIEs against sparsity, one line per method."""
    data = table.filter(pl.col("split") == split).with_columns(
        (pl.col("pie_share") * 100).alias("pie_percent")).to_pandas()
    grid = sns.FacetGrid(data, row="dataset", col="model", hue="method", height=3.2,
                         aspect=1.3, sharey=False, margin_titles=True)
    grid.map(plt.plot, "sparsity", "pie_percent", marker="o")
    grid.add_legend(title="method")
    grid.set_axis_labels("sparsity (% of prunable weights)", "PIEs (% of examples)")
    _save(grid, path, f"PIEs on the {split} split by sparsity")


def plot_el2n_bins(table: pl.DataFrame, path: str | Path, split: str = "test") -> None:
    """Mean (pruned − dense) loss per EL2N bin (± standard error), one panel per cell."""
    data = table.filter(pl.col("split") == split).with_columns(
        (pl.col("method") + " " + pl.col("sparsity").cast(pl.String) + "%").alias("cell")
    ).sort(["method", "sparsity", "el2n_bin"]).to_pandas()
    grid = sns.FacetGrid(data, row="dataset", col="model", hue="cell", height=3.2,
                         aspect=1.3, sharey=False, margin_titles=True)
    grid.map(plt.errorbar, "el2n_bin", "loss_diff_mean", "loss_diff_se", marker=".",
             capsize=2)
    grid.map(plt.axhline, y=0, color="grey", linewidth=0.8)
    grid.add_legend(title="pruned cell")
    grid.set_axis_labels("EL2N bin (0 = easiest, equal-frequency)",
                         "pruned − dense loss")
    _save(grid, path, f"Where pruning costs loss: {split} examples by EL2N difficulty")
