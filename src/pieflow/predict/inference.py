"""Logits of a model on a split, as tidy ``predictions.parquet`` rows."""

from __future__ import annotations

import numpy as np
import polars as pl
import torch
from torch import nn

from pieflow.labels import f1_per_class
from pieflow.models.encoding import Encoded
from pieflow.models.forward import loss_per_example, model_inputs
from pieflow.precision import autocast


@torch.inference_mode()
def predict_logits(
    model: nn.Module, data: Encoded, batch_size: int, device: torch.device
) -> torch.Tensor:
    """Float32 logits in the order of ``data``, under the process-wide precision
    (batches sorted by length: less padding, same result; read back to the host once)."""
    model.eval()
    order = torch.argsort(data.lengths(), stable=True)
    chunks = []
    with autocast(device, model=model):
        for batch in data.batches(batch_size, order):
            chunks.append(model(**model_inputs(batch, device)).float())
    logits = torch.cat(chunks).cpu() if chunks else torch.empty(len(data), 0)
    result = torch.empty_like(logits)
    result[order] = logits
    return result


def prediction_frame(seed: int, split: str, data: Encoded, logits: torch.Tensor) -> pl.DataFrame:
    """One row per example: the tidy ``predictions.parquet`` rows of one model and split."""
    loss = loss_per_example(logits, data.labels, data.kind)
    return pl.DataFrame(
        {
            "seed": np.full(len(data), seed, dtype=np.int64),
            "split": [split] * len(data),
            "example_id": data.example_ids.numpy().astype(np.int64),
            "label": data.labels.numpy().astype(np.int64),
            "pred": logits.argmax(dim=1).numpy().astype(np.int64),
            "logits": logits.numpy().astype(np.float32),
            "loss": loss.numpy().astype(np.float64),
        }
    ).with_columns(pl.col("logits").arr.to_list())


def multi_label_prediction_frame(
    seed: int, split: str, data: Encoded, logits: torch.Tensor, threshold: float
) -> pl.DataFrame:
    """Multi-label rows: multi-hot ``labels`` and ``preds`` (sigmoid ≥ ``threshold``)."""
    loss = loss_per_example(logits, data.labels, data.kind)
    preds = (torch.sigmoid(logits) >= threshold).to(torch.int8)
    return pl.DataFrame(
        {
            "seed": np.full(len(data), seed, dtype=np.int64),
            "split": [split] * len(data),
            "example_id": data.example_ids.numpy().astype(np.int64),
            "labels": data.labels.numpy().astype(np.int8),
            "preds": preds.numpy(),
            "logits": logits.numpy().astype(np.float32),
            "loss": loss.numpy().astype(np.float64),
            "threshold": np.full(len(data), threshold, dtype=np.float64),
        }
    ).with_columns(pl.col("labels", "preds", "logits").arr.to_list())


def tune_threshold(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """The threshold in 0.00, 0.01, …, 0.99 that maximises macro-F1 (lowest on ties).

    Tuned on the validation split per model; the study tuned on training predictions.
    """
    probs = torch.sigmoid(logits.float()).numpy()
    targets = targets.numpy()
    grid = np.arange(100, dtype=np.float64) / 100
    # compared in the probabilities' float32, as the predictions will be
    scores = np.array([f1_per_class(targets, probs >= np.float32(t)).mean() for t in grid])
    return float(grid[int(np.argmax(scores))])
