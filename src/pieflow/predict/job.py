"""The predict stage's I/O edge: every seed of one cell on every configured split."""

from __future__ import annotations

import logging
import time
from typing import Any

import polars as pl

from pieflow import io
from pieflow.labels import LabelKind, label_kind
from pieflow.masks import achieved_sparsity, prunable_parameters
from pieflow.models.classifiers import load_tokenizer
from pieflow.models.loading import encode_frame, restore_model
from pieflow.predict.inference import (
    multi_label_prediction_frame,
    predict_logits,
    prediction_frame,
    tune_threshold,
)
from pieflow.predict.metrics import metrics_frame
from pieflow.runtime import pick_device

log = logging.getLogger(__name__)


def predict_job(spec: dict[str, Any], prunable: str, seeds: list[int], checkpoints: list[str],
                split_paths: dict[str, str], classes_path: str, meta_path: str,
                validation_path: str, outputs: dict[str, str]) -> None:
    """Predictions and metrics of every seed of one cell on every configured split.

    ``seeds`` and ``checkpoints`` are aligned. Multi-label: each model's decision
    threshold is tuned on the validation split first.
    """
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    kind = label_kind(io.read_json(meta_path))
    tokenizer = load_tokenizer(spec)
    encoded = {split: encode_frame(spec, tokenizer, pl.read_parquet(path), kind, num_classes)
               for split, path in split_paths.items()}
    tuning = (encode_frame(spec, tokenizer, pl.read_parquet(validation_path), kind, num_classes)
              if kind is LabelKind.MULTI else None)
    batch_size = spec["predict_batch_size"]
    frames, sparsities = [], []
    for seed, path in zip(seeds, checkpoints, strict=True):
        model = restore_model(spec, num_classes, seed, io.load_tensors(path), device)
        sparsity = achieved_sparsity(prunable_parameters(model, prunable).values())
        record = {"seed": seed, "sparsity": sparsity}
        if tuning is not None:
            record["threshold"] = tune_threshold(
                predict_logits(model, tuning, batch_size, device), tuning.labels)
        sparsities.append(record)
        for split, data in encoded.items():
            started = time.perf_counter()
            logits = predict_logits(model, data, batch_size, device)
            if tuning is not None:
                frames.append(multi_label_prediction_frame(seed, split, data, logits,
                                                           record["threshold"]))
            else:
                frames.append(prediction_frame(seed, split, data, logits))
            log.info("seed %d %s: %d examples in %.1f s", seed, split, len(data),
                     time.perf_counter() - started)
    predictions = pl.concat(frames)
    metrics = metrics_frame(predictions, num_classes, kind).join(
        pl.DataFrame(sparsities), on="seed", how="left")
    io.write_parquet(predictions, outputs["predictions"])
    io.write_parquet(metrics, outputs["metrics"])
    summary = metrics.group_by("split").agg(pl.col("accuracy").mean()).sort("split")
    log.info("mean accuracy per split: %s", dict(summary.iter_rows()))
