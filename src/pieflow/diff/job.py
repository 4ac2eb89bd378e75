"""The diff stage's I/O edge: one cell against a reference population.

Rule ``diff_cell`` diffs a pruned (or the control) cell against its dense population; rule
``diff_vs_control`` a pruned cell against the control (dense seeds trained as long as the
iterative schedule), which then plays the dense role. Both predictions files are read once,
with only the columns the diff needs (logits for the KL only), and each split's population
matrices are built once for the PIE table, the null rate and the paired statistics.
"""

from __future__ import annotations

import logging
import os

import polars as pl

from pieflow import io
from pieflow.diff.nullrate import null_rate_table
from pieflow.diff.paired import paired_table
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
    paired_output: PathLike,
    *,
    repeats: int,
    seed: int,
    confidence: float,
    min_seeds: int | None = None,
) -> None:
    """Write ``pies.parquet``, ``null_rate.parquet`` and ``paired.parquet`` of ``pruned``
    against the reference population ``dense``. ``min_seeds`` (imported populations):
    the fewest dense members, and seeds shared with them, that get a null rate; below it
    the null-rate rows say why they have none. Imported predictions without logits get
    no KL (``kl_mean`` NaN)."""
    kind = label_kind(io.read_json(meta))
    num_classes = len(io.read_json(classes))
    columns = prediction_columns(kind)
    frames = [pl.read_parquet(path, columns=columns) for path in (dense, pruned)]
    kl = all(frame.get_column("logits").null_count() == 0 for frame in frames)
    if not kl:
        log.info("no logits in %s: the KL of paired.parquet is left NaN",
                 " and ".join(str(p) for p, f in zip((dense, pruned), frames, strict=True)
                              if f.get_column("logits").null_count()))
        frames = [frame.drop("logits") for frame in frames]
    populations = paired_populations(*frames, kind)
    pies = pie_table(populations, num_classes)
    null_rate = null_rate_table(populations, pies, num_classes, repeats=repeats, seed=seed,
                                confidence=confidence, min_seeds=min_seeds)
    paired = paired_table(populations, pies, kl=kl)
    io.write_parquet(pies, pies_output)
    io.write_parquet(null_rate, null_rate_output)
    io.write_parquet(paired, paired_output)
    for row in null_rate.iter_rows(named=True):  # one row per split
        if row.get("note"):
            log.info("%s: %d PIEs of %d examples; %s", row["split"], row["n_pies_full"],
                     row["n_examples"], row["note"])
            continue
        log.info("%s: %d PIEs of %d examples; at h = %d: PIEs %.1f, null %.1f, "
                 "excess %.1f [%.1f, %.1f] (%d repeats)", row["split"], row["n_pies_full"],
                 row["n_examples"], row["population_size"], row["pies_mean"],
                 row["null_mean"], row["excess_mean"], row["excess_low"], row["excess_high"],
                 repeats)
    for row in paired.iter_rows(named=True):
        log.info("%s: %d right → wrong, %d wrong → right (McNemar mid-p %.3g); %d same-seed "
                 "pairs agree on %.1f %%; KL %.4g", row["split"], row["correct_to_wrong"],
                 row["wrong_to_correct"], row["mcnemar_p"], row["n_pairs"],
                 100 * row["top1_agreement"], row["kl_mean"])
