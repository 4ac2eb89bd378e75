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
from pieflow.models.classifiers import load_tokenizer, trainable_state
from pieflow.models.encoding import Encoded
from pieflow.models.forward import is_correct, loss_per_example
from pieflow.models.loading import encode_frame
from pieflow.predict.inference import predict_logits
from pieflow.runtime import pick_device
from pieflow.train.dense import history_frame, resume_dense, train_dense
from pieflow.train.loop import (
    optimizer_tensors,
    train_epochs,
)

log = logging.getLogger(__name__)

# Validation examples per forward pass while recording the training curve. Not the config's
# predict_batch_size: that is an inference key, and training's params (which retrain on
# any change) leave it out; the curve's numbers do not depend on it.
CURVE_BATCH_SIZE = 128


def validation_scores(model: torch.nn.Module, data: Encoded, batch_size: int,
                      device: torch.device) -> dict[str, float]:
    """Accuracy and mean loss on the validation split: one point of the training curve."""
    logits = predict_logits(model, data, batch_size, device)
    return {"val_accuracy": float(is_correct(logits, data.labels, data.kind).float().mean()),
            "val_loss": float(loss_per_example(logits, data.labels, data.kind).mean())}


def _encode_train_and_validation(spec: dict[str, Any], train_path: str,
                                 validation_path: str | None, meta_path: str,
                                 num_classes: int) -> tuple[Encoded, Encoded | None]:
    kind = label_kind(io.read_json(meta_path))
    tokenizer = load_tokenizer(spec)
    data = encode_frame(spec, tokenizer, pl.read_parquet(train_path), kind, num_classes)
    validation = (encode_frame(spec, tokenizer, pl.read_parquet(validation_path), kind, num_classes)
                  if validation_path else None)
    return data, validation


def learning_frame(learned: list[torch.Tensor], data: Encoded) -> pl.DataFrame:
    """Minibatch correctness per (epoch, training example): the record behind forgetting."""
    ids = data.example_ids.numpy().astype(np.int64)
    return pl.DataFrame({
        "epoch": np.repeat(np.arange(1, len(learned) + 1), len(ids)),
        "example_id": np.tile(ids, len(learned)),
        "correct": torch.cat(learned).numpy() if learned else np.zeros(0, dtype=bool),
    })


def train_dense_job(spec: dict[str, Any], seed: int, train_path: str, classes_path: str,
                    meta_path: str, outputs: dict[str, str],
                    validation_path: str | None = None) -> None:
    """One dense seed; with ``validation_path``, its validation accuracy after every
    epoch goes into ``history.parquet`` (the training curve)."""
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    data, validation = _encode_train_and_validation(spec, train_path, validation_path,
                                                    meta_path, num_classes)
    started = time.perf_counter()
    log.info("training dense seed %d on %d examples (%s, %d epochs)", seed, len(data),
             device, spec["epochs"])
    evaluate = ((lambda model: validation_scores(model, validation, CURVE_BATCH_SIZE, device))
                if validation is not None else None)
    run = train_dense(spec, data, num_classes, seed, device, evaluate=evaluate)
    io.save_tensors(trainable_state(run.model), outputs["model"])
    io.save_tensors(run.early_state, outputs["early"])
    io.save_tensors(optimizer_tensors(run.state.optimizer, run.model), outputs["optimizer"])
    io.write_parquet(history_frame(run.state, seed), outputs["history"])
    io.write_parquet(learning_frame(run.state.learned, data), outputs["learning"])
    log.info("done in %.1f s", time.perf_counter() - started)


def train_control_job(spec: dict[str, Any], prunes: int, seed: int, train_path: str,
                      classes_path: str, meta_path: str, dense: dict[str, str],
                      outputs: dict[str, str], validation_path: str | None = None) -> None:
    """The training-budget control of one seed: the dense seed trained ``prunes`` more
    times E epochs, unpruned, so it has trained as long as an iterative method (its
    training curve continues the dense one's when ``validation_path`` is given)."""
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    data, validation = _encode_train_and_validation(spec, train_path, validation_path,
                                                    meta_path, num_classes)
    model, state = resume_dense(spec, num_classes, seed, io.load_tensors(dense["model"]),
                                io.load_tensors(dense["optimizer"]),
                                pl.read_parquet(dense["history"]), device)
    started = time.perf_counter()
    log.info("control seed %d: %d more epochs after the dense %d (%s)", seed,
             prunes * spec["epochs"], spec["epochs"], device)
    train_epochs(model, data, state, seed=seed, epochs=prunes * spec["epochs"],
                 batch_size=spec["batch_size"], device=device,
                 on_epoch=((lambda: validation_scores(model, validation, CURVE_BATCH_SIZE, device))
                           if validation is not None else None))
    io.save_tensors(trainable_state(model), outputs["model"])
    io.write_parquet(history_frame(state, seed), outputs["history"])
    log.info("done in %.1f s", time.perf_counter() - started)
