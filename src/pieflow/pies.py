"""Pruning Identified Exemplars: where the pruned population's modal label differs.

Modal labels come from a vote count per (example, class), vectorised over examples.
Tie rule: when several labels share the highest count, the lowest class index wins,
and the example is flagged (``tie``: a tie in the dense *or* the pruned vote).
"""

from __future__ import annotations

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


def find_pies(
    dense: pl.DataFrame, pruned: pl.DataFrame, num_classes: int
) -> pl.DataFrame:
    """The ``pies.parquet`` rows of one pruned cell against its dense population."""
    frames = []
    for split in sorted(set(pruned.get_column("split").unique().to_list())):
        dense_preds, examples = population_matrix(dense, split)
        pruned_preds, pruned_examples = population_matrix(pruned, split)
        if not examples.get_column("example_id").equals(pruned_examples.get_column("example_id")):
            raise ValueError(f"split {split!r}: dense and pruned cover different examples")
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
