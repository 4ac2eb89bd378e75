"""The analysis jobs on a synthetic results tree mixing a single- and a multi-label dataset.

Runs every summarise/score job function (without Snakemake), passing each the paths and
cell keys its rule would, and checks the tables' columns, that both kinds of dataset land
in one table, that the training-budget control appears as method "control", that
collapsed and undertrained cells are flagged rather than mixed in, and that the findings
job reads the tables, the per-cell paired statistics and the comparisons against the
control into one row per cell and split.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
import pytest
from matplotlib.figure import Figure

from pieflow import io, layout
from pieflow.analysis import job
from pieflow.analysis.findings import COLUMNS as FINDINGS_COLUMNS
from pieflow.analysis.plots.accuracy import plot_accuracy
from pieflow.analysis.plots.classes import plot_class_accuracy, plot_pie_classes
from pieflow.analysis.plots.nullrate import plot_null_rate
from pieflow.analysis.plots.pies import plot_el2n_bins, plot_pie_accuracy, plot_pie_share
from pieflow.analysis.plots.predictors import plot_pie_predictors
from pieflow.analysis.plots.text import plot_text_effects
from pieflow.analysis.tokens import token_counts
from pieflow.diff.job import diff_cell
from pieflow.labels import LabelKind
from pieflow.layout import Cell

SEEDS = 4
SPLITS = ("test", "train")
WORDS = ["good", "bad", "flight", "delayed", "thanks", "terrible", "okay", "notwithstanding",
         "service", "crew", "late", "again", "great"]
DATASETS = {"tweets": (3, LabelKind.SINGLE), "topics": (4, LabelKind.MULTI)}


def texts(rng: np.random.Generator, n: int) -> list[str]:
    return [" ".join(rng.choice(WORDS, size=rng.integers(2, 12))) + "." for _ in range(n)]


def write_dataset(path, name: str, num_classes: int, multi: bool,
                  rng: np.random.Generator, n: int = 30) -> dict[str, pl.DataFrame]:
    splits = {}
    for split in ("train", "validation", "test"):
        ids = np.arange(n) + (1000 if split == "test" else 0)
        if multi:
            labels = (rng.random((n, num_classes)) < 0.4).astype(np.int64)
            frame = pl.DataFrame({"example_id": ids, "text": texts(rng, n),
                                  "text_pair": [None] * n,
                                  "labels": [np.flatnonzero(row).tolist() for row in labels]})
        else:
            frame = pl.DataFrame({"example_id": ids, "text": texts(rng, n),
                                  "text_pair": texts(rng, n),
                                  "label": rng.integers(0, num_classes, size=n)})
        io.write_parquet(frame, path(layout.DATA_SPLIT, dataset=name, split=split))
        splits[split] = frame
    io.write_json([f"{name}-class-{c}" for c in range(num_classes)],
                  path(layout.CLASSES, dataset=name))
    kind = LabelKind.MULTI if multi else LabelKind.SINGLE
    io.write_json({"label_kind": str(kind)}, path(layout.DATA_META, dataset=name))
    return splits


def predictions(splits, num_classes, multi, rng, flip: float, constant: int | None = None):
    frames = []
    for split in SPLITS:
        frame = splits[split]
        n = frame.height
        for seed in range(SEEDS):
            if multi:
                truth = np.zeros((n, num_classes), dtype=np.int8)
                for i, labels in enumerate(frame["labels"].to_list()):  # test data only
                    truth[i, labels] = 1
                preds = np.where(rng.random((n, num_classes)) < flip, 1 - truth, truth)
                frames.append(pl.DataFrame({
                    "seed": [seed] * n, "split": [split] * n, "example_id": frame["example_id"],
                    "labels": truth.tolist(), "preds": preds.astype(np.int8).tolist(),
                    "loss": rng.random(n), "logits": (4.0 * preds - 2.0).tolist()},
                    schema_overrides={"labels": pl.List(pl.Int8), "preds": pl.List(pl.Int8),
                                      "logits": pl.List(pl.Float32)}))
            else:
                label = frame["label"].to_numpy()
                noise = rng.integers(0, num_classes, size=n)
                pred = np.where(rng.random(n) < flip, noise, label)
                if constant is not None:
                    pred = np.full(n, constant)
                logits = 2.0 * np.eye(num_classes)[pred] + rng.random((n, num_classes))
                frames.append(pl.DataFrame({
                    "seed": [seed] * n, "split": [split] * n, "example_id": frame["example_id"],
                    "label": label, "pred": pred, "loss": rng.random(n),
                    "logits": logits.tolist()},
                    schema_overrides={"logits": pl.List(pl.Float32)}))
    return pl.concat(frames)


def metrics_of(preds: pl.DataFrame, kind: LabelKind, sparsity: float) -> pl.DataFrame:
    correct = kind.correct_expr()
    return preds.group_by(["seed", "split"]).agg(correct.mean().alias("accuracy")).with_columns(
        pl.col("accuracy").alias("macro_f1"), pl.lit(sparsity).alias("sparsity"))


class Tree:
    """A results tree under ``base``, laid out by :mod:`pieflow.layout`."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.dense = [Cell.dense(d, "m") for d in DATASETS]
        self.control = [Cell.control(d, "m") for d in DATASETS]
        self.pruned = [Cell(d, "m", "imp", s) for d in DATASETS for s in (50, 90)]
        self.pie_cells = self.pruned + self.control  # as the rules list them
        self.vs_control = self.pruned  # imp is iterative: every cell has a control
        self.models = [{"dataset": d, "model": "m"} for d in DATASETS]

    def __call__(self, template: str, **keys: object) -> str:
        return str(self.base / layout.fill(template, **keys))

    def cell_files(self, cells: list[Cell], name: str) -> list[str]:
        return [str(self.base / cell.path(name)) for cell in cells]

    def vs_control_files(self, cells: list[Cell], name: str) -> list[str]:
        return [self(layout.vs_control_file(name), **cell.keys()) for cell in cells]

    def per_dataset(self, template: str, **extra: object) -> list[str]:
        return [self(template, dataset=d, **extra) for d in DATASETS]

    def per_model(self, template: str) -> list[str]:
        return [self(template, **keys) for keys in self.models]

    def analysis(self, **names: str) -> dict[str, str]:
        return {key: self(layout.analysis_file(value)) for key, value in names.items()}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tree = Tree(tmp_path_factory.mktemp("analysis"))
    rng = np.random.default_rng(0)
    for name, (num_classes, kind) in DATASETS.items():
        multi = kind is LabelKind.MULTI
        splits = write_dataset(tree, name, num_classes, multi, rng)
        dense_cell = Cell.dense(name, "m")
        dense = predictions(splits, num_classes, multi, rng, flip=0.1)
        io.write_parquet(dense, tree.cell_files([dense_cell], "predictions.parquet")[0])
        io.write_parquet(metrics_of(dense, kind, 0.0),
                         tree.cell_files([dense_cell], "metrics.parquet")[0])
        influence = dense.group_by(["split", "example_id"]).agg(
            pl.col("loss").mean().alias("el2n"), pl.col("loss").std().alias("el2n_std"),
            pl.col("loss").mean().alias("dense_loss"))
        io.write_parquet(influence, tree(layout.INFLUENCE, dataset=name, model="m"))
        # the control: longer-trained dense seeds; on tweets never wrong, so undertrained
        cells = [(Cell.control(name, "m"), {"flip": 0.0 if not multi else 0.05})]
        cells += [(Cell(name, "m", "imp", 50), {"flip": 0.3}),
                  (Cell(name, "m", "imp", 90),
                   {"flip": 0.5} if multi else {"flip": 0.6, "constant": 1})]
        for cell, kwargs in cells:
            pruned = predictions(splits, num_classes, multi, rng, **kwargs)
            files = {n: tree.cell_files([cell], f"{n}.parquet")[0]
                     for n in ("predictions", "metrics", "pies", "null_rate", "paired")}
            io.write_parquet(pruned, files["predictions"])
            io.write_parquet(metrics_of(pruned, kind, cell.sparsity / 100), files["metrics"])
            write_diff(tree, name, tree.cell_files([dense_cell], "predictions.parquet")[0],
                       files)
            if not cell.is_control:  # pruning at the control's training budget
                control = tree.cell_files([Cell.control(name, "m")], "predictions.parquet")[0]
                compared = {n: tree.vs_control_files([cell], f"{n}.parquet")[0]
                            for n in ("pies", "null_rate", "paired")}
                write_diff(tree, name, control, {**compared, "predictions": files["predictions"]})
    return tree


def write_diff(tree: Tree, dataset: str, baseline: str, files: dict[str, str]) -> None:
    """The diff stage's outputs for one comparison: PIEs, null rate, paired statistics."""
    diff_cell(baseline, files["predictions"], tree(layout.CLASSES, dataset=dataset),
              tree(layout.DATA_META, dataset=dataset), files["pies"], files["null_rate"],
              files["paired"], repeats=20, seed=0, confidence=0.95)


@pytest.fixture(scope="module")
def analysed(results):
    tree = results
    populations = tree.dense + tree.control + tree.pruned
    cells, pie_cells = [c.keys() for c in populations], [c.keys() for c in tree.pie_cells]
    datasets = list(DATASETS)
    pies = tree.cell_files(tree.pie_cells, "pies.parquet")
    summary = tree(layout.analysis_file("pies.parquet"))
    job.summarise_pies_job(
        pies=pies, pruned=tree.cell_files(tree.pie_cells, "predictions.parquet"),
        cells=pie_cells, dense=tree.per_model(layout.dense_file("predictions.parquet")),
        influence=tree.per_model(layout.INFLUENCE), models=tree.models,
        meta=tree.per_dataset(layout.DATA_META), datasets=datasets,
        outputs=tree.analysis(
            summary="pies.parquet", summary_view="tables/pies.html",
            el2n_bins="el2n_bins.parquet", el2n_bins_view="tables/el2n_bins.html",
            pie_figure="figures/pie_share.png", accuracy_figure="figures/pie_accuracy.png",
            el2n_figure="figures/el2n_loss.png"))
    job.summarise_accuracy_job(
        metrics=tree.cell_files(populations, "metrics.parquet"), cells=cells,
        summary=summary, outputs=tree.analysis(
            table="accuracy.parquet", table_view="tables/accuracy.html",
            figure="figures/accuracy.png"))
    job.summarise_null_rate_job(
        null_rates=tree.cell_files(tree.pie_cells, "null_rate.parquet"), cells=pie_cells,
        summary=summary, outputs=tree.analysis(
            table="null_rate.parquet", table_view="tables/null_rate.html",
            figure="figures/null_rate.png"))
    job.summarise_classes_job(
        predictions=tree.cell_files(populations, "predictions.parquet"), cells=cells,
        pies=pies, pie_cells=pie_cells,
        train=tree.per_dataset(layout.DATA_SPLIT, split="train"),
        classes=tree.per_dataset(layout.CLASSES), meta=tree.per_dataset(layout.DATA_META),
        datasets=datasets, summary=summary, outputs=tree.analysis(
            class_accuracy="class_accuracy.parquet",
            class_accuracy_view="tables/class_accuracy.html",
            class_accuracy_figure="figures/class_accuracy.png",
            pie_classes="pie_classes.parquet", pie_classes_view="tables/pie_classes.html",
            pie_classes_figure="figures/pie_classes.png"))
    from test_analysis import SpaceTokenizer

    for dataset in DATASETS:
        splits = {s: tree(layout.DATA_SPLIT, dataset=dataset, split=s) for s in SPLITS}
        job.text_features_job(splits, tree(layout.TEXT_FEATURES, dataset=dataset))
        counts = pl.concat([
            token_counts(SpaceTokenizer(), pl.read_parquet(p), 8)
            .with_columns(pl.lit(s).alias("split")) for s, p in splits.items()])
        io.write_parquet(counts, tree(layout.TOKEN_COUNTS, dataset=dataset, model="m"))
    job.summarise_text_job(
        pies=pies, cells=pie_cells, features=tree.per_dataset(layout.TEXT_FEATURES),
        datasets=datasets, tokens=tree.per_model(layout.TOKEN_COUNTS), models=tree.models,
        summary=summary, outputs=tree.analysis(
            table="text_comparison.parquet", table_view="tables/text_comparison.html",
            figure="figures/text_effects.png"))
    text_keys = [{"dataset": d, "split": s} for d in DATASETS for s in SPLITS]
    job.summarise_pie_examples_job(
        pies=pies, cells=pie_cells, texts=[tree(layout.DATA_SPLIT, **t) for t in text_keys],
        text_keys=text_keys, classes=tree.per_dataset(layout.CLASSES),
        meta=tree.per_dataset(layout.DATA_META), datasets=datasets,
        influence=tree.per_model(layout.INFLUENCE), models=tree.models, summary=summary,
        outputs=tree.analysis(table="pie_examples.parquet",
                              table_view="tables/pie_examples.html"), k=3)
    job.summarise_pie_predictors_job(
        pies=pies, cells=pie_cells, influence=tree.per_model(layout.INFLUENCE),
        models=tree.models, summary=summary, outputs=tree.analysis(
            table="pie_predictors.parquet", table_view="tables/pie_predictors.html",
            deciles="pie_predictor_deciles.parquet",
            deciles_view="tables/pie_predictor_deciles.html",
            figure="figures/pie_predictors.png"))
    tables = tree.analysis(accuracy="accuracy.parquet", summary="pies.parquet",
                           null_rate="null_rate.parquet", text="text_comparison.parquet",
                           predictors="pie_predictors.parquet")
    job.summarise_findings_job(
        **tables, paired=tree.cell_files(tree.pie_cells, "paired.parquet"), cells=pie_cells,
        vs_control=tree.vs_control_files(tree.vs_control, "null_rate.parquet"),
        vs_control_cells=[c.keys() for c in tree.vs_control],
        outputs=tree.analysis(table="findings.parquet", table_view="tables/findings.html"))
    return Path(tree(layout.ANALYSIS))


CELL = ["dataset", "model", "method", "sparsity", "split"]


FLAGGED_TABLES = ("accuracy", "pies", "el2n_bins", "null_rate", "class_accuracy",
                  "pie_classes", "text_comparison", "pie_examples", "pie_predictors",
                  "pie_predictor_deciles", "findings")


def test_every_table_view_and_figure_is_written(analysed):
    for name in FLAGGED_TABLES:
        table = pl.read_parquet(analysed / f"{name}.parquet")
        assert table.height, name
        assert set(table["dataset"]) == {"tweets", "topics"}, name
        assert {"collapsed", "undertrained"} <= set(table.columns), name
        view = (analysed / "tables" / f"{name}.html").read_text()
        assert view.startswith("<!doctype html>") and "<table>" in view
    for figure in ("accuracy", "pie_share", "pie_accuracy", "el2n_loss", "null_rate",
                   "class_accuracy", "pie_classes", "text_effects", "pie_predictors"):
        assert (analysed / "figures" / f"{figure}.png").stat().st_size > 10_000, figure


# written figure: the plot function that draws it, its table(s), the start of its title
FIGURES = {
    "accuracy": (plot_accuracy, "accuracy", "Test accuracy by sparsity"),
    "pie_share": (plot_pie_share, "pies", "PIEs on the test split by sparsity"),
    "pie_accuracy": (plot_pie_accuracy, "pies", "Where the accuracy goes"),
    "el2n_loss": (plot_el2n_bins, "el2n_bins", "Where pruning costs loss"),
    "null_rate": (plot_null_rate, "null_rate", "PIEs against the null rate"),
    "class_accuracy": (plot_class_accuracy, "class_accuracy", "Per-class accuracy by"),
    "pie_classes": (plot_pie_classes, "pie_classes", "Which classes become PIEs?"),
    "text_effects": (plot_text_effects, "text_comparison", "Are PIEs longer"),
    "pie_predictors": (plot_pie_predictors, ("pie_predictors", "pie_predictor_deciles"),
                       "Which examples become PIEs?"),
}


@pytest.mark.parametrize("name", FIGURES)
def test_plots_return_the_titled_figure_the_job_writes(analysed, tmp_path, name):
    plot, tables, title = FIGURES[name]
    tables = (tables,) if isinstance(tables, str) else tables
    figure = plot(*(pl.read_parquet(analysed / f"{table}.parquet") for table in tables))
    assert isinstance(figure, Figure)
    assert figure.get_suptitle().startswith(title)
    panels = {ax.get_title().split(" · ")[0] for ax in figure.axes if " · m" in ax.get_title()}
    assert panels == set(DATASETS)  # one panel per dataset · model
    assert plt.fignum_exists(figure.number)  # still open: the plot writes nothing
    io.write_figure(figure, tmp_path / f"{name}.png")
    assert not plt.fignum_exists(figure.number)
    assert (tmp_path / f"{name}.png").read_bytes() == (
        analysed / "figures" / f"{name}.png").read_bytes()


@pytest.mark.parametrize("flag", ["collapsed", "undertrained"])
def test_flagged_cells_are_flagged_in_every_table(analysed, flag):
    summary = pl.read_parquet(analysed / "pies.parquet")
    flagged_cells = summary.filter(pl.col(flag)).select(CELL)
    # tweets imp 90 always answers class 1: collapsed on both splits; the tweets control
    # is never wrong, far above the dense models: undertrained
    expected = {"collapsed": ("tweets", "m", "imp", 90),
                "undertrained": ("tweets", "m", "control", 0)}[flag]
    assert expected in {r[:4] for r in flagged_cells.rows()}
    for name in ("null_rate", "pie_classes", "text_comparison", "pie_examples", "el2n_bins",
                 "pie_predictors", "pie_predictor_deciles", "findings"):
        table = pl.read_parquet(analysed / f"{name}.parquet")
        flagged = table.filter(pl.col(flag)).select(CELL).unique()
        assert flagged.sort(CELL).equals(
            flagged_cells.join(table.select(CELL).unique(), on=CELL).sort(CELL)), name
        assert table[flag].null_count() == 0, name
    accuracy = pl.read_parquet(analysed / "accuracy.parquet")
    assert accuracy.filter(pl.col("method") == "dense")[flag].null_count() == 0
    assert "majority_share" in accuracy.columns
    view = (analysed / "tables" / "pies.html").read_text()
    assert f'<tr class="{flag}">' in view


def test_control_rows_appear_as_method_control(analysed):
    for name in ("accuracy", "pies", "null_rate", "el2n_bins", "class_accuracy",
                 "pie_classes", "text_comparison", "pie_predictors", "findings"):
        table = pl.read_parquet(analysed / f"{name}.parquet")
        control = table.filter(pl.col("method") == "control")
        assert set(control["dataset"]) == set(DATASETS), name
        assert set(control["sparsity"]) == {0}, name


def test_findings_read_tables_paired_files_and_the_control(analysed, results):
    findings = pl.read_parquet(analysed / "findings.parquet")
    assert findings.columns == list(FINDINGS_COLUMNS)
    summary = pl.read_parquet(analysed / "pies.parquet")
    assert findings.select(CELL).sort(CELL).equals(summary.select(CELL).sort(CELL))
    pruned = findings.filter(pl.col("method") == "imp")
    control = findings.filter(pl.col("method") == "control")
    for part in ("mean", "low", "high"):  # imp is iterative: compared with the control
        assert pruned[f"vs_control_excess_{part}"].null_count() == 0
        assert pruned[f"control_excess_{part}"].null_count() == 0
        assert control[f"control_excess_{part}"].null_count() == control.height
    # the control's own excess over the dense null is the imp rows' control_excess
    joined = pruned.join(control.select("dataset", "split", "excess_mean"),
                         on=["dataset", "split"])
    assert joined["control_excess_mean"].to_list() == joined["excess_mean_right"].to_list()
    cell = Cell("tweets", "m", "imp", 50)
    paired = pl.read_parquet(results.cell_files([cell], "paired.parquet")[0])
    row = findings.filter((pl.col("dataset") == "tweets") & (pl.col("sparsity") == 50)
                          & (pl.col("split") == "test")).row(0, named=True)
    expected = paired.filter(pl.col("split") == "test").row(0, named=True)
    assert (row["correct_to_wrong"], row["mcnemar_p"]) == (expected["correct_to_wrong"],
                                                           expected["mcnemar_p"])
    vs_control = pl.read_parquet(results.vs_control_files([cell], "null_rate.parquet")[0])
    assert row["vs_control_excess_mean"] == vs_control.filter(
        pl.col("split") == "test")["excess_mean"][0]
    assert row["small_population"]  # 4 seeds: halves of 2
    assert row["finding"].startswith("tweets · m, imp at 50 % on test: ")
    assert "extra training alone gives" in row["finding"]
    collapsed = findings.filter(pl.col("collapsed"))
    assert set(collapsed["verdict"]) == {"unreliable: collapsed"}
    undertrained = findings.filter(pl.col("undertrained") & ~pl.col("collapsed"))
    assert set(undertrained["verdict"]) == {"unreliable: undertrained"}
    view = (analysed / "tables" / "findings.html").read_text()
    assert "Findings: which cells show a real PIE effect" in view
    assert view.index("<th>verdict</th>") < view.index("<th>n_seeds</th>")


def test_tables_have_their_documented_columns(analysed):
    expected = {
        "null_rate": {"population_size", "null_mean", "null_low", "null_high", "pies_mean",
                      "excess_mean", "excess_low", "excess_high", "null_share_mean",
                      "pies_share_mean", "excess_share_mean", "excess_share_low",
                      "excess_share_high", "n_pies_full", "repeats", "confidence"},
        "class_accuracy": {"class", "class_name", "class_rank", "n_train", "train_share",
                           "n_examples", "class_share", "measure", "n_seeds", "score_mean",
                           "score_std"},
        "pie_classes": {"class", "class_name", "class_rank", "n_examples", "class_share",
                        "n_pies", "pie_share", "pie_rate", "over_representation",
                        "n_pies_dense_votes", "n_pies_pruned_votes", "n_flipped"},
        "text_comparison": {"feature", "n_pies", "n_non_pies", "median_pies",
                            "median_non_pies", "u_statistic", "rank_biserial", "p_value",
                            "p_holm", "p_holm_all", "note"},
        "pie_examples": {"rank", "example_id", "text", "text_pair", "label_name",
                         "dense_modal_name", "pruned_modal_name", "flipped_class_names",
                         "dense_agreement", "pruned_agreement", "dense_correct",
                         "pruned_correct", "tie", "el2n"},
    }
    for name, columns in expected.items():
        table = pl.read_parquet(analysed / f"{name}.parquet")
        assert {*CELL, *columns, "collapsed"} <= set(table.columns), name


def test_class_tables_use_the_right_measure_and_names(analysed):
    scores = pl.read_parquet(analysed / "class_accuracy.parquet")
    measures = dict(scores.group_by("dataset").agg(pl.col("measure").first()).rows())
    assert measures == {"tweets": "accuracy", "topics": "f1"}
    assert set(scores.filter(pl.col("dataset") == "topics")["class_name"]) == {
        f"topics-class-{c}" for c in range(4)}
    assert set(scores["method"]) == {"dense", "control", "imp"}
    classes = pl.read_parquet(analysed / "pie_classes.parquet")
    single = classes.filter(pl.col("dataset") == "tweets")
    shares = single.group_by(CELL).agg(pl.col("pie_share").sum(), pl.col("class_share").sum(),
                                       pl.col("n_pies").sum())
    with_pies = shares.filter(pl.col("n_pies") > 0)
    assert with_pies.height
    assert with_pies["pie_share"].to_list() == pytest.approx([1.0] * with_pies.height)
    assert shares["class_share"].to_list() == pytest.approx([1.0] * shares.height)


def test_text_comparison_covers_tokens_and_features(analysed):
    table = pl.read_parquet(analysed / "text_comparison.parquet")
    features = set(table["feature"])
    assert {"n_tokens", "n_words", "flesch_reading_ease", "mean_zipf"} <= features
    assert table["rank_biserial"].drop_nans().is_between(-1, 1).all()
    assert (table["p_holm_all"].drop_nans() >= table["p_value"].drop_nans()).all()


def test_example_pies_are_pies_with_named_labels(analysed, results):
    examples = pl.read_parquet(analysed / "pie_examples.parquet")
    assert examples.group_by(CELL).len()["len"].max() <= 3
    tweets = examples.filter(pl.col("dataset") == "tweets")
    assert tweets["label_name"].str.starts_with("tweets-class-").all()
    assert tweets["dense_modal_name"].ne(tweets["pruned_modal_name"]).all()
    assert tweets["text_pair"].null_count() == 0
    topics = examples.filter(pl.col("dataset") == "topics")
    assert topics["flipped_class_names"].null_count() == 0
    test = pl.read_parquet(results(layout.DATA_SPLIT, dataset="tweets", split="test"))
    first = tweets.filter(pl.col("split") == "test").row(0, named=True)
    assert first["text"] == test.filter(pl.col("example_id") == first["example_id"])["text"][0]


def test_pie_predictors_rate_every_score_the_influence_files_hold(analysed, results):
    """The synthetic influence files hold el2n and dense_loss (no GraNd, agreement, …):
    one row per PIE cell × split × those two scores, none for the others, ten deciles
    each, and the findings name each row's best predictor."""
    table = pl.read_parquet(analysed / "pie_predictors.parquet")
    assert {*CELL, "score", "hard", "source", "auroc", "auroc_low", "auroc_high",
            "top_decile_pie_share", "base_pie_share", "n_pies", "n_examples"} <= set(
                table.columns)
    assert set(table["score"]) == {"el2n", "dense_loss"}
    assert table.group_by(CELL).len()["len"].to_list() == [2] * (table.height // 2)
    cells = pl.read_parquet(analysed / "pies.parquet").select(CELL).unique()
    assert table.select(CELL).unique().sort(CELL).equals(cells.sort(CELL))
    assert set(table.filter(pl.col("score") == "el2n")["source"]) == {
        "early checkpoint (EL2N)"}
    assert (table["hard"] == "high").all()
    rated = table.filter(pl.col("auroc").is_not_null())
    assert rated.height and (rated["auroc_low"] <= rated["auroc"]).all()
    assert (rated["auroc"] <= rated["auroc_high"]).all()
    summary = pl.read_parquet(analysed / "pies.parquet").select(*CELL, "n_pies", "pie_share")
    joined = table.join(summary, on=CELL, suffix="_summary")
    assert (joined["n_pies"] == joined["n_pies_summary"]).all()
    assert joined["base_pie_share"].to_list() == pytest.approx(joined["pie_share"].to_list())
    deciles = pl.read_parquet(analysed / "pie_predictor_deciles.parquet")
    assert deciles.height == 10 * table.height
    per_row = deciles.group_by([*CELL, "score"]).agg(pl.col("n_examples").sum(),
                                                     pl.col("n_pies").sum())
    checked = per_row.join(table, on=[*CELL, "score"], suffix="_table")
    assert checked["n_examples"].to_list() == pytest.approx(
        checked["n_examples_table"].cast(pl.Float64).to_list())
    assert checked["n_pies"].to_list() == pytest.approx(
        checked["n_pies_table"].cast(pl.Float64).to_list())
    findings = pl.read_parquet(analysed / "findings.parquet")
    with_pies = findings.filter(pl.col("n_pies") > 0)
    assert with_pies["best_predictor"].null_count() == 0
    assert set(with_pies["best_predictor"]) <= {"el2n", "dense_loss"}
    best = with_pies.row(0, named=True)
    assert f"{best['best_predictor']}, AUROC {best['best_predictor_auroc']:.2f}" in (
        best["finding"])
    view = (analysed / "tables" / "pie_predictors.html").read_text()
    assert "Difficulty scores as predictors of PIEs" in view
