"""The label kind — one class per example, or a set of classes — as a value.

It is decided once, when a dataset is prepared (``label_kind`` in the dataset's
``meta.json``), and passed on; everything that depends on it (columns, votes, correctness,
F1) is written here once per kind.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import polars as pl


class LabelKind(StrEnum):
    SINGLE = "single"
    MULTI = "multi"

    @property
    def label_column(self) -> str:
        """``label`` (class index) or ``labels`` (multi-hot list) in predictions and PIEs."""
        return "labels" if self is LabelKind.MULTI else "label"

    @property
    def pred_column(self) -> str:
        return "preds" if self is LabelKind.MULTI else "pred"

    def correct_expr(self) -> pl.Expr:
        """1.0 where a model is right: the label, or for multi-label every class."""
        return (pl.col(self.pred_column) == pl.col(self.label_column)).cast(pl.Float64)


def label_kind_of(frame: pl.DataFrame) -> LabelKind:
    """The kind of a frame of labels — a split being prepared, rows being imported: a
    ``labels`` column (multi-hot or index lists) makes it multi-label. The one place the
    kind is read from column names; once a dataset is prepared, ``meta.json`` says it."""
    return LabelKind.MULTI if "labels" in frame.columns else LabelKind.SINGLE


def label_kind(meta: dict) -> LabelKind:
    """The kind recorded in a prepared dataset's ``meta.json``."""
    return LabelKind(meta["label_kind"])


# --------------------------------------------------------------------------------------
# Votes of a population (seeds × examples [× classes])
# --------------------------------------------------------------------------------------


def vote_counts(preds: np.ndarray, num_classes: int) -> np.ndarray:
    """``preds`` (seeds × examples) class indices → counts (examples × classes)."""
    counts = np.zeros((preds.shape[1], num_classes), dtype=np.int64)
    for cls in range(num_classes):  # a loop over classes, vectorised over examples
        counts[:, cls] = (preds == cls).sum(axis=0)
    return counts


def modal_labels(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(modal label, tie flag, agreement) per example; ties go to the lowest class index."""
    top = counts.max(axis=1)
    modal = counts.argmax(axis=1)  # argmax returns the first, i.e. lowest, of tied classes
    tie = (counts == top[:, None]).sum(axis=1) > 1
    agreement = top / counts.sum(axis=1)
    return modal, tie, agreement


def majority_votes(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per class, "on" when more than half of the models predict it.

    ``votes``: (seeds × examples × classes) 0/1. Returns (on, tie, agreement): ``tie``
    marks classes with exactly half the votes (only possible for an even population; such
    a class counts as off), ``agreement`` is the mean over classes of the share of models
    agreeing with the vote.
    """
    seeds = votes.shape[0]
    counts = votes.sum(axis=0)
    on = 2 * counts > seeds
    tie = 2 * counts == seeds
    agreement = (np.maximum(counts, seeds - counts) / seeds).mean(axis=1)
    return on, tie, agreement


# --------------------------------------------------------------------------------------
# F1
# --------------------------------------------------------------------------------------


def one_hot(indices: np.ndarray, num_classes: int) -> np.ndarray:
    """Class indices (n,) → (n × classes) bool."""
    return np.asarray(indices)[:, None] == np.arange(num_classes)


def f1_per_class(targets: np.ndarray, preds: np.ndarray) -> np.ndarray:
    """F1 of each class from 0/1 (examples × classes) arrays; 0 where undefined (a class
    absent from both targets and predictions)."""
    targets, preds = np.asarray(targets, dtype=bool), np.asarray(preds, dtype=bool)
    tp = (targets & preds).sum(axis=0)
    denom = targets.sum(axis=0) + preds.sum(axis=0)
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def micro_f1(targets: np.ndarray, preds: np.ndarray) -> float:
    targets, preds = np.asarray(targets, dtype=bool), np.asarray(preds, dtype=bool)
    denom = int(targets.sum() + preds.sum())
    return 2 * int((targets & preds).sum()) / denom if denom else 0.0
