"""Training curves: did the dense (and control) populations converge?

A PIE is only a finding about pruning if the dense models it is measured against had
finished learning. This table is the evidence: validation accuracy and training loss
per epoch, over seeds, and a plateau judgement per population.

``converged`` rule (one place): the gain in mean validation accuracy of the last epoch
over the best earlier epoch is at most the seeds' standard deviation at the last epoch —
one more epoch did not move the population by more than seed noise. Null where it
cannot be judged (one epoch, or no validation accuracy recorded).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from pieflow.analysis.flags import majority_share
from pieflow.layout import DENSE

POPULATION_KEYS = ["dataset", "model", "method"]
CURVE_COLUMNS = ["train_loss", "val_accuracy", "val_loss"]


def training_table(histories: Sequence[pl.DataFrame], seeds: Sequence[Mapping[str, Any]],
                   labels: Mapping[str, pl.Series]) -> pl.DataFrame:
    """The training-curves table (:func:`training_curves`) of the ``history.parquet``
    frames of ``seeds`` (their ``{"dataset", "model", "method", "seed"}``, aligned with
    ``histories``), with each dataset's ``majority_share`` from its validation ``labels``
    (single-label datasets only; others get null). No history: an empty table."""
    frames = [history.drop("seed", strict=False).with_columns(
        *(pl.lit(value).alias(key) for key, value in keys.items()))
        for history, keys in zip(histories, seeds, strict=True)]
    if not frames:
        return pl.DataFrame()
    curves = training_curves(pl.concat(frames, how="diagonal_relaxed"))
    if not curves.height:
        return curves
    return curves.join(majority_shares(dict(labels)), on="dataset", how="left")


def convergence_notes(curves: pl.DataFrame) -> list[str]:
    """One line per dataset · model on whether its dense population converged, e.g.
    ``"d · m: dense at a plateau (last epoch gain +0.4 pts)"``."""
    dense = curves.filter(pl.col("method") == DENSE) if curves.height else curves
    if not dense.height:
        return []
    judged = dense.select("dataset", "model", "converged", "last_epoch_gain").unique(
        maintain_order=True)
    states = {True: "at a plateau", False: "still improving"}
    return [f"{dataset} · {model}: dense {states.get(converged, 'not judged')} (last epoch "
            f"gain {'n/a' if gain is None else f'{gain * 100:+.1f} pts'})"
            for dataset, model, converged, gain in judged.rows()]


def training_curves(histories: pl.DataFrame) -> pl.DataFrame:
    """Per dataset × model × population (``method``: dense or control) × epoch: the
    number of seeds and the mean, standard deviation, minimum and maximum over seeds
    of the training loss and validation accuracy, the mean validation loss, and the
    population's ``converged`` judgement on every row.

    ``histories``: the stacked ``history.parquet`` files with ``dataset``, ``model``,
    ``method`` and ``seed`` columns. A control's history starts with its dense seed's
    epochs (it continues that run); those rows are the dense population's and are
    dropped from the control here so each epoch belongs to one population.
    """
    frame = histories
    for column in CURVE_COLUMNS:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
    frame = _without_inherited_epochs(frame)
    curves = frame.group_by(*POPULATION_KEYS, "epoch").agg(
        pl.col("seed").n_unique().alias("seeds"),
        pl.col("steps").max(),
        pl.col("train_loss").mean().alias("train_loss_mean"),
        pl.col("train_loss").std().alias("train_loss_std"),
        pl.col("val_accuracy").mean().alias("val_accuracy_mean"),
        pl.col("val_accuracy").std().alias("val_accuracy_std"),
        pl.col("val_accuracy").min().alias("val_accuracy_min"),
        pl.col("val_accuracy").max().alias("val_accuracy_max"),
        pl.col("val_loss").mean().alias("val_loss_mean"),
    ).sort([*POPULATION_KEYS, "epoch"])
    return curves.join(converged(curves), on=POPULATION_KEYS, how="left")


def _without_inherited_epochs(frame: pl.DataFrame) -> pl.DataFrame:
    """Drop from each non-dense population the epochs its dense seed already ran."""
    dense_epochs = (frame.filter(pl.col("method") == DENSE)
                    .group_by("dataset", "model").agg(pl.col("epoch").max().alias("_dense")))
    joined = frame.join(dense_epochs, on=["dataset", "model"], how="left")
    keep = (pl.col("method") == DENSE) | pl.col("_dense").is_null() | (
        pl.col("epoch") > pl.col("_dense"))
    return joined.filter(keep).drop("_dense")


def converged(curves: pl.DataFrame) -> pl.DataFrame:
    """``converged`` per population (see the module docstring), with the numbers it
    rests on: ``last_epoch_gain`` and ``last_epoch_std``."""
    measured = curves.filter(pl.col("val_accuracy_mean").is_not_null()).sort(
        [*POPULATION_KEYS, "epoch"])
    judged = measured.group_by(POPULATION_KEYS, maintain_order=True).agg(
        pl.len().alias("_epochs"),
        (pl.col("val_accuracy_mean").last()
         - pl.col("val_accuracy_mean").head(pl.len() - 1).max()).alias("last_epoch_gain"),
        pl.col("val_accuracy_std").last().fill_null(0.0).alias("last_epoch_std"),
    )
    judged = judged.with_columns(
        pl.when(pl.col("_epochs") >= 2)
        .then(pl.col("last_epoch_gain") <= pl.col("last_epoch_std"))
        .otherwise(None).alias("converged"),
        pl.when(pl.col("_epochs") >= 2).then(pl.col("last_epoch_gain")).otherwise(None)
        .alias("last_epoch_gain"),
    ).drop("_epochs")
    populations = curves.select(POPULATION_KEYS).unique()
    return populations.join(judged, on=POPULATION_KEYS, how="left")


def majority_shares(labels: dict[str, pl.Series]) -> pl.DataFrame:
    """Per dataset, the validation share of its most frequent class (the accuracy of
    always answering it): the floor a trained population must clear."""
    frames = [pl.DataFrame({"label": series}).select(pl.lit(dataset).alias("dataset"),
                                                     majority_share("label"))
              for dataset, series in labels.items() if len(series)]
    schema = {"dataset": pl.String, "majority_share": pl.Float64}
    return pl.concat(frames).cast(schema) if frames else pl.DataFrame(schema=schema)
