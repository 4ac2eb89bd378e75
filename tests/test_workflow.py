"""The whole DAG on a tiny config, then what a config change makes stale."""

from __future__ import annotations

import copy
import shutil

import polars as pl
import pytest
from workflow_helpers import planned_jobs, snakemake, write_config

pytestmark = pytest.mark.slow

# ``finished_run`` (the whole DAG on the tiny config, run once per session and shared
# with tests/test_report.py) lives in tests/conftest.py.


def test_results_contract(finished_run):
    workdir, config = finished_run
    results = workdir / "results" / "tweets"
    for model in config["models"]:
        dense = pl.read_parquet(results / model / "dense" / "0" / "predictions.parquet")
        assert {"seed", "split", "example_id", "label", "pred", "logits", "loss"} <= set(
            dense.columns)
        assert dense.height == 3 * (160 + 120)
        assert dense.schema["logits"] == pl.List(pl.Float32)
        metrics = pl.read_parquet(results / model / "imp" / "50" / "metrics.parquet")
        assert {"seed", "split", "accuracy", "macro_f1", "sparsity"} <= set(metrics.columns)
        assert metrics["sparsity"].to_list() == pytest.approx([0.5] * 6, abs=0.001)
        dense_metrics = pl.read_parquet(results / model / "dense" / "0" / "metrics.parquet")
        assert dense_metrics["sparsity"].max() < 0.01
        pies = pl.read_parquet(results / model / "mp-ai" / "50" / "pies.parquet")
        assert {"split", "example_id", "label", "dense_modal", "pruned_modal", "is_pie", "tie",
                "dense_agreement", "pruned_agreement"} <= set(pies.columns)
        assert pies.filter(pl.col("split") == "test").height == 120
        influence = pl.read_parquet(results / model / "influence.parquet")
        assert {"split", "example_id", "el2n", "grand", "forgetting_events",
                "never_learned", "never_learned_share", "dense_loss", "dense_agreement",
                "modal_confidence", "choice_margin"} <= set(influence.columns)
        assert influence["el2n"].is_between(0, 2**0.5).all()
        assert (influence["grand"] > 0).all()
        train = influence.filter(pl.col("split") == "train")
        assert train["forgetting_events"].null_count() == 0
        assert influence.filter(pl.col("split") == "test")["never_learned"].null_count() == 120
        for score in ("dense_agreement", "modal_confidence", "choice_margin"):
            assert influence[score].null_count() == 0, score
        assert influence["dense_agreement"].is_between(1 / 3, 1).all()  # 3 seeds
        pie_rows = pies.join(influence, on=["split", "example_id"])
        assert (pie_rows["dense_agreement"] - pie_rows["dense_agreement_right"]).abs().max() < 1e-12
    vocab = (results / "bilstm" / "vectors" / "vocab.json").read_text()
    assert '"<unk>"' in vocab  # the BiLSTM read the GloVe file through prepare_vectors
    accuracy = pl.read_parquet(workdir / "results" / "analysis" / "accuracy.parquet")
    assert set(accuracy["method"]) == {"dense", "control", "imp", "mp-ai"}
    pruned = accuracy.filter(~pl.col("method").is_in(["dense", "control"]))
    assert pruned["achieved_sparsity_mean"].to_list() == pytest.approx(
        [0.5] * pruned.height, abs=0.001)  # a share, not the cell's percent
    summary = pl.read_parquet(workdir / "results" / "analysis" / "pies.parquet")
    assert summary.height == 2 * 3 * 2  # models × (methods + control) × splits
    training = pl.read_parquet(workdir / "results" / "analysis" / "training.parquet")
    dense = training.filter(pl.col("method") == "dense")
    assert dense.select("model").n_unique() == 2 and (dense["seeds"] == 3).all()
    assert dense["epoch"].to_list() == [1, 1]  # E = 1 each: one point, not judged
    assert dense["converged"].null_count() == 2
    assert training.filter(pl.col("method") == "control")["epoch"].to_list() == [2, 3, 4] * 2
    assert training["val_accuracy_mean"].is_between(0, 1).all()
    for figure in ("accuracy.png", "pie_share.png", "el2n_loss.png", "training_curve.png",
                   "pie_predictors.png"):
        assert (workdir / "results" / "analysis" / "figures" / figure).stat().st_size > 10_000


def test_pie_predictors(finished_run):
    """Every registered score of the trained models, per PIE cell × split: forgetting and
    never-learned on the train split only; AUROCs within [0, 1] around their intervals."""
    workdir, _ = finished_run
    analysis = workdir / "results" / "analysis"
    table = pl.read_parquet(analysis / "pie_predictors.parquet")
    assert {"dataset", "model", "method", "sparsity", "split", "score", "auroc", "auroc_low",
            "auroc_high", "top_decile_pie_share", "base_pie_share", "n_pies",
            "n_examples", "collapsed", "undertrained"} <= set(table.columns)
    assert table.select("model", "method", "sparsity", "split").unique().height == 2 * 3 * 2
    per_split = table.group_by("split").agg(pl.col("score").unique())
    scores = {split: set(found) for split, found in per_split.rows()}
    everywhere = {"el2n", "grand", "dense_loss", "dense_agreement", "modal_confidence",
                  "choice_margin"}
    assert scores["test"] == everywhere
    assert scores["train"] == everywhere | {"forgetting_events", "never_learned_share"}
    rated = table.filter(pl.col("auroc").is_not_null())
    assert rated["auroc"].is_between(0, 1).all()
    assert (rated["auroc_low"] <= rated["auroc_high"]).all()
    deciles = pl.read_parquet(analysis / "pie_predictor_deciles.parquet")
    assert deciles.height == 10 * table.height
    findings = pl.read_parquet(analysis / "findings.parquet")
    assert "best_predictor" in findings.columns


def test_control_and_findings(finished_run):
    """The training-budget control of the iterative method and the findings page."""
    workdir, config = finished_run
    results = workdir / "results"
    for model in config["models"]:
        history = pl.read_parquet(results / "tweets" / model / "control" / "0" / "seeds" / "0"
                                  / "history.parquet")
        assert history["epoch"].to_list() == [1, 2, 3, 4]  # (3 prunes + 1) × E, E = 1
        for name in ("pies", "null_rate", "paired"):
            assert (results / "tweets" / model / "control" / "0" / f"{name}.parquet").is_file()
            assert (results / "tweets" / model / "imp" / "50" / "vs_control"
                    / f"{name}.parquet").is_file()
        assert not (results / "tweets" / model / "mp-ai" / "50" / "vs_control").exists()
    null = pl.read_parquet(results / "tweets" / "bilstm" / "imp" / "50" / "null_rate.parquet")
    assert null["n_common_seeds"].to_list() == [3, 3] and null["population_size"][0] == 1
    findings = pl.read_parquet(results / "analysis" / "findings.parquet")
    assert findings.height == 2 * 3 * 2  # models × (methods + control) × splits
    assert findings["finding"].str.len_chars().min() > 40
    imp = findings.filter(pl.col("method") == "imp")
    assert imp["control_excess_mean"].null_count() == 0
    assert imp["vs_control_excess_mean"].null_count() == 0
    mp_ai = findings.filter(pl.col("method") == "mp-ai")
    assert mp_ai["vs_control_excess_mean"].null_count() == mp_ai.height
    # 3 seeds: halves of one seed, so every row warns that the population is small
    assert findings["small_population"].all()
    assert findings["finding"].str.contains("seeds per population in the null").all()


def test_complete_run_leaves_nothing_to_do(finished_run):
    workdir, _ = finished_run
    assert planned_jobs(workdir) == {}


def test_new_sparsity_schedules_only_new_cells(finished_run):
    workdir, config = finished_run
    changed = copy.deepcopy(config)
    changed["sparsities"] = [50, 90]
    write_config(workdir, changed)
    try:
        jobs = planned_jobs(workdir)
    finally:
        write_config(workdir, config)
    assert {"train_dense", "prepare_dataset", "score_influence"}.isdisjoint(jobs)
    assert len(jobs["prune_model"]) == 2 * 2 * 3  # models × methods × seeds
    assert all(job["sparsity"] == "90" for job in jobs["prune_model"])
    assert all(job["sparsity"] == "90" for job in jobs["predict_cell"])
    assert len(jobs["diff_cell"]) == 4
    assert len(jobs["diff_vs_control"]) == 2  # imp at 90 against each model's control
    assert "train_control" not in jobs  # the control does not depend on sparsities


def test_bilstm_learning_rate_retrains_no_encoder_cell(finished_run):
    workdir, config = finished_run
    changed = copy.deepcopy(config)
    changed["models"]["bilstm"]["lr"] = 1e-3
    write_config(workdir, changed)
    try:
        jobs = planned_jobs(workdir)
    finally:
        write_config(workdir, config)
    assert len(jobs["train_dense"]) == 3
    for rule in ("train_dense", "train_control", "prune_model", "predict_cell", "diff_cell",
                 "diff_vs_control", "score_influence"):
        assert jobs.get(rule), rule
        assert all(job["model"] == "bilstm" for job in jobs[rule]), rule


def test_a_failed_job_leaves_no_output(tmp_path, finished_run):
    """A dataset that cannot be read fails its job and leaves no half-written file."""
    workdir, config = finished_run
    broken = copy.deepcopy(config)
    folder = tmp_path / "prepared"  # exists, so the config passes; its files do not parse
    folder.mkdir()
    (folder / "classes.json").write_text('["a", "b"]')
    for split in ("train", "validation", "test"):
        (folder / f"{split}.parquet").write_text("not a parquet file")
    broken["datasets"] = {"mine": {"source": "parquet", "path": str(folder)}}
    target = tmp_path / "work"
    target.mkdir()
    write_config(target, broken)
    result = snakemake(target, "results/mine/data/train.parquet")
    assert result.returncode != 0
    log = (target / "results" / "logs" / "prepare_dataset" / "mine.log").read_text()
    assert "train.parquet" in log
    assert not (target / "results" / "mine" / "data").exists() or not any(
        (target / "results" / "mine" / "data").iterdir())
    shutil.rmtree(target)
