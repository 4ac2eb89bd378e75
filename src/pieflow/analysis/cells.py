"""Per-cell frames stacked into one table, each row carrying its cell's keys.

The keys come from the rule (``params: cells``, aligned with the cell files), never from
a path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from pieflow.layout import CELL_KEYS

SORT_KEYS = [*CELL_KEYS, "split"]


def with_keys(frame: pl.DataFrame, keys: Mapping[str, object]) -> pl.DataFrame:
    """``frame`` with its cell's ``dataset``, ``model``, ``method`` and ``sparsity`` (%)."""
    return frame.with_columns(
        pl.lit(keys["dataset"]).alias("dataset"), pl.lit(keys["model"]).alias("model"),
        pl.lit(keys["method"]).alias("method"),
        pl.lit(int(keys["sparsity"]), dtype=pl.Int64).alias("sparsity"),
    )


def with_compression(table: pl.DataFrame, kinds: Mapping[str, str]) -> pl.DataFrame:
    """Add ``compression`` (the method's kind: pruning during training, post-training
    pruning, quantization, …) right after the cell keys."""
    kind = pl.col("method").replace_strict(dict(kinds), default=None, return_dtype=pl.String)
    keys = [k for k in CELL_KEYS if k in table.columns]
    return table.with_columns(kind.alias("compression")).select(
        *keys, "compression", pl.exclude(*keys, "compression"))


def cell_name(dataset: str, model: str, method: str, sparsity: int, split: str) -> str:
    """A cell × split as the pages name it: ``"tweets · m imp 50 % (test)"``."""
    return f"{dataset} · {model} {method} {sparsity} % ({split})"


def noted_cells(table: pl.DataFrame, column: str = "note") -> str:
    """`` tweets · m imp 50 % (test): <note>.`` for every row with a ``column`` note, in
    table order; ``""`` when no row has one (or the table has no such column)."""
    if column not in table.columns:
        return ""
    rows = table.filter(pl.col(column).is_not_null()).select(*SORT_KEYS, column).rows()
    return "".join(f" {cell_name(*keys)}: {note}." for *keys, note in rows)


def stack(frames: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Cells' tables stacked (single- and multi-label alike), cell keys first and sorted.

    An empty cell's frame only counts when every cell is empty, so a run without any PIE
    still writes a table with the documented columns.
    """
    if not frames:
        return pl.DataFrame()
    table = pl.concat([f for f in frames if f.height] or list(frames), how="diagonal_relaxed")
    keys = [k for k in SORT_KEYS if k in table.columns]
    return table.select(*keys, pl.exclude(keys)).sort(keys, maintain_order=True)
