"""The label kind — one class per example, a set of classes, or a generated answer — as a
value.

It is decided once, when a dataset is prepared (``label_kind`` in the dataset's
``meta.json``), and passed on; everything that depends on it (columns, votes, correctness,
F1) is written here once per kind.

Generated answers (``answer``: lm-evaluation-harness ``generate_until`` tasks such as
gsm8k) are free text: each distinct answer gets an integer id like a class name does
(``classes.json`` lists the answers in sorted order), but there is no fixed class list,
and a model is right when its line's metric says so (the ``correct`` column: lm-eval's
``exact_match`` normalises before it compares), not when its answer's id equals the
target's. (The diff pools every right answer into the target's id, after which the two
agree: :func:`pieflow.diff.populations.pooled_answers`.)
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import polars as pl


class LabelKind(StrEnum):
    SINGLE = "single"
    MULTI = "multi"
    ANSWER = "answer"

    @property
    def label_column(self) -> str:
        """``label`` (class index) or ``labels`` (multi-hot list) in predictions and PIEs."""
        return "labels" if self is LabelKind.MULTI else "label"

    @property
    def pred_column(self) -> str:
        return "preds" if self is LabelKind.MULTI else "pred"

    @property
    def prediction_columns(self) -> tuple[str, ...]:
        """The columns of ``predictions.parquet`` that say what a model answered and
        whether it was right: the label and the prediction, and for generated answers
        ``correct`` (the line's metric)."""
        extra = ("correct",) if self is LabelKind.ANSWER else ()
        return (self.label_column, self.pred_column, *extra)

    @property
    def has_classes(self) -> bool:
        """Whether the labels form a fixed class list (per-class tables apply); generated
        answers do not."""
        return self is not LabelKind.ANSWER

    def correct_expr(self) -> pl.Expr:
        """1.0 where a model is right: the label, for multi-label every class, for
        generated answers the ``correct`` column (the metric, not id equality)."""
        if self is LabelKind.ANSWER:
            return pl.col("correct").cast(pl.Float64)
        return (pl.col(self.pred_column) == pl.col(self.label_column)).cast(pl.Float64)


def label_kind_of(frame: pl.DataFrame) -> LabelKind:
    """The kind of a frame of labels — a split being prepared, rows being imported: a
    ``correct`` column (generated answers scored by their metric) makes it ``answer``, a
    ``labels`` column (multi-hot or index lists) multi-label. The one place the kind is
    read from column names; once a dataset is prepared, ``meta.json`` says it."""
    if "correct" in frame.columns:
        return LabelKind.ANSWER
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


def answer_ranks(preds: np.ndarray) -> tuple[np.ndarray, int]:
    """(seeds × examples) ids → the same shape of per-example ranks, and their count.

    Each example's distinct ids are numbered 0, 1, … in ascending order, so a rank is
    below the number of seeds however many distinct answers the data has, and the order
    of ids — hence the tie rule "lowest id" — is kept. Sort-based, vectorised over
    examples: vote counts over ranks need (examples × seeds) cells, not (examples ×
    answers).
    """
    preds = np.asarray(preds)
    if preds.size == 0:
        return np.zeros(preds.shape, dtype=np.int64), 0
    order = np.argsort(preds, axis=0, kind="stable")
    ordered = np.take_along_axis(preds, order, axis=0)
    new = np.ones(ordered.shape, dtype=np.int64)
    new[0] = 0
    new[1:] = ordered[1:] != ordered[:-1]
    ranks = np.empty(preds.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, np.cumsum(new, axis=0), axis=0)
    return ranks, int(ranks.max()) + 1


def modal_answers(preds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(modal id, tie flag, agreement) per example of a (seeds × examples) id matrix, for
    any number of distinct ids (generated answers).

    The same rule as :func:`modal_labels`: ties go to the lowest id. Counts run over each
    example's own distinct answers (:func:`answer_ranks`), never over all answers.
    """
    preds = np.asarray(preds)
    ranks, n_ranks = answer_ranks(preds)
    if preds.shape[1] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool), np.zeros(0)
    modal_rank, tie, agreement = modal_labels(vote_counts(ranks, n_ranks))
    rows = (ranks == modal_rank[None]).argmax(axis=0)  # a seed that gave the modal answer
    return preds[rows, np.arange(preds.shape[1])], tie, agreement


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
