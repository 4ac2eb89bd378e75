"""The diff stage's I/O edge: one pruned cell against its dense population (rule diff_cell).

Both predictions files are read once, with only the columns the diff needs, and each
split's population matrices are built once for the PIE table and the null rate.
"""

from __future__ import annotations

import logging
import os

import polars as pl

from pieflow import io
from pieflow.diff.nullrate import null_rate_table
from pieflow.diff.pies import pie_table
from pieflow.diff.populations import paired_populations, prediction_columns
from pieflow.labels import label_kind

log = logging.getLogger(__name__)

PathLike = str | os.PathLike


def diff_cell(
    dense: PathLike,
    pruned: PathLike,
    classes: PathLike,
    meta: PathLike,
    pies_output: PathLike,
    null_rate_output: PathLike,
    *,
    repeats: int,
    seed: int,
    confidence: float,
) -> None:
    """Write ``pies.parquet`` and ``null_rate.parquet`` of one pruned cell."""
    kind = label_kind(io.read_json(meta))
    num_classes = len(io.read_json(classes))
    columns = prediction_columns(kind)
    populations = paired_populations(pl.read_parquet(dense, columns=columns),
                                     pl.read_parquet(pruned, columns=columns), kind)
    pies = pie_table(populations, num_classes)
    null_rate = null_rate_table(populations, pies, num_classes, repeats=repeats, seed=seed,
                                confidence=confidence)
    io.write_parquet(pies, pies_output)
    io.write_parquet(null_rate, null_rate_output)
    for row in null_rate.iter_rows(named=True):  # one row per split
        log.info("%s: %d PIEs of %d examples; at h = %d: PIEs %.1f, null %.1f, "
                 "excess %.1f [%.1f, %.1f] (%d repeats)", row["split"], row["n_pies_full"],
                 row["n_examples"], row["population_size"], row["pies_mean"],
                 row["null_mean"], row["excess_mean"], row["excess_low"], row["excess_high"],
                 repeats)
