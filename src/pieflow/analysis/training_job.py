"""The training-curve rule's job (rule summarise_training): its own module so ``job``
stays one screen per topic.

It reads every dense and control seed's ``history.parquet`` (``seeds``: their keys from
the rule, aligned with the files) and each trained dataset's validation split and
metadata, and writes the table, its HTML view and the figure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from pieflow import io
from pieflow.analysis.plots.training import plot_training_curves
from pieflow.analysis.training import majority_shares, training_curves
from pieflow.analysis.views import write_table_view
from pieflow.labels import LabelKind, label_kind
from pieflow.layout import DENSE

log = logging.getLogger(__name__)

Keys = Mapping[str, Any]


def summarise_training_job(histories: Sequence[str], seeds: Sequence[Keys],
                           validation: Sequence[str], meta: Sequence[str],
                           datasets: Sequence[str], outputs: Mapping[str, str]) -> None:
    """Validation accuracy and training loss per epoch of the dense and control
    populations, with each population's plateau judgement (``converged``).

    ``seeds``: ``{"dataset", "model", "method", "seed"}`` of each history file;
    ``validation`` and ``meta``: each dataset's validation split and metadata (the
    majority-class floor is drawn for single-label datasets).
    """
    frames = [pl.read_parquet(path).drop("seed", strict=False).with_columns(
        *(pl.lit(value).alias(key) for key, value in keys.items()))
        for path, keys in zip(histories, seeds, strict=True)]
    curves = training_curves(pl.concat(frames, how="diagonal_relaxed")) if frames else (
        pl.DataFrame())
    kinds = {dataset: label_kind(io.read_json(path))
             for dataset, path in zip(datasets, meta, strict=True)}
    labels = {dataset: pl.read_parquet(path, columns=["label"]).get_column("label")
              for dataset, path in zip(datasets, validation, strict=True)
              if kinds[dataset] is LabelKind.SINGLE}
    if curves.height:
        curves = curves.join(majority_shares(labels), on="dataset", how="left")
    io.write_parquet(curves, outputs["table"])
    write_table_view(
        curves, outputs["table_view"], "Training curves",
        "Per dataset × model × population (dense; the training-budget control, which "
        "continues it) and epoch: validation accuracy (mean, standard deviation, minimum "
        "and maximum over seeds), mean training and validation loss, and converged: the "
        "last epoch's gain in mean validation accuracy over the best earlier epoch "
        "(last_epoch_gain) is at most the seeds' standard deviation.",
        source=str(outputs["table"]))
    plot_training_curves(curves, outputs["figure"])
    dense = curves.filter(pl.col("method") == DENSE) if curves.height else curves
    judged = dense.select("dataset", "model", "converged", "last_epoch_gain").unique(
        maintain_order=True) if dense.height else dense
    for row in judged.iter_rows(named=True):  # one per dataset × model
        log.info("%s · %s: dense %s (last epoch gain %s)", row["dataset"], row["model"],
                 {True: "at a plateau", False: "still improving"}.get(row["converged"],
                                                                      "not judged"),
                 "n/a" if row["last_epoch_gain"] is None
                 else f"{row['last_epoch_gain'] * 100:+.1f} pts")
