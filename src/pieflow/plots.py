"""Seaborn figures of the summary tables, and HTML views of the tables for the report.

Every figure is titled with what the reader sees. Cells flagged ``collapsed`` (pruned
models no better than always answering the majority class) are never mixed in
silently: line figures overlay them with a red ✕, heatmaps mark their column label
"(collapsed)" in red, and the class-distribution bars leave them out and say how many.
"""

from __future__ import annotations

import html
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: jobs run on laptops, CI and cluster nodes alike
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

sns.set_theme(style="whitegrid", context="notebook")

COLLAPSED_COLOR = "#c0392b"
COLLAPSED_MARKER = dict(marker="X", s=90, color=COLLAPSED_COLOR, zorder=5,
                        edgecolors="white", linewidths=0.6)
DENSE = "dense"


def _save_figure(figure, path: str | Path, title: str) -> None:
    figure.suptitle(title, y=1.0, va="bottom", fontsize=13)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)


def _save(grid, path: str | Path, title: str) -> None:
    _save_figure(grid.figure, path, title)


def _empty_figure(path: str | Path, title: str, message: str) -> None:
    figure, ax = plt.subplots(figsize=(6, 2))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    _save_figure(figure, path, title)


def _collapsed(frame: pl.DataFrame) -> pl.Expr:
    if "collapsed" not in frame.columns:
        return pl.lit(False)
    return pl.col("collapsed").fill_null(False)


def _panels(frame: pl.DataFrame) -> list[tuple[str, str]]:
    return frame.select("dataset", "model").unique().sort(["dataset", "model"]).rows()


def _grid(rows: list, cols: list, width: float = 4.6, height: float = 3.4,
          sharey: bool = False):
    figure, axes = plt.subplots(len(rows), len(cols), figsize=(width * len(cols),
                                                               height * len(rows)),
                                squeeze=False, sharey=sharey)
    return figure, axes


def _collapsed_handle() -> Line2D:
    return Line2D([], [], linestyle="", marker="X", markersize=9, color=COLLAPSED_COLOR,
                  label="collapsed cell (≈ majority-class accuracy)")


def _method_palette(methods: list[str]) -> dict[str, tuple]:
    colours = sns.color_palette("tab10", max(len(methods), 1))
    return dict(zip(methods, colours, strict=False))


def _with_dense_at_each_method(table: pl.DataFrame, value: str) -> pl.DataFrame:
    """Repeat the dense row (sparsity 0) under every method so each line starts there."""
    dense = table.filter(pl.col("method") == DENSE)
    pruned = table.filter(pl.col("method") != DENSE)
    methods = pruned.select("method").unique()
    return pl.concat([pruned, dense.drop("method").join(methods, how="cross")
                      .select(pruned.columns)]).sort(["method", "sparsity"])


def plot_accuracy(table: pl.DataFrame, path: str | Path, split: str = "test") -> None:
    """Accuracy (mean ± std over seeds) against sparsity, one line per method.

    Dotted: the majority-class share (a model answering one class); red ✕: collapsed.
    """
    data = table.filter(pl.col("split") == split)
    if data.is_empty():
        _empty_figure(path, f"{split} accuracy", f"no {split} results")
        return
    data = _with_dense_at_each_method(data, "accuracy_mean")
    panels = _panels(data)
    methods = sorted(data.get_column("method").unique().to_list())
    palette = _method_palette(methods)
    figure, axes = _grid(panels, [0])
    for (dataset, model), ax in zip(panels, axes[:, 0], strict=True):
        panel = data.filter((pl.col("dataset") == dataset) & (pl.col("model") == model))
        for method in methods:
            line = panel.filter(pl.col("method") == method).sort("sparsity")
            if line.is_empty():
                continue
            ax.errorbar(line["sparsity"], line["accuracy_mean"] * 100,
                        yerr=line["accuracy_std"].fill_null(0) * 100, marker="o",
                        capsize=3, color=palette[method], label=method)
        bad = panel.filter(_collapsed(panel)).unique(["method", "sparsity"])
        if bad.height:
            ax.scatter(bad["sparsity"], bad["accuracy_mean"] * 100, **COLLAPSED_MARKER)
        if "majority_share" in panel.columns and panel["majority_share"].drop_nulls().len():
            ax.axhline(panel["majority_share"].drop_nulls()[0] * 100, color="grey",
                       linestyle=":", linewidth=1.2, label="majority class")
        ax.set_title(f"{dataset} · {model}")
        ax.set_xlabel("sparsity (% of prunable weights; 0 = dense)")
        ax.set_ylabel(f"{split} accuracy (%)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend([*handles, _collapsed_handle()], [*labels, _collapsed_handle().get_label()],
                  loc="center left", bbox_to_anchor=(1.0, 0.5), title="method")
    figure.tight_layout()
    _save_figure(figure, path, f"{split.capitalize()} accuracy by sparsity "
                               "(mean ± std over seeds)")


def plot_pie_share(table: pl.DataFrame, path: str | Path, split: str = "test") -> None:
    """Share of examples that are PIEs against sparsity, one line per method."""
    data = table.filter(pl.col("split") == split)
    if data.is_empty():
        _empty_figure(path, f"PIEs on the {split} split", f"no {split} results")
        return
    panels = _panels(data)
    methods = sorted(data.get_column("method").unique().to_list())
    palette = _method_palette(methods)
    figure, axes = _grid(panels, [0])
    for (dataset, model), ax in zip(panels, axes[:, 0], strict=True):
        panel = data.filter((pl.col("dataset") == dataset) & (pl.col("model") == model))
        for method in methods:
            line = panel.filter(pl.col("method") == method).sort("sparsity")
            if line.height:
                ax.plot(line["sparsity"], line["pie_share"] * 100, marker="o",
                        color=palette[method], label=method)
        bad = panel.filter(_collapsed(panel))
        if bad.height:
            ax.scatter(bad["sparsity"], bad["pie_share"] * 100, **COLLAPSED_MARKER)
        ax.set_title(f"{dataset} · {model}")
        ax.set_xlabel("sparsity (% of prunable weights)")
        ax.set_ylabel("PIEs (% of examples)")
        ax.set_ylim(bottom=0)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend([*handles, _collapsed_handle()], [*labels, _collapsed_handle().get_label()],
                  loc="center left", bbox_to_anchor=(1.0, 0.5), title="method")
    figure.tight_layout()
    _save_figure(figure, path, f"PIEs on the {split} split by sparsity (all seeds vs. all "
                               "seeds)")


def plot_pie_accuracy(table: pl.DataFrame, path: str | Path, split: str = "test") -> None:
    """Dense (●) → pruned (▼) accuracy on PIEs, non-PIEs and all examples, per cell."""
    data = table.filter(pl.col("split") == split)
    if data.is_empty():
        _empty_figure(path, "Accuracy on PIEs", f"no {split} results")
        return
    panels = _panels(data)
    subsets = {"on_pies": "PIEs", "on_non_pies": "non-PIEs", "on_all": "all examples"}
    colours = dict(zip(subsets, sns.color_palette("deep", 3), strict=True))
    offsets = dict(zip(subsets, (-0.22, 0.0, 0.22), strict=True))
    n_cells = max(_cell_columns(data.filter((pl.col("dataset") == d) & (pl.col("model") == m)))
                  .height for d, m in panels)
    figure, axes = plt.subplots(len(panels), 1, figsize=(max(6.0, 1.3 * n_cells + 2.5),
                                                         3.6 * len(panels)), squeeze=False)
    for (dataset, model), ax in zip(panels, axes[:, 0], strict=True):
        panel = data.filter((pl.col("dataset") == dataset) & (pl.col("model") == model))
        cells = _cell_columns(panel)
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
        for tick, collapsed in zip(ax.get_xticklabels(), cells["collapsed"].to_list(),
                                   strict=True):
            if collapsed:
                tick.set_color(COLLAPSED_COLOR)
                tick.set_fontweight("bold")
        ax.set_xlim(-0.6, cells.height - 0.4)
        ax.set_ylim(-3, 103)
        ax.set_title(f"{dataset} · {model}")
        ax.set_xlabel("pruned cell (method, sparsity)")
        ax.set_ylabel(f"{split} accuracy (%, mean over seeds)")
    handles = [Line2D([], [], color=colour, linewidth=2, label=subsets[subset])
               for subset, colour in colours.items()]
    handles += [Line2D([], [], linestyle="", marker="o", color="grey", label="dense population"),
                Line2D([], [], linestyle="", marker="v", color="grey", markeredgecolor="black",
                       label="pruned population")]
    figure.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5),
                  title="examples / population")
    figure.tight_layout()
    _save_figure(figure, path, "Where the accuracy goes: dense (●) → pruned (▼) accuracy on "
                               f"PIEs, non-PIEs and all {split} examples")


def plot_el2n_bins(table: pl.DataFrame, path: str | Path, split: str = "test") -> None:
    """Mean (pruned − dense) loss per EL2N bin (± standard error), one line per cell."""
    data = table.filter(pl.col("split") == split)
    if data.is_empty():
        _empty_figure(path, "Loss by EL2N", f"no {split} results")
        return
    data = data.with_columns(
        (pl.col("method") + " " + pl.col("sparsity").cast(pl.String) + "%"
         + pl.when(_collapsed(data)).then(pl.lit(" (collapsed)")).otherwise(pl.lit(""))
         ).alias("cell")).sort(["method", "sparsity", "el2n_bin"])
    panels = _panels(data)
    figure, axes = _grid(panels, [0], width=6.0, height=3.6)
    for (dataset, model), ax in zip(panels, axes[:, 0], strict=True):
        panel = data.filter((pl.col("dataset") == dataset) & (pl.col("model") == model))
        cells = panel.select("cell", "method", "sparsity").unique().sort(
            ["method", "sparsity"])["cell"].to_list()
        colours = sns.color_palette("viridis", len(cells))
        for colour, cell in zip(colours, cells, strict=True):
            line = panel.filter(pl.col("cell") == cell)
            collapsed = cell.endswith("(collapsed)")
            ax.errorbar(line["el2n_bin"], line["loss_diff_mean"],
                        yerr=line["loss_diff_se"].fill_null(0), marker=".", capsize=2,
                        color=COLLAPSED_COLOR if collapsed else colour,
                        linestyle=":" if collapsed else "-", label=cell)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xticks(range(0, int(panel["el2n_bin"].max()) + 1, 2))
        ax.set_title(f"{dataset} · {model}")
        ax.set_xlabel("EL2N bin (20 equal-frequency bins; 0 = easiest)")
        ax.set_ylabel("pruned − dense loss (nats)")
        ax.legend(title="pruned cell", fontsize=8, loc="upper left")
    figure.tight_layout()
    _save_figure(figure, path, f"Where pruning costs loss: {split} examples by EL2N "
                               "difficulty (± standard error)")


def plot_null_rate(table: pl.DataFrame, path: str | Path, split: str = "test") -> None:
    """PIE share vs. the dense-vs-dense null share against sparsity, with 95 % intervals."""
    data = table.filter(pl.col("split") == split)
    if data.is_empty():
        _empty_figure(path, "PIEs vs. the null", f"no {split} results")
        return
    panels = _panels(data)
    methods = sorted(data.get_column("method").unique().to_list())
    palette = _method_palette(methods)
    figure, axes = _grid(panels, [0], width=6.0, height=3.8)
    for (dataset, model), ax in zip(panels, axes[:, 0], strict=True):
        panel = data.filter((pl.col("dataset") == dataset) & (pl.col("model") == model))
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
            bad = line.filter(_collapsed(line))
            if bad.height:
                ax.scatter(bad["sparsity"].to_numpy() + offset,
                           bad["pies_share_mean"] * 100, **COLLAPSED_MARKER)
        sizes = sorted(panel["population_size"].unique().to_list())
        ax.set_title(f"{dataset} · {model} (populations of {', '.join(map(str, sizes))} "
                     "seeds)")
        ax.set_xlabel("sparsity (% of prunable weights)")
        ax.set_ylabel("examples whose modal label differs (%)")
        ax.set_ylim(bottom=0)
        ax.set_xticks(sparsities)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    figure.legend([*handles, _collapsed_handle()], [*labels, _collapsed_handle().get_label()],
                  loc="center left", bbox_to_anchor=(1.0, 0.5))
    figure.tight_layout()
    _save_figure(figure, path, f"PIEs against the null rate ({split} split): disagreement "
                               "beyond what seed noise alone gives")


def _cell_columns(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per (method, sparsity) with its column label, dense first."""
    cells = frame.select("method", "sparsity", _collapsed(frame).alias("collapsed")).group_by(
        "method", "sparsity").agg(pl.col("collapsed").any())
    cells = cells.with_columns(
        (pl.col("method") != DENSE).alias("_pruned"),
        pl.when(pl.col("method") == DENSE).then(pl.lit("dense"))
        .otherwise(pl.col("method") + " " + pl.col("sparsity").cast(pl.String) + "%")
        .alias("column"))
    return cells.with_columns(
        pl.when(pl.col("collapsed")).then(pl.col("column") + "\n(collapsed)")
        .otherwise(pl.col("column")).alias("column")).sort(["_pruned", "method", "sparsity"])


def _heatmap_panels(data: pl.DataFrame, row_key: str, row_label: str, value: str,
                    path: str | Path, title: str, colorbar: str, annotate,
                    cmap: str, vmin: float, vmax: float, center: float | None = None,
                    row_axis_label: str = "", panel_note=None) -> None:
    """One heatmap per dataset · model, rows ``row_key`` (ordered), columns cells."""
    panels = _panels(data)
    shapes = []
    for dataset, model in panels:
        panel = data.filter((pl.col("dataset") == dataset) & (pl.col("model") == model))
        shapes.append((panel[row_key].n_unique(), _cell_columns(panel).height))
    width = min(30.0, max(9.0, 1.0 * max(c for _, c in shapes) + 5.0))
    heights = [max(2.2, 0.38 * r + 1.6) for r, _ in shapes]
    figure, axes = plt.subplots(len(panels), 1, figsize=(width, sum(heights)),
                                gridspec_kw={"height_ratios": heights}, squeeze=False)
    for (dataset, model), ax in zip(panels, axes[:, 0], strict=True):
        panel = data.filter((pl.col("dataset") == dataset) & (pl.col("model") == model))
        cells = _cell_columns(panel)
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
        for tick, collapsed in zip(ax.get_xticklabels(), cells["collapsed"].to_list(),
                                   strict=True):
            if collapsed:
                tick.set_color(COLLAPSED_COLOR)
                tick.set_fontweight("bold")
        ax.tick_params(axis="x", rotation=0, labelsize=9)
        ax.tick_params(axis="y", rotation=0, labelsize=9)
        note = f" — {panel_note(panel)}" if panel_note else ""
        ax.set_title(f"{dataset} · {model}{note}")
        ax.set_xlabel("population (method, sparsity)")
        ax.set_ylabel(row_axis_label)
    figure.tight_layout()
    _save_figure(figure, path, title)


def plot_class_accuracy(table: pl.DataFrame, path: str | Path, split: str = "test") -> None:
    """Heatmap: per-class score (mean over seeds) by population, classes by frequency."""
    data = table.filter(pl.col("split") == split)
    if data.is_empty():
        _empty_figure(path, "Per-class accuracy", f"no {split} results")
        return
    data = data.with_columns(
        (pl.col("score_mean") * 100).alias("percent"),
        (pl.col("class_name") + " (" + (pl.col("train_share") * 100).round(1)
         .cast(pl.String) + "% of train)").alias("row_label"))

    def measure(panel: pl.DataFrame) -> str:
        names = {"accuracy": "accuracy on the class (recall)", "f1": "F1 of the class"}
        return " / ".join(names.get(m, m) for m in sorted(panel["measure"].unique()))

    _heatmap_panels(
        data, "class_rank", "row_label", "percent", path,
        f"Per-class accuracy by population ({split} split, % mean over seeds)\n"
        "rows: classes from most to least frequent in training",
        "per-class score (%)",
        lambda r: "" if r["percent"] is None else f"{r['percent']:.0f}",
        cmap="rocket", vmin=0, vmax=100, row_axis_label="class (by training frequency)",
        panel_note=measure)


def plot_text_effects(table: pl.DataFrame, path: str | Path, split: str = "test") -> None:
    """Heatmap: rank-biserial effect size of PIEs vs. non-PIEs per text feature and cell."""
    data = table.filter(pl.col("split") == split)
    if data.is_empty():
        _empty_figure(path, "Text features of PIEs", f"no {split} results")
        return
    order = {name: i for i, name in enumerate(dict.fromkeys(data["feature"].to_list()))}
    data = data.with_columns(
        pl.col("feature").replace_strict(order, return_dtype=pl.Int64).alias("feature_rank"))

    def annotate(record) -> str:
        effect = record["rank_biserial"]
        if effect is None or np.isnan(effect):
            return "n/a"
        p = record["p_holm"]
        return f"{effect:+.2f}" + ("*" if p is not None and p < 0.05 else "")

    _heatmap_panels(
        data, "feature_rank", "feature", "rank_biserial", path,
        f"Are PIEs longer or harder to read? PIEs vs. non-PIEs on the {split} split\n"
        "rank-biserial effect (> 0: PIEs higher; * Holm-corrected p < 0.05)",
        "rank-biserial effect", annotate,
        cmap="vlag", vmin=-1, vmax=1, center=0, row_axis_label="text feature")


def plot_pie_classes(table: pl.DataFrame, path: str | Path, split: str = "test") -> None:
    """Bars: each class's share of all examples vs. of the PIEs, per sparsity.

    PIE shares are averaged over the methods of a sparsity (whiskers: their range);
    collapsed cells are left out and counted in the panel title.
    """
    data = table.filter(pl.col("split") == split)
    if data.is_empty():
        _empty_figure(path, "PIE classes", f"no {split} results")
        return
    panels = _panels(data)
    width = min(28.0, max(7.0, 0.55 * data["class"].n_unique() * 2 + 3))
    figure, axes = plt.subplots(len(panels), 1, figsize=(width, 3.8 * len(panels)),
                                squeeze=False)
    for (dataset, model), ax in zip(panels, axes[:, 0], strict=True):
        panel = data.filter((pl.col("dataset") == dataset) & (pl.col("model") == model))
        classes = panel.select("class_rank", "class_name").unique().sort("class_rank")
        order = classes["class_name"].to_list()
        kept = panel.filter(~_collapsed(panel))
        left_out = panel.filter(_collapsed(panel)).select("method", "sparsity").unique()
        data_bars = panel.unique(["class"]).select(
            "class_name", pl.lit("all examples").alias("group"),
            (pl.col("class_share") * 100).alias("percent"))
        pie_bars = kept.filter(pl.col("pie_share").is_not_null()).select(
            "class_name", (pl.lit("PIEs at ") + pl.col("sparsity").cast(pl.String)
                           + pl.lit("% sparsity")).alias("group"),
            (pl.col("pie_share") * 100).alias("percent"), "sparsity")
        groups = ["all examples", *dict.fromkeys(pie_bars.sort("sparsity")["group"].to_list())]
        long = pl.concat([data_bars, pie_bars.drop("sparsity")]).to_pandas()
        colours = ["#7f7f7f", *sns.color_palette("flare", max(len(groups) - 1, 1))]
        sns.barplot(long, x="class_name", y="percent", hue="group", order=order,
                    hue_order=groups, palette=colours[:len(groups)],
                    errorbar=("pi", 100), capsize=0.1, ax=ax)
        note = ""
        if left_out.height:
            cells = ", ".join(f"{m} {s}%" for m, s in left_out.sort(["method", "sparsity"])
                              .rows())
            note = f"\n{left_out.height} collapsed cell(s) left out: {cells}"
        ax.set_title(f"{dataset} · {model}{note}", fontsize=10,
                     color=COLLAPSED_COLOR if left_out.height else "black")
        ax.set_xlabel("class (most to least frequent in training data)")
        ax.set_ylabel("share carrying the class (%)")
        ax.tick_params(axis="x", rotation=45 if len(order) > 8 else 0)
        ax.legend(title="", fontsize=8)
    figure.tight_layout()
    _save_figure(figure, path, f"Which classes become PIEs? Class shares among all {split} "
                               "examples vs. among PIEs (mean over methods; whiskers: range)")


# --------------------------------------------------------------------------------------
# Table views for the report
# --------------------------------------------------------------------------------------

TABLE_VIEW_ROWS = 3000

_VIEW_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1rem;
       color: #222; }
h1 { font-size: 1.25rem; margin: 0 0 .4rem 0; }
p.note { color: #555; max-width: 70rem; margin: .2rem 0 .8rem 0; }
table { border-collapse: collapse; font-size: .8rem; }
th { position: sticky; top: 0; background: #eef1f5; text-align: left; }
th, td { border: 1px solid #d9dde3; padding: 2px 6px; vertical-align: top; }
td { max-width: 32rem; }
tr.collapsed td { background: #fde2e2; }
"""


def _cell_text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if np.isnan(value):
            return "—"
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(_cell_text(v) for v in value)
    return str(value)


def table_view_html(frame: pl.DataFrame, title: str, description: str = "",
                    max_rows: int = TABLE_VIEW_ROWS, source: str = "") -> str:
    """A standalone HTML page showing a table (rows of collapsed cells highlighted)."""
    shown = frame.head(max_rows)
    columns = shown.columns
    flagged = (shown.get_column("collapsed").fill_null(False).to_list()
               if "collapsed" in columns else [False] * shown.height)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row, collapsed in zip(shown.iter_rows(), flagged, strict=True):  # ≤ max_rows
        cells = "".join(f"<td>{html.escape(_cell_text(v))}</td>" for v in row)
        body.append(f'<tr class="collapsed">{cells}</tr>' if collapsed
                    else f"<tr>{cells}</tr>")
    notes = []
    if description:
        notes.append(f'<p class="note">{html.escape(description)}</p>')
    shown_note = (f"{frame.height} rows" if frame.height <= max_rows
                  else f"first {max_rows} of {frame.height} rows")
    where = f"; full table: <code>{html.escape(source)}</code>" if source else ""
    flag = ("; rows of collapsed cells are shaded red" if "collapsed" in columns else "")
    notes.append(f'<p class="note">{shown_note}{where}{flag}.</p>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_VIEW_STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>{''.join(notes)}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            "</body></html>\n")


def write_table_view(frame: pl.DataFrame, path: str | Path, title: str,
                     description: str = "", source: str = "") -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(table_view_html(frame, title, description, source=source),
                          encoding="utf-8")
