"""The LLM stage's I/O edge: convert a GGUF once, and load, compress and evaluate one
member (rule evaluate_llm) or export it (rule export_llm).

A member is one lm-evaluation-harness run, in process: the model (loaded once per job,
compressed in memory with the member's calibration draw) wrapped by pieflow's scorer,
``simple_evaluate(..., fewshot_random_seed=seed, log_samples=True)``. Its samples are
written as lm_eval's own ``--log_samples`` writes them, so pieflow's lm-eval reader —
the same one that reads files made elsewhere — turns them into predictions.parquet.
Compressed models are not kept (a 135M-parameter model is 0.5 GB in fp32 per member);
compression is seconds, and ``export: true`` writes them in Hugging Face's format.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import torch

from pieflow import io, precision
from pieflow.llm.compress import calibration_data, compress_causal_lm, export_hf
from pieflow.llm.loading import (
    LLMError,
    convert_gguf,
    load_causal_lm,
    resolve_pretrained,
)
from pieflow.llm.tasks import check_limit, dataset_task, load_task, task_manager, task_texts
from pieflow.prune.methods import MethodSpec
from pieflow.runtime import pick_device

log = logging.getLogger(__name__)


def convert_job(pretrained: str, gguf_file: str, out_dir: str) -> None:
    """Dequantize a GGUF once into a safetensors folder that later jobs load in seconds."""
    started = time.perf_counter()
    convert_gguf(resolve_pretrained(pretrained), gguf_file, out_dir)
    log.info("converted %s/%s in %.1f s", pretrained, gguf_file,
             time.perf_counter() - started)


@contextmanager
def task_files(task: Mapping[str, Any], inputs: Mapping[str, str]) -> Iterator[str | None]:
    """The include_path lm_eval reads the task from: the configured folder, or, for a
    pieflow dataset made a task, a scratch folder with its YAML and documents."""
    if task.get("dataset") is None:
        yield task.get("include_path")
        return
    with tempfile.TemporaryDirectory(prefix="pieflow-task-") as folder:
        frames = {split: pl.read_parquet(inputs[split]) for split in ("train", "test")}
        dataset_task(task["task"], task["template"], frames,
                     list(io.read_json(inputs["classes"])), folder)
        yield folder


def _dtype(device: torch.device) -> str:
    """bf16 weights where the profile's precision resolves to bf16 on a GPU; fp32 on CPUs
    (log-likelihoods of close choices need the digits there)."""
    return "bfloat16" if device.type == "cuda" and precision.resolve(device) == "bf16" \
        else "float32"


def _calibration_texts(calibration: Mapping[str, Any], task_obj: Any) -> list[str]:
    text_file = calibration.get("text_file")
    if text_file is None:
        return task_texts(task_obj)
    paragraphs = [p.strip() for p in Path(text_file).read_text(encoding="utf-8").split("\n\n")]
    texts = [p for p in paragraphs if p]
    if not texts:
        raise LLMError(f"calibration.text_file {text_file}: no text")
    return texts


def _member_model(model: Mapping[str, Any], source: str | None, method: Mapping | None,
                  checkpoint: Mapping | None, sparsity: int, seed: int,
                  calibration: Mapping | None, task_obj: Any,
                  timings: dict[str, float]) -> tuple[Any, Any, dict[str, Any]]:
    """The member's model, loaded and compressed, and what compression did."""
    device = pick_device()
    started = time.perf_counter()
    if checkpoint is not None:
        where, revision = checkpoint["pretrained"], checkpoint.get("revision")
    elif source is not None:  # a GGUF converted by rule convert_llm
        where, revision = source, None
    else:
        where, revision = resolve_pretrained(model["pretrained"]), model.get("revision")
    dtype = _dtype(device)
    lm_model, tokenizer = load_causal_lm(where, revision, dtype, device,
                                         trust_remote_code=model["trust_remote_code"])
    timings["load_s"] = time.perf_counter() - started
    record: dict[str, Any] = {"loaded_from": str(where), "revision": revision,
                              "dtype": dtype, "device": str(device)}
    started = time.perf_counter()
    if method is not None:
        spec = MethodSpec(**method)
        calib = None
        if spec.needs_calibration:
            texts = _calibration_texts(calibration or {}, task_obj)
            calib = calibration_data(tokenizer, texts, int(calibration["sequences"]),
                                     int(calibration["length"]), seed)
        record.update(compress_causal_lm(lm_model, spec, sparsity, seed, calib, device,
                                         include_head=model["include_head"]))
    timings["compress_s"] = time.perf_counter() - started
    return lm_model, tokenizer, record


def write_samples(samples: list[dict[str, Any]], path: str) -> None:
    """Samples as lm-evaluation-harness 0.4.x's ``--log_samples`` writes them (JSON lines;
    ``arguments`` as ``gen_args_i.arg_j``, every response leaf a string, ``target`` a
    string), so they read like any lm_eval file."""
    from lm_eval.utils import handle_non_serializable, sanitize_list

    lines = []
    for sample in samples:
        out = dict(sample)
        out["arguments"] = {f"gen_args_{i}": {f"arg_{j}": value for j, value in enumerate(arg)}
                            for i, arg in enumerate(sample["arguments"])}
        out["resps"] = sanitize_list(sample["resps"])
        out["filtered_resps"] = sanitize_list(sample["filtered_resps"])
        out["target"] = str(sample["target"])
        lines.append(json.dumps(out, default=handle_non_serializable, ensure_ascii=False))
    io.write_text("\n".join(lines) + "\n", path)


def evaluate_job(model: Mapping[str, Any], task: Mapping[str, Any], method: Mapping | None,
                 checkpoint: Mapping | None, sparsity: int, seed: int,
                 calibration: Mapping | None, inputs: Mapping[str, str],
                 outputs: Mapping[str, str]) -> None:
    """One member: load, compress (``method``) or load a checkpoint made elsewhere, and
    evaluate with few-shot seed ``seed``; samples, lm_eval's scores, and a record of the
    compression with the seconds each part took."""
    from lm_eval import simple_evaluate

    from pieflow.predict.lm_eval_runs import make_lm

    timings: dict[str, float] = {}
    with task_files(task, inputs) as include_path:
        started = time.perf_counter()
        manager = task_manager(task["task"], include_path)
        task_obj = load_task(task["task"], include_path, manager)
        documents = check_limit(task_obj, task.get("limit"))
        timings["task_s"] = time.perf_counter() - started
        lm_model, tokenizer, record = _member_model(
            model, inputs.get("converted"), method, checkpoint, sparsity, seed, calibration,
            task_obj, timings)
        started = time.perf_counter()
        lm = make_lm(lm_model, tokenizer, scorer=model["scorer"],
                     batch_size=model["batch_size"], device=str(lm_model.device))
        out = simple_evaluate(model=lm, tasks=[task["task"]],
                              num_fewshot=task["num_fewshot"], fewshot_random_seed=seed,
                              limit=task.get("limit"), log_samples=True, bootstrap_iters=0,
                              task_manager=manager)
        timings["evaluate_s"] = time.perf_counter() - started
    samples = out["samples"][task["task"]]
    write_samples(samples, outputs["samples"])
    io.write_json({"task": task["task"], "num_fewshot": task["num_fewshot"],
                   "fewshot_seed": seed, "limit": task.get("limit"), "documents": documents,
                   "results": json.loads(json.dumps(out["results"][task["task"]],
                                                    default=str)),
                   "lm_eval_version": _lm_eval_version()}, outputs["results"])
    io.write_json({**record, "seed": seed, "timings": timings}, outputs["compression"])
    log.info("member seed %d: %d documents; load %.1f s, compress %.1f s, evaluate %.1f s",
             seed, documents, timings["load_s"], timings["compress_s"],
             timings["evaluate_s"])


def export_job(model: Mapping[str, Any], task: Mapping[str, Any], method: Mapping,
               sparsity: int, seed: int, calibration: Mapping | None,
               inputs: Mapping[str, str], out_dir: str) -> None:
    """The member's compressed model in Hugging Face's format (the same draw as its
    evaluation, so the same weights)."""
    timings: dict[str, float] = {}
    with task_files(task, inputs) as include_path:
        task_obj = load_task(task["task"], include_path)
        lm_model, tokenizer, record = _member_model(
            model, inputs.get("converted"), method, None, sparsity, seed, calibration,
            task_obj, timings)
    export_hf(lm_model, tokenizer, out_dir, {**record, "seed": seed})


def _lm_eval_version() -> str:
    from importlib.metadata import version

    return version("lm_eval")
