"""Flags of cells whose PIEs cannot be read as a finding about pruning, and their rules.

* ``collapsed``: the population is no better than always answering the most frequent
  label (+ a margin). Its PIEs are then mostly the examples of every other class, not
  hard examples.
* ``undertrained``: the population's mean accuracy beats the dense population's by more
  than the dense seeds' standard deviation. The dense models then had room to learn, and
  the PIEs mix in what extra training changes (iterative schedules train longer than the
  dense models), not only what pruning does.

Every table carries both flags and every figure marks them. The findings table adds
warnings that do not void a row but weaken it: ``small_population`` (fewer than
``SMALL_POPULATION`` seeds per population in the null draws, so its percentile
intervals are unreliable), ``few_pies`` (fewer than ``FEW_PIES``) and ``many_ties``
(more than ``MANY_TIES_SHARE`` of the examples with a tied vote, broken by a fixed rule).
The rules and their margins live here once.
"""

from __future__ import annotations

import polars as pl

from pieflow.layout import CELL_KEYS, DENSE

COLLAPSE_MARGIN = 0.01
FLAGS = ("collapsed", "undertrained")
SMALL_POPULATION = 5
FEW_PIES = 10
MANY_TIES_SHARE = 0.05


def majority_share(label_column: str) -> pl.Expr:
    """``majority_share``: the share of the most frequent value of ``label_column`` (a
    class, or a multi-hot label set) — the accuracy of always answering it, the floor of
    the collapse rule."""
    return (pl.col(label_column).value_counts(sort=True).first().struct.field("count")
            / pl.len()).alias("majority_share")


def collapse_rule(accuracy: str, majority: str = "majority_share") -> pl.Expr:
    """True where the mean accuracy ``accuracy`` is at most the majority share + margin."""
    return pl.col(accuracy) <= pl.col(majority) + COLLAPSE_MARGIN


def undertrained_rule(accuracy: str, dense_accuracy: str, dense_std: str) -> pl.Expr:
    """True where the mean accuracy ``accuracy`` exceeds the dense population's mean
    ``dense_accuracy`` by more than the dense seeds' standard deviation ``dense_std``
    (same split): a gain larger than seed noise, which pruning alone should not give."""
    return (pl.col(accuracy) - pl.col(dense_accuracy)) > pl.col(dense_std)


def with_flags(table: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """Add ``collapsed`` and ``undertrained`` of each cell × split from the PIE summary.

    Rows of the dense population (or of cells the summary lacks) get null: the flags are
    properties of a population compared with the dense one (see
    :func:`pieflow.analysis.pies.pie_summary`).
    """
    keys = [*CELL_KEYS, "split"]
    flags = summary.select(*keys, *(pl.col(f).cast(pl.Boolean) for f in FLAGS))
    return table.drop(*FLAGS, strict=False).join(flags, on=keys, how="left")


def with_flags_unless_empty(table: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """:func:`with_flags`, except that a table without rows is returned as it is (it may
    have no key columns to join on)."""
    return table if table.is_empty() else with_flags(table, summary)


def accuracy_with_flags(accuracy: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """The accuracy table with ``majority_share`` and both flags for every row.

    Other populations take their flags from the PIE summary; the dense population is
    judged by the same collapse rule (a dense population at chance is flagged too) and is
    never undertrained (it cannot beat itself). ``majority_share`` is the share of the
    most frequent label (set) of the dataset's split.
    """
    majority = summary.group_by(["dataset", "split"]).agg(pl.col("majority_share").first())
    table = with_flags(accuracy, summary).join(majority, on=["dataset", "split"], how="left")
    dense = pl.col("method") == DENSE
    return table.with_columns(
        pl.when(dense).then(collapse_rule("accuracy_mean"))
        .otherwise(pl.col("collapsed")).alias("collapsed"),
        pl.when(dense).then(pl.lit(False)).otherwise(pl.col("undertrained"))
        .alias("undertrained"))


def warning_flags() -> list[pl.Expr]:
    """``small_population``, ``few_pies`` and ``many_ties`` of a findings row (from its
    ``population_size``, ``n_pies`` and ``tie_share``)."""
    return [(pl.col("population_size") < SMALL_POPULATION).alias("small_population"),
            (pl.col("n_pies") < FEW_PIES).alias("few_pies"),
            (pl.col("tie_share") > MANY_TIES_SHARE).alias("many_ties")]
