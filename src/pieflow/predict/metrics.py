"""Accuracy and F1 of each model of a population, per split."""

from __future__ import annotations

import numpy as np
import polars as pl

from pieflow.labels import LabelKind, f1_per_class, micro_f1, one_hot


def metrics_frame(predictions: pl.DataFrame, num_classes: int, kind: LabelKind) -> pl.DataFrame:
    """Accuracy and macro-F1 per (seed, split); multi-label adds micro-F1 and counts an
    example as accurate only when every class is right (exact match). Macro-F1 averages
    over all classes (a class absent from both labels and predictions scores 0).
    Generated answers: accuracy is the share the line's metric calls right (``correct``),
    and macro-F1 is null (free-text answers have no fixed class list)."""
    rows = []
    for (seed, split), part in predictions.group_by(["seed", "split"], maintain_order=True):
        if kind is LabelKind.ANSWER:
            rows.append({"seed": seed, "split": split,
                         "accuracy": float(part.get_column("correct").cast(pl.Float64).mean()),
                         "macro_f1": None})
            continue
        if kind is LabelKind.MULTI:
            targets = np.stack(part.get_column("labels").to_numpy()).astype(bool)
            preds = np.stack(part.get_column("preds").to_numpy()).astype(bool)
            accuracy = float((targets == preds).all(axis=1).mean())
            extra = {"micro_f1": micro_f1(targets, preds)}
        else:
            labels = part.get_column("label").to_numpy()
            pred = part.get_column("pred").to_numpy()
            accuracy = float((labels == pred).mean())
            targets, preds = one_hot(labels, num_classes), one_hot(pred, num_classes)
            extra = {}
        rows.append({"seed": seed, "split": split, "accuracy": accuracy,
                     "macro_f1": float(f1_per_class(targets, preds).mean()), **extra})
    return pl.DataFrame(rows).with_columns(pl.col("macro_f1").cast(pl.Float64)).sort(
        ["seed", "split"])
