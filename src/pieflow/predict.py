"""Logits of a model on a split, and the metrics of a population of models."""

from __future__ import annotations

import numpy as np
import polars as pl
import torch
from torch import nn

from pieflow.batching import Encoded
from pieflow.training import loss_per_example, model_inputs


@torch.inference_mode()
def predict_logits(
    model: nn.Module, data: Encoded, batch_size: int, device: torch.device
) -> torch.Tensor:
    """Logits in the order of ``data`` (batches sorted by length: less padding, same result)."""
    model.eval()
    lengths = torch.tensor([len(ids) for ids in data.input_ids])
    order = torch.argsort(lengths, stable=True)
    out = torch.empty(len(data), 0)
    chunks = []
    for batch in data.batches(batch_size, order):
        chunks.append(model(**model_inputs(batch, device)).float().cpu())
    logits = torch.cat(chunks) if chunks else out
    result = torch.empty_like(logits)
    result[order] = logits
    return result


def prediction_frame(seed: int, split: str, data: Encoded, logits: torch.Tensor) -> pl.DataFrame:
    """One row per example: the tidy ``predictions.parquet`` rows of one model and split."""
    loss = loss_per_example(logits, data.labels)
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
    loss = loss_per_example(logits, data.labels)
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


def f1_per_class(targets: torch.Tensor, preds: torch.Tensor) -> torch.Tensor:
    """F1 of each class from 0/1 (examples × classes) tensors; 0 where undefined."""
    targets, preds = targets.bool(), preds.bool()
    tp = (targets & preds).sum(0).double()
    denom = targets.sum(0).double() + preds.sum(0).double()
    return torch.where(denom > 0, 2 * tp / denom.clamp(min=1), torch.zeros_like(tp))


def tune_threshold(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """The threshold in 0.00, 0.01, …, 0.99 that maximises macro-F1 (lowest on ties).

    Tuned on the validation split per model; the study tuned on training predictions.
    """
    probs = torch.sigmoid(logits.float())
    grid = torch.arange(100, dtype=torch.float64) / 100
    scores = torch.stack([f1_per_class(targets, probs >= t).mean() for t in grid])
    return float(grid[int(torch.argmax(scores))])


def macro_f1(labels: np.ndarray, preds: np.ndarray, num_classes: int) -> float:
    """Macro-F1 over all classes (a class absent from both labels and preds scores 0)."""
    onehot = np.arange(num_classes)
    true = labels[:, None] == onehot
    pred = preds[:, None] == onehot
    tp = (true & pred).sum(0)
    denom = true.sum(0) + pred.sum(0)
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    return float(f1.mean())


def metrics_frame(predictions: pl.DataFrame, num_classes: int) -> pl.DataFrame:
    """Accuracy and macro-F1 per (seed, split); multi-label adds micro-F1 and counts an
    example as accurate only when every class is right (exact match)."""
    if "preds" in predictions.columns:
        return _multi_label_metrics(predictions)
    rows = []
    for (seed, split), part in predictions.group_by(["seed", "split"], maintain_order=True):
        labels = part.get_column("label").to_numpy()
        preds = part.get_column("pred").to_numpy()
        rows.append({"seed": seed, "split": split,
                     "accuracy": float((labels == preds).mean()),
                     "macro_f1": macro_f1(labels, preds, num_classes)})
    return pl.DataFrame(rows).sort(["seed", "split"])


def _multi_label_metrics(predictions: pl.DataFrame) -> pl.DataFrame:
    rows = []
    for (seed, split), part in predictions.group_by(["seed", "split"], maintain_order=True):
        targets = torch.as_tensor(np.stack(part.get_column("labels").to_numpy()))
        preds = torch.as_tensor(np.stack(part.get_column("preds").to_numpy()))
        tp = int((targets.bool() & preds.bool()).sum())
        denom = int(targets.sum() + preds.sum())
        rows.append({
            "seed": seed, "split": split,
            "accuracy": float((targets == preds).all(dim=1).double().mean()),
            "macro_f1": float(f1_per_class(targets, preds).mean()),
            "micro_f1": 2 * tp / denom if denom else 0.0,
        })
    return pl.DataFrame(rows).sort(["seed", "split"])
