"""docs/predictions.md's worked example, run as written on files laid out exactly as
lm_eval laid them out (tests/lmeval_fixtures/v0.4.13 copied to ``lm_eval_out/``): the
real SmolLM2 runs and their int8 twins over two few-shot draws, a multiple-choice and a
generated-answer task, through the whole DAG.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from workflow_helpers import failure_report

from pieflow.imports.files import locate_samples

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "lmeval_fixtures" / "v0.4.13"
LINKED = ("Snakefile", "rules", "workflow", "profiles")


def worked_example() -> tuple[str, list[str]]:
    """The worked example's YAML block and its snakemake command's arguments."""
    text = (REPO / "docs" / "predictions.md").read_text(encoding="utf-8")
    section = text[text.index("## Worked example"):]
    config = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    command = re.search(r"```bash\n(\.venv/bin/snakemake [^\n]*)\n```", section).group(1)
    return config, command.split()[1:]


@pytest.fixture(scope="module")
def worked_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("lmeval_example")
    for name in LINKED:
        (workdir / name).symlink_to(REPO / name)
    shutil.copy(REPO / "config.yaml", workdir / "config.yaml")
    shutil.copytree(FIXTURES, workdir / "lm_eval_out")
    config, arguments = worked_example()
    (workdir / "my-imports.yaml").write_text(config)
    # as the docs say: from the working directory (laid out like a clone), the venv's
    # snakemake being the interpreter running these tests
    result = subprocess.run([sys.executable, "-m", "snakemake", *arguments], cwd=workdir,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, failure_report(workdir, result)
    return workdir, yaml.safe_load(config)


def lm_eval_scores(path: str) -> dict:
    date = Path(path).stem.rsplit("_", 1)[1]
    return json.loads((Path(path).parent / f"results_{date}.json").read_text())["results"]


def test_each_members_accuracy_is_lm_evals_own(worked_run):
    workdir, config = worked_run
    for entry, metric in (("sums_choice", "acc,none"), ("sums_generated",
                                                       "exact_match,strict-match")):
        spec = config["imported"][entry]
        for method, files in (("dense", spec["dense"]), ("int8", spec["compressed"]["int8"])):
            sparsity = "0"
            metrics = pl.read_parquet(workdir / "results" / spec["dataset"] / spec["model"]
                                      / method / sparsity / "metrics.parquet").sort("seed")
            for item, accuracy in zip(files, metrics.get_column("accuracy"), strict=True):
                path = locate_samples(str(workdir / item["path"]), spec["task"])
                expected = lm_eval_scores(path)[spec["task"]][metric]
                assert accuracy == pytest.approx(expected), (entry, method, item)


def modal(answers: np.ndarray) -> np.ndarray:
    """Per column the most frequent value, ties to the smallest (an independent count)."""
    out = []
    for column in answers.T:
        values, counts = np.unique(column, return_counts=True)
        out.append(values[counts == counts.max()].min())
    return np.array(out)


def test_pies_are_the_changed_modal_answers(worked_run):
    workdir, _ = worked_run
    cell = workdir / "results" / "sums_mc" / "smollm2"
    answers = {}
    for method in ("dense", "int8"):
        rows = pl.read_parquet(cell / method / "0" / "predictions.parquet").sort(
            "seed", "example_id")
        answers[method] = rows.get_column("pred").to_numpy().reshape(2, -1)
    pies = pl.read_parquet(cell / "int8" / "0" / "pies.parquet").sort("example_id")
    expected = modal(answers["dense"]) != modal(answers["int8"])
    assert pies.get_column("is_pie").to_numpy().tolist() == expected.tolist()
    null = pl.read_parquet(cell / "int8" / "0" / "null_rate.parquet")
    assert "no null rate" in null.get_column("note")[0]


def test_generated_answers_are_compared_as_answers(worked_run):
    workdir, _ = worked_run
    cell = workdir / "results" / "sums_gen" / "smollm2"
    classes = json.loads((workdir / "results" / "sums_gen" / "data" / "classes.json")
                         .read_text())
    meta = json.loads((workdir / "results" / "sums_gen" / "data" / "meta.json").read_text())
    assert meta["label_kind"] == "answer"
    rows = pl.read_parquet(cell / "dense" / "0" / "predictions.parquet")
    assert rows.schema["correct"] == pl.Boolean and "19" in classes
    text = {(r["seed"], r["example_id"]): classes[r["pred"]] for r in rows.iter_rows(named=True)}
    samples = [json.loads(line) for line in Path(locate_samples(str(
        workdir / "lm_eval_out" / "fewshot-seed1" / "smollm2-dense"), "pieflow_sums_gen")
    ).read_text().splitlines()]
    strict = {s["doc_id"]: s["filtered_resps"][0] for s in samples
              if s["filter"] == "strict-match"}
    assert {doc: text[(1, doc)] for doc in strict} == strict
    assert (cell / "int8" / "0" / "pies.parquet").is_file()
