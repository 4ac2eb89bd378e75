"""The whole DAG on imported predictions only, and a config mixing them with trained cells.

One Snakemake run covers two imported entries: lm-evaluation-harness samples of a
4-choice task (5 dense seeds and their compressed twins, with texts) and a generic CSV
(3 dense seeds in one file, class names, no logits, no texts), whose null rate and text
analysis are skipped and said to be.
"""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from imported_files import (
    compressed,
    population,
    scores_for,
    table_frame,
    texts,
    write_csv,
    write_lm_eval,
)
from workflow_helpers import failure_report, planned_jobs, snakemake, tiny_config, write_config

from pieflow.analysis.findings import NO_TEXTS
from pieflow.imports.difficulty import FROM_ANSWERS, FROM_PROBABILITIES

pytestmark = pytest.mark.slow

N = 80
CLASSES = ["negative", "neutral", "positive"]


def imported_config(workdir) -> dict:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, N)
    hard = np.arange(N) < 24
    dense = population(labels, 5, 0.85, 4, rng)
    twins = compressed(dense, labels, hard, 0.9, 4, rng)
    example_texts = texts(N, rng)
    lm_dense = write_lm_eval(workdir / "lm_eval", "dense", labels, dense,
                             scores_for(dense, 4, rng), example_texts)
    lm_int4 = write_lm_eval(workdir / "lm_eval", "int4", labels, twins,
                            scores_for(twins, 4, rng), example_texts)
    review_labels = rng.integers(0, 3, 40)
    review_dense = population(review_labels, 3, 0.8, 3, rng)
    review_pruned = compressed(review_dense, review_labels, np.arange(40) < 10, 0.8, 3, rng)
    dense_csv = write_csv(table_frame(review_labels, review_dense, classes=CLASSES),
                          workdir / "reviews" / "dense.csv")
    pruned_csv = write_csv(table_frame(review_labels, review_pruned, classes=CLASSES),
                           workdir / "reviews" / "pruned.csv")
    return {
        "splits": ["test"],
        "imported": {
            "hellaswag_like": {
                "dataset": "minihs", "model": "tiny_lm", "format": "lm-eval",
                "dense": [str(p) for p in lm_dense],
                "compressed": {"int4": [str(p) for p in lm_int4]},
            },
            "reviews": {
                "dataset": "reviews", "model": "ext_clf", "format": "table",
                "dense": [dense_csv],
                "compressed": {"pruned": {"sparsity": 50, "files": [pruned_csv]}},
            },
        },
    }


@pytest.fixture(scope="module")
def imported_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("imported")
    config = imported_config(workdir)
    write_config(workdir, config)
    result = snakemake(workdir)
    assert result.returncode == 0, failure_report(workdir, result)
    return workdir


def test_imported_cells_meet_the_results_contract(imported_run):
    results = imported_run / "results"
    predictions = pl.read_parquet(results / "minihs" / "tiny_lm" / "dense" / "0" /
                                  "predictions.parquet")
    assert predictions.columns == ["seed", "split", "example_id", "label", "pred", "logits",
                                   "loss"]
    assert predictions.height == 5 * N and predictions.schema["logits"] == pl.List(pl.Float32)
    metrics = pl.read_parquet(results / "minihs" / "tiny_lm" / "int4" / "0" / "metrics.parquet")
    assert {"seed", "split", "accuracy", "macro_f1", "sparsity"} <= set(metrics.columns)
    data = pl.read_parquet(results / "minihs" / "data" / "test.parquet")
    assert data.columns == ["example_id", "text", "text_pair", "label"] and data.height == N
    assert data["text"].str.len_chars().min() > 0
    assert json.loads((results / "minihs" / "data" / "classes.json").read_text()) == [
        f"choice {i}" for i in range(4)]
    meta = json.loads((results / "reviews" / "data" / "meta.json").read_text())
    assert (meta["label_kind"], meta["source"], meta["texts"]) == ("single", "imported", False)
    assert json.loads((results / "reviews" / "data" / "classes.json").read_text()) == CLASSES
    assert (results / "reviews" / "ext_clf" / "pruned" / "50" / "pies.parquet").is_file()
    for model, source in (("minihs/tiny_lm", FROM_PROBABILITIES),
                          ("reviews/ext_clf", FROM_ANSWERS)):
        influence = pl.read_parquet(results / model / "influence.parquet")
        assert set(influence["difficulty_source"]) == {source}
        assert influence["el2n"].is_between(0, 2**0.5).all()
    assert not list(results.glob("*/*/*/*/seeds"))  # nothing trained, pruned or predicted


def test_five_dense_seeds_give_pies_null_rate_paired_and_findings(imported_run):
    cell = imported_run / "results" / "minihs" / "tiny_lm" / "int4" / "0"
    pies = pl.read_parquet(cell / "pies.parquet")
    assert pies.height == N and pies["is_pie"].sum() >= 10
    null = pl.read_parquet(cell / "null_rate.parquet").row(0, named=True)
    assert (null["n_common_seeds"], null["population_size"], null["note"]) == (5, 2, None)
    assert null["excess_low"] > 0
    paired = pl.read_parquet(cell / "paired.parquet").row(0, named=True)
    assert paired["correct_to_wrong"] > paired["wrong_to_correct"]
    assert paired["mcnemar_p"] < 0.05 and paired["kl_mean"] > 0
    findings = pl.read_parquet(imported_run / "results" / "analysis" / "findings.parquet")
    row = findings.filter(pl.col("dataset") == "minihs").row(0, named=True)
    assert row["verdict"] == "PIE effect beyond seed noise"
    assert row["compression"] == "imported" and row["null_rate_note"] is None
    assert "beyond the dense-vs-dense null" in row["finding"]
    text = pl.read_parquet(imported_run / "results" / "analysis" / "text_comparison.parquet")
    assert set(text["dataset"]) == {"minihs"} and "n_tokens" not in set(text["feature"])


def test_three_dense_members_skip_the_null_rate_and_say_so(imported_run):
    results = imported_run / "results"
    cell = results / "reviews" / "ext_clf" / "pruned" / "50"
    note = "no null rate: the dense population has 3 < 4 members (flips and McNemar only)"
    null = pl.read_parquet(cell / "null_rate.parquet").row(0, named=True)
    assert null["note"] == note and null["excess_mean"] is None
    paired = pl.read_parquet(cell / "paired.parquet").row(0, named=True)
    assert paired["n_pairs"] == 3 and 0 <= paired["mcnemar_p"] <= 1
    assert np.isnan(paired["kl_mean"])  # no logits imported
    findings = pl.read_parquet(results / "analysis" / "findings.parquet")
    row = findings.filter(pl.col("dataset") == "reviews").row(0, named=True)
    assert row["verdict"] == "no null rate" and row["null_rate_note"] == note
    assert note in row["finding"] and "McNemar p" in row["finding"]
    assert row["strongest_text_effect"] == NO_TEXTS
    view = (results / "analysis" / "tables" / "findings.html").read_text()
    assert "Skipped: 1 row — no null rate: the dense population has 3 &lt; 4 members" in view
    assert "text analysis of dataset reviews (no texts were imported)" in view


def test_complete_imported_run_leaves_nothing_to_do(imported_run):
    assert planned_jobs(imported_run) == {}


def test_a_config_may_mix_imported_and_trained_cells(tmp_path, tiny_bert_dir):
    """A dry run: trained cells train, imported cells on the same dataset are imported
    (its data prepared once), and the analysis reads both."""
    config = tiny_config(tiny_bert_dir)
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, 10)
    dense = population(labels, 4, 0.8, 3, rng)
    frame = table_frame(labels, dense, scores_for(dense, 3, rng), ids=np.arange(10) + 2 * 10**9)
    config["imported"] = {"ext": {
        "dataset": "tweets", "model": "external", "format": "table",
        "dense": [write_csv(frame, tmp_path / "dense.csv")],
        "compressed": {"int8": [write_csv(frame, tmp_path / "int8.csv")]}}}
    write_config(tmp_path, config)
    jobs = planned_jobs(tmp_path)
    imported = {(j["model"], j["method"]) for j in jobs["import_predictions"]}
    assert imported == {("external", "dense"), ("external", "int8")}
    assert "import_dataset" not in jobs and len(jobs["prepare_dataset"]) == 1
    assert [j["model"] for j in jobs["diff_imported_cell"]] == ["external"]
    assert [j["model"] for j in jobs["score_imported_difficulty"]] == ["external"]
    assert {j["model"] for j in jobs["train_dense"]} == {"tinybert", "bilstm"}
    assert {j["model"] for j in jobs["diff_cell"]} == {"tinybert", "bilstm"}
    assert {j["model"] for j in jobs["count_tokens"]} == {"tinybert", "bilstm"}
