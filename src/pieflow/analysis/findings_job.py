"""The findings rule's job (rule summarise_findings): its own module so ``job`` stays one
screen per topic.

It reads only what the rule declares: the analysis tables (accuracy, PIE summary, null
rate, text comparison), each cell's ``paired.parquet`` (``cells``: pruned cells and
controls) and each iterative cell's ``vs_control/null_rate.parquet``
(``vs_control_cells``), both with their keys from the rule, aligned with the files.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from pieflow import io
from pieflow.analysis.cells import SORT_KEYS, stack, with_compression, with_keys
from pieflow.analysis.findings import EFFECT, findings_table
from pieflow.analysis.views import write_table_view

log = logging.getLogger(__name__)

Keys = Mapping[str, Any]


def _stacked(paths: Sequence[str], cells: Sequence[Keys]) -> pl.DataFrame:
    return stack([with_keys(pl.read_parquet(path), keys)
                  for path, keys in zip(paths, cells, strict=True)])


def findings_view(table: pl.DataFrame) -> pl.DataFrame:
    """The table as the report shows it: the verdict and the sentence next to the keys."""
    return table.select(*SORT_KEYS, "verdict", "finding", pl.exclude(*SORT_KEYS, "verdict",
                                                                     "finding"))


def effect_cells(table: pl.DataFrame, limit: int = 30) -> str:
    """``"tweets · m imp 50 % (test), …"``: the rows with a PIE effect, named."""
    effects = table.filter(pl.col("verdict") == EFFECT).sort(SORT_KEYS)
    names = [f"{d} · {m} {method} {s} % ({split})" for d, m, method, s, split in
             effects.select(SORT_KEYS).head(limit).rows()]
    more = f", and {effects.height - limit} more" if effects.height > limit else ""
    return ", ".join(names) + more if names else "none"


def skipped_text(table: pl.DataFrame, no_text_datasets: Sequence[str]) -> str:
    """`` Skipped: …`` — rows without a null rate (and why), datasets without texts."""
    parts = []
    notes = table.filter(pl.col("null_rate_note").is_not_null())
    for (note,), rows in notes.group_by("null_rate_note", maintain_order=True):
        names = ", ".join(f"{d} · {m} {method} {s} % ({split})" for d, m, method, s, split
                          in rows.select(SORT_KEYS).sort(SORT_KEYS).head(10).rows())
        parts.append(f"{rows.height} row{'s' * (rows.height != 1)} — {note}: {names}")
    if no_text_datasets:
        parts.append("text analysis of dataset" + "s" * (len(no_text_datasets) > 1) + " "
                     + ", ".join(no_text_datasets) + " (no texts were imported)")
    return (" Skipped: " + "; ".join(parts) + ".") if parts else ""


def verdict_counts(table: pl.DataFrame) -> str:
    """``"2 rows: PIE effect beyond seed noise; 1 row: unreliable: collapsed"``."""
    counts = table.group_by("verdict").len().sort(["len", "verdict"], descending=[True, False])
    return "; ".join(f"{n} row{'s' if n != 1 else ''}: {verdict}"
                     for verdict, n in counts.rows())


def summarise_findings_job(accuracy: str, summary: str, null_rate: str, text: str,
                           paired: Sequence[str], cells: Sequence[Keys],
                           vs_control: Sequence[str], vs_control_cells: Sequence[Keys],
                           outputs: Mapping[str, str],
                           compression: Mapping[str, str] | None = None,
                           no_text_datasets: Sequence[str] = ()) -> None:
    """One row per cell × split with its verdict and a sentence reading its numbers;
    what was skipped (a null rate, a text analysis) is said on the page."""
    table = findings_table(
        pl.read_parquet(accuracy), pl.read_parquet(summary), pl.read_parquet(null_rate),
        pl.read_parquet(text), _stacked(paired, cells), _stacked(vs_control, vs_control_cells),
        no_text_datasets=tuple(no_text_datasets))
    if compression:
        table = with_compression(table, compression)
    io.write_parquet(table, outputs["table"])
    effects = table.filter(pl.col("verdict") == EFFECT)
    description = (
        f"{effects.height} of {table.height} rows show a PIE effect beyond seed noise: "
        f"{effect_cells(table)}. All verdicts: {verdict_counts(table) or 'no rows'}. "
        "One row per pruned cell (and training-budget control, method 'control') and "
        "split; verdict 'PIE effect beyond seed noise' when the lower end of the "
        "percentile interval of PIEs in excess of the dense-vs-dense null is above 0, "
        "unless the cell is collapsed or undertrained; finding reads the row's numbers."
        + skipped_text(table, no_text_datasets))
    write_table_view(findings_view(table), outputs["table_view"],
                     "Findings: which cells show a real PIE effect", description,
                     source=str(outputs["table"]))
    for row in effects.iter_rows(named=True):  # one per cell × split
        log.info("%s", row["finding"])
    log.info("findings: %d rows, %d with a PIE effect beyond seed noise", table.height,
             effects.height)
