"""Pruning Identified Exemplars: where the pruned population's modal label differs.

Modal labels come from a vote count per (example, class), vectorised over examples.
Tie rule: when several labels share the highest count, the lowest class index wins,
and the example is flagged (``tie``: a tie in the dense *or* the pruned vote).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl


def vote_counts(preds: np.ndarray, num_classes: int) -> np.ndarray:
    """``preds`` (seeds × examples) → counts (examples × classes)."""
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


def population_matrix(predictions: pl.DataFrame, split: str) -> tuple[np.ndarray, pl.DataFrame]:
    """Predictions of one split as (seeds × examples), with the examples' ids and labels."""
    part = predictions.filter(pl.col("split") == split)
    wide = part.pivot(on="seed", index=["example_id", "label"], values="pred",
                      sort_columns=True).sort("example_id")
    seeds = [c for c in wide.columns if c not in ("example_id", "label")]
    if wide.select(pl.any_horizontal(pl.col(seeds).is_null()).any()).item():
        raise ValueError(f"split {split!r}: not every seed predicted every example")
    return wide.select(seeds).to_numpy().T, wide.select("example_id", "label")


def paired_populations(
    dense: pl.DataFrame, pruned: pl.DataFrame
) -> Iterator[tuple[str, np.ndarray, np.ndarray, pl.DataFrame]]:
    """Per split of ``pruned``: (split, dense matrix, pruned matrix, examples).

    Matrices are (seeds × examples) labels, or (seeds × examples × classes) 0/1 votes
    for multi-label predictions; both populations must cover the same examples.
    """
    build = multi_label_population if "preds" in pruned.columns else population_matrix
    for split in sorted(set(pruned.get_column("split").unique().to_list())):
        dense_matrix, examples = build(dense, split)
        pruned_matrix, pruned_examples = build(pruned, split)
        if not examples.get_column("example_id").equals(pruned_examples.get_column("example_id")):
            raise ValueError(f"split {split!r}: dense and pruned cover different examples")
        yield split, dense_matrix, pruned_matrix, examples


def find_pies(
    dense: pl.DataFrame, pruned: pl.DataFrame, num_classes: int
) -> pl.DataFrame:
    """The ``pies.parquet`` rows of one pruned cell against its dense population."""
    if "preds" in pruned.columns:
        return find_multi_label_pies(dense, pruned)
    frames = []
    for split, dense_preds, pruned_preds, examples in paired_populations(dense, pruned):
        d_modal, d_tie, d_agree = modal_labels(vote_counts(dense_preds, num_classes))
        p_modal, p_tie, p_agree = modal_labels(vote_counts(pruned_preds, num_classes))
        label = examples.get_column("label").to_numpy()
        frames.append(pl.DataFrame({
            "split": [split] * len(label),
            "example_id": examples.get_column("example_id"),
            "label": label,
            "dense_modal": d_modal,
            "pruned_modal": p_modal,
            "is_pie": d_modal != p_modal,
            "tie": d_tie | p_tie,
            "dense_agreement": d_agree,
            "pruned_agreement": p_agree,
            "dense_correct": d_modal == label,
            "pruned_correct": p_modal == label,
        }))
    return pl.concat(frames)


def multi_label_population(
    predictions: pl.DataFrame, split: str
) -> tuple[np.ndarray, pl.DataFrame]:
    """Multi-label predictions of one split as (seeds × examples × classes) 0/1."""
    part = predictions.filter(pl.col("split") == split).sort(["seed", "example_id"])
    seeds = part.get_column("seed").n_unique()
    examples = part.filter(pl.col("seed") == part.get_column("seed").min())
    if part.height != seeds * examples.height or not (
        part.get_column("example_id").to_numpy().reshape(seeds, -1)
        == examples.get_column("example_id").to_numpy()
    ).all():
        raise ValueError(f"split {split!r}: not every seed predicted every example")
    votes = np.stack(part.get_column("preds").to_numpy()).reshape(seeds, examples.height, -1)
    return votes, examples.select("example_id", "labels")


def majority_votes(votes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per class, "on" when more than half of the models predict it.

    Returns (on, tie, agreement): ``tie`` marks classes with exactly half the votes (only
    possible for an even population; such a class counts as off), ``agreement`` is the
    mean over classes of the share of models agreeing with the vote.
    """
    seeds = votes.shape[0]
    counts = votes.sum(axis=0)
    on = 2 * counts > seeds
    tie = 2 * counts == seeds
    agreement = (np.maximum(counts, seeds - counts) / seeds).mean(axis=1)
    return on, tie, agreement


def find_multi_label_pies(dense: pl.DataFrame, pruned: pl.DataFrame) -> pl.DataFrame:
    """Multi-label PIEs: an example is a PIE when any class's majority vote flips."""
    frames = []
    for split, dense_votes, pruned_votes, examples in paired_populations(dense, pruned):
        d_on, d_tie, d_agree = majority_votes(dense_votes)
        p_on, p_tie, p_agree = majority_votes(pruned_votes)
        labels = np.stack(examples.get_column("labels").to_numpy()).astype(bool)
        flips = d_on != p_on
        frames.append(pl.DataFrame({
            "split": [split] * len(labels),
            "example_id": examples.get_column("example_id"),
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
        ))
    return pl.concat(frames)
