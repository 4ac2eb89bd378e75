"""HTML views of the summary tables, so the Snakemake report shows every table, not only
its figures. Rows of flagged cells are shaded (collapsed red, undertrained amber), so a
reader sees which rows not to read as findings about pruning. Pages are returned as
strings: the analysis job writes them."""

from __future__ import annotations

import html
import math

import polars as pl

TABLE_VIEW_ROWS = 3000

_VIEW_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1rem;
       color: #222; }
h1 { font-size: 1.25rem; margin: 0 0 .4rem 0; }
p.note { color: #555; max-width: 70rem; margin: .2rem 0 .8rem 0; }
table { border-collapse: collapse; font-size: .8rem; }
th { position: sticky; top: 0; background: #eef1f5; text-align: left; }
th, td { border: 1px solid #d9dde3; padding: 2px 6px; vertical-align: top; }
td { max-width: 32rem; }
tr.undertrained td { background: #fdebc8; }
tr.collapsed td { background: #fde2e2; }
"""
# The shading of each flag, in precedence order (a collapsed row is red even if also
# undertrained), and how the page's note names it.
_ROW_FLAGS = {"collapsed": "red", "undertrained": "amber"}


def _cell_text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(_cell_text(v) for v in value)
    return str(value)


def _row_classes(shown: pl.DataFrame) -> list[str]:
    """Each row's CSS class: its first raised flag, or ``""``."""
    flags = [f for f in _ROW_FLAGS if f in shown.columns]
    if not flags:
        return [""] * shown.height
    expr = pl.lit("")
    for flag in reversed(flags):  # the first flag wins
        expr = pl.when(pl.col(flag).fill_null(False)).then(pl.lit(flag)).otherwise(expr)
    return shown.select(expr.alias("row_class")).to_series().to_list()


def table_view_html(frame: pl.DataFrame, title: str, description: str = "",
                    max_rows: int = TABLE_VIEW_ROWS, source: str = "") -> str:
    """A standalone HTML page showing a table (rows of flagged cells highlighted)."""
    shown = frame.head(max_rows)
    columns = shown.columns
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row, row_class in zip(shown.iter_rows(), _row_classes(shown), strict=True):
        cells = "".join(f"<td>{html.escape(_cell_text(v))}</td>" for v in row)  # ≤ max_rows
        body.append(f'<tr class="{row_class}">{cells}</tr>' if row_class
                    else f"<tr>{cells}</tr>")
    notes = []
    if description:
        notes.append(f'<p class="note">{html.escape(description)}</p>')
    shown_note = (f"{frame.height} rows" if frame.height <= max_rows
                  else f"first {max_rows} of {frame.height} rows")
    where = f"; full table: <code>{html.escape(source)}</code>" if source else ""
    shading = [f"{flag} cells {colour}" for flag, colour in _ROW_FLAGS.items()
               if flag in columns]
    flag = f"; rows shaded: {', '.join(shading)}" if shading else ""
    notes.append(f'<p class="note">{shown_note}{where}{flag}.</p>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_VIEW_STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>{''.join(notes)}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            "</body></html>\n")

