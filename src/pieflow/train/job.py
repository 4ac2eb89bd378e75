"""The train stage's I/O edge: fine-tune one dense seed and write its checkpoints."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import polars as pl
import torch

from pieflow import io
from pieflow.labels import label_kind
from pieflow.models.classifiers import trainable_state
from pieflow.models.encoding import Encoded
from pieflow.models.loading import encode_for, pick_device
from pieflow.train.dense import train_dense
from pieflow.train.loop import TrainState, optimizer_tensors

log = logging.getLogger(__name__)


def history_frame(state: TrainState, seed: int) -> pl.DataFrame:
    """Loss per epoch of one seed (``history.parquet``)."""
    return pl.DataFrame(state.history).with_columns(pl.lit(seed).alias("seed"))


def learning_frame(learned: list[torch.Tensor], data: Encoded) -> pl.DataFrame:
    """Minibatch correctness per (epoch, training example): the record behind forgetting."""
    ids = data.example_ids.numpy().astype(np.int64)
    return pl.DataFrame({
        "epoch": np.repeat(np.arange(1, len(learned) + 1), len(ids)),
        "example_id": np.tile(ids, len(learned)),
        "correct": torch.cat(learned).numpy() if learned else np.zeros(0, dtype=bool),
    })


def train_dense_job(spec: dict[str, Any], seed: int, train_path: str, classes_path: str,
                    meta_path: str, outputs: dict[str, str]) -> None:
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    data = encode_for(spec, train_path, label_kind(io.read_json(meta_path)), num_classes)
    started = time.perf_counter()
    log.info("training dense seed %d on %d examples (%s, %d epochs)", seed, len(data),
             device, spec["epochs"])
    run = train_dense(spec, data, num_classes, seed, device)
    io.save_tensors(trainable_state(run.model), outputs["model"])
    io.save_tensors(run.early_state, outputs["early"])
    io.save_tensors(optimizer_tensors(run.state.optimizer, run.model), outputs["optimizer"])
    io.write_parquet(history_frame(run.state, seed), outputs["history"])
    io.write_parquet(learning_frame(run.state.learned, data), outputs["learning"])
    log.info("done in %.1f s", time.perf_counter() - started)
