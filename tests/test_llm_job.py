"""One LLM member through the workflow's job function (pieflow.llm.job.evaluate_job) on a
tiny random Llama: a pieflow dataset made a multiple-choice task, compressed with Wanda
on its calibration draw, evaluated by lm-evaluation-harness in process; the samples it
writes read back through pieflow's lm-eval reader with lm_eval's own accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from pieflow import io
from pieflow.imports.lmeval import read_samples
from pieflow.llm.job import evaluate_job
from pieflow.llm.tasks import TaskError
from pieflow.prune.methods import BUILTIN_METHODS

CLASSES = ["negative", "neutral", "positive"]
TEXTS = ["i love it", "meh, fine", "worst day ever", "so happy today", "not sure",
         "terrible service", "great game", "it is ok", "awful news", "best thing"]


def split(start: int, count: int) -> pl.DataFrame:
    rows = [(start + i, TEXTS[(start + i) % len(TEXTS)], (start + i) % 3)
            for i in range(count)]
    return pl.DataFrame(rows, schema={"example_id": pl.Int64, "text": pl.String,
                                      "label": pl.Int64}, orient="row")


@pytest.fixture
def dataset_inputs(tmp_path) -> dict[str, str]:
    inputs = {"train": str(tmp_path / "train.parquet"), "test": str(tmp_path / "test.parquet"),
              "classes": str(tmp_path / "classes.json")}
    split(0, 12).write_parquet(inputs["train"])
    split(100, 9).write_parquet(inputs["test"])
    io.write_json(CLASSES, inputs["classes"])
    return inputs


def model_params(folder: Path) -> dict:
    return {"pretrained": str(folder), "revision": None, "gguf_file": None,
            "trust_remote_code": False, "include_head": False, "batch_size": 4,
            "scorer": "pieflow-hf"}


TASK = {"name": "tw", "task": "pieflow_tw", "num_fewshot": 2, "limit": None,
        "dataset": "tw", "template": "Tweet: {text}\nSentiment:"}
CALIBRATION = {"text_file": None, "sequences": 4, "length": 16}


def run(tmp_path, folder, inputs, seed, method="wanda", sparsity=50, task=TASK,
        name="out") -> dict[str, str]:
    out = tmp_path / name
    outputs = {key: str(out / f"{key}.json") for key in ("results", "compression")}
    outputs["samples"] = str(out / "samples.jsonl")
    definition = BUILTIN_METHODS[method].as_params() if method else None
    evaluate_job(model_params(folder), task, definition, None, sparsity, seed,
                 CALIBRATION if method == "wanda" else None, inputs, outputs)
    return outputs


def test_a_dataset_task_member_reads_back_with_lm_evals_accuracy(tmp_path, tiny_llama_dir,
                                                                 dataset_inputs):
    outputs = run(tmp_path, tiny_llama_dir, dataset_inputs, seed=1)
    results = json.loads(Path(outputs["results"]).read_text())
    assert results["documents"] == 9 and results["fewshot_seed"] == 1
    text = Path(outputs["samples"]).read_text()
    rows = list(read_samples(outputs["samples"], text, score="loglikelihood",
                             text_field=None))
    assert len(rows) == 9
    assert {row["text"] for row in rows} <= set(TEXTS)
    accuracy = sum(row["pred"] == row["label"] for row in rows) / len(rows)
    assert accuracy == pytest.approx(results["results"]["acc,none"])
    first = json.loads(text.splitlines()[0])
    assert first["doc"]["example_id"] == 100  # the dataset's own id travels with the doc
    assert [json.loads(line)["arguments"]["gen_args_2"]["arg_1"]
            for line in text.splitlines()][:1] == [" positive"]
    compression = json.loads(Path(outputs["compression"]).read_text())
    assert compression["achieved_sparsity"] == pytest.approx(0.5)
    assert compression["calibration_sequences"] >= 1
    assert set(compression["timings"]) == {"task_s", "load_s", "compress_s", "evaluate_s"}


def test_the_same_seed_gives_the_same_member_and_another_seed_other_prompts(
        tmp_path, tiny_llama_dir, dataset_inputs):
    a = run(tmp_path, tiny_llama_dir, dataset_inputs, seed=3, name="a")
    b = run(tmp_path, tiny_llama_dir, dataset_inputs, seed=3, name="b")
    c = run(tmp_path, tiny_llama_dir, dataset_inputs, seed=4, name="c", method=None,
            sparsity=0)
    assert Path(a["samples"]).read_text() == Path(b["samples"]).read_text()

    def prompts(path: str) -> list[str]:
        return [json.loads(line)["arguments"]["gen_args_0"]["arg_0"]
                for line in Path(path).read_text().splitlines()]

    assert prompts(a["samples"]) != prompts(c["samples"])


def test_a_limit_beyond_the_task_is_refused_before_the_model_loads(tmp_path,
                                                                   dataset_inputs):
    task = {**TASK, "limit": 50}
    with pytest.raises(TaskError, match="limit 50 is larger than task pieflow_tw's 9 "
                                        "documents"):
        run(tmp_path, tmp_path / "no-such-model", dataset_inputs, seed=0, task=task)
