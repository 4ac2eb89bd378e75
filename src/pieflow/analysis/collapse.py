"""Collapsed cells: populations no better than always answering the most frequent label.

Their PIEs are then mostly the examples of every other class, not a finding about hard
examples, so every table carries the flag and every figure marks them. The rule and its
margin live here once.
"""

from __future__ import annotations

import polars as pl

from pieflow.layout import CELL_KEYS, DENSE

COLLAPSE_MARGIN = 0.01


def collapse_rule(accuracy: str, majority: str = "majority_share") -> pl.Expr:
    """True where the mean accuracy ``accuracy`` is at most the majority share + margin."""
    return pl.col(accuracy) <= pl.col(majority) + COLLAPSE_MARGIN


def with_collapsed(table: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """Add the ``collapsed`` flag of each pruned cell × split from the PIE summary.

    Rows of the dense population (or of cells the summary lacks) get null: collapse is a
    property of a pruned cell (see :func:`pieflow.analysis.pies.pie_summary`).
    """
    keys = [*CELL_KEYS, "split"]
    flags = summary.select(*keys, pl.col("collapsed").cast(pl.Boolean))
    return table.drop("collapsed", strict=False).join(flags, on=keys, how="left")


def accuracy_with_collapse(accuracy: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """The accuracy table with ``majority_share`` and ``collapsed`` for every row.

    Pruned cells take ``collapsed`` from the PIE summary; the dense population is judged
    by the same rule, so a dense population at chance is flagged too. ``majority_share``
    is the share of the most frequent label (set) of the dataset's split.
    """
    majority = summary.group_by(["dataset", "split"]).agg(pl.col("majority_share").first())
    table = with_collapsed(accuracy, summary).join(majority, on=["dataset", "split"],
                                                   how="left")
    return table.with_columns(
        pl.when(pl.col("method") == DENSE).then(collapse_rule("accuracy_mean"))
        .otherwise(pl.col("collapsed")).alias("collapsed"))
