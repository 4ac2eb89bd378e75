"""The prune stage's I/O edge: compress one seed with one method to one sparsity.

The model file holds the final float weights — dequantized when the method quantizes —
so ``predict`` reads every method's checkpoint the same way.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import polars as pl
import torch

from pieflow import io
from pieflow.labels import label_kind
from pieflow.models.classifiers import load_tokenizer, trainable_state
from pieflow.models.loading import encode_frame
from pieflow.prune.methods import MethodSpec
from pieflow.prune.schedules import run_pruning
from pieflow.runtime import pick_device
from pieflow.train.dense import history_frame, resume_dense

log = logging.getLogger(__name__)

# prune_rounds.parquet: one row per compression step, the same columns for every method.
ROUNDS_SCHEMA = {
    "round": pl.Int64, "step": pl.String, "epoch": pl.Int64,
    "target_sparsity": pl.Float64, "achieved_sparsity": pl.Float64,
    "pattern": pl.String, "bits": pl.Int64, "group_size": pl.Int64, "scheme": pl.String,
    "symmetric": pl.Boolean, "calibration_seed": pl.Int64,
    "calibration_example_ids": pl.List(pl.Int64),
}


def rounds_frame(rounds: list[dict[str, Any]], seed: int) -> pl.DataFrame:
    """The rounds of one seed with a fixed schema (nulls where a step has no value)."""
    return pl.DataFrame(rounds, schema=ROUNDS_SCHEMA).with_columns(
        pl.lit(seed, dtype=pl.Int64).alias("seed"))


def prune_job(spec: dict[str, Any], method: dict[str, Any], sparsity_percent: int,
              prunable: str, seed: int, train_path: str, classes_path: str, meta_path: str,
              dense: dict[str, str] | None, outputs: dict[str, str]) -> None:
    """``dense``: the dense seed's model, optimizer and history files (iterative and
    post-training methods continue from them), or None."""
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    data = encode_frame(spec, load_tokenizer(spec), pl.read_parquet(train_path),
                        label_kind(io.read_json(meta_path)), num_classes)
    method_spec = MethodSpec(**method)
    resumed = None
    if method_spec.starts_from_dense:
        if not dense:
            raise ValueError(f"{method_spec.schedule} pruning needs the dense checkpoint of "
                             "the same seed")
        resumed = resume_dense(spec, num_classes, seed, io.load_tensors(dense["model"]),
                               io.load_tensors(dense["optimizer"]),
                               pl.read_parquet(dense["history"]), device)
    started = time.perf_counter()
    run = run_pruning(spec, method_spec, sparsity_percent / 100, data, num_classes, seed,
                      device, dense=resumed, prunable=prunable)
    io.save_tensors(trainable_state(run.model), outputs["model"])
    io.save_tensors({n: m.to(torch.uint8) for n, m in run.masks.items()}, outputs["mask"])
    io.write_parquet(history_frame(run.state, seed), outputs["history"])
    io.write_parquet(rounds_frame(run.rounds, seed), outputs["rounds"])
    log.info("done in %.1f s; final sparsity %.4f", time.perf_counter() - started,
             run.rounds[-1]["achieved_sparsity"])
