"""Pruning Identified Exemplars: where the pruned population's modal label differs.

Single-label: modal labels come from a vote count per (example, class), vectorised over
examples. Tie rule: when several labels share the highest count, the lowest class index
wins, and the example is flagged (``tie``: a tie in the dense *or* the pruned vote).
Multi-label: per class a population votes "on" by strict majority; an example is a PIE
when any class's vote flips (``flipped_classes`` lists them).
Generated answers: the modal *answer* (its id, every right answer pooled into the
target's: :func:`pieflow.diff.populations.pooled_answers`; ties → the lowest id, the
answer first in sorted order), counted over each example's own distinct answers
(:func:`pieflow.labels.modal_answers`), so thousands of distinct answers cost nothing. An
example is a PIE when the modal answers differ — also from one wrong answer to another,
never between two right ones — and ``dense_correct`` / ``pruned_correct`` say whether
each modal answer is right by the metric (after pooling: whether it is the target).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import polars as pl

from pieflow.diff.populations import SplitPopulations
from pieflow.labels import LabelKind, majority_votes, modal_answers, modal_labels, vote_counts


def pie_table(populations: Iterable[SplitPopulations], num_classes: int) -> pl.DataFrame:
    """The ``pies.parquet`` rows of one pruned cell: one row per example of each split
    (``num_classes`` is used by single-label populations only)."""
    return pl.concat([
        _multi_label_pies(pop) if pop.kind is LabelKind.MULTI
        else _answer_pies(pop) if pop.kind is LabelKind.ANSWER
        else _single_label_pies(pop, num_classes)
        for pop in populations
    ])


def _answer_pies(pop: SplitPopulations) -> pl.DataFrame:
    """Modal answers, sorted per example (no examples × answers vote table)."""
    return _modal_pies(pop, modal_answers(pop.dense), modal_answers(pop.pruned)).cast(
        {"label": pl.Int64, "dense_modal": pl.Int64, "pruned_modal": pl.Int64})


def _single_label_pies(pop: SplitPopulations, num_classes: int) -> pl.DataFrame:
    return _modal_pies(pop, modal_labels(vote_counts(pop.dense, num_classes)),
                       modal_labels(vote_counts(pop.pruned, num_classes)))


def _modal_pies(pop: SplitPopulations, dense: tuple[np.ndarray, ...],
                pruned: tuple[np.ndarray, ...]) -> pl.DataFrame:
    """One row per example from each side's (modal, tie, agreement)."""
    (d_modal, d_tie, d_agree), (p_modal, p_tie, p_agree) = dense, pruned
    label = pop.examples.get_column("label").to_numpy()
    return pl.DataFrame({
        "split": [pop.split] * len(label),
        "example_id": pop.examples.get_column("example_id"),
        "label": label,
        "dense_modal": d_modal,
        "pruned_modal": p_modal,
        "is_pie": d_modal != p_modal,
        "tie": d_tie | p_tie,
        "dense_agreement": d_agree,
        "pruned_agreement": p_agree,
        "dense_correct": d_modal == label,
        "pruned_correct": p_modal == label,
    })


def _multi_label_pies(pop: SplitPopulations) -> pl.DataFrame:
    d_on, d_tie, d_agree = majority_votes(pop.dense)
    p_on, p_tie, p_agree = majority_votes(pop.pruned)
    labels = np.stack(pop.examples.get_column("labels").to_numpy()).astype(bool)
    flips = d_on != p_on
    return pl.DataFrame({
        "split": [pop.split] * len(labels),
        "example_id": pop.examples.get_column("example_id"),
        "labels": labels.astype(np.int8),
        "dense_modal": d_on.astype(np.int8),
        "pruned_modal": p_on.astype(np.int8),
        "is_pie": flips.any(axis=1),
        "tie": (d_tie | p_tie).any(axis=1),
        "dense_agreement": d_agree,
        "pruned_agreement": p_agree,
        "dense_correct": (d_on == labels).all(axis=1),
        "pruned_correct": (p_on == labels).all(axis=1),
        "flipped_classes": flips,
    }).with_columns(
        pl.col("labels", "dense_modal", "pruned_modal").arr.to_list(),
        pl.col("flipped_classes").arr.to_list().list.eval(pl.element().arg_true()),
    )
