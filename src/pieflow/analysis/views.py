"""HTML views of the summary tables, so the Snakemake report shows every table, not only
its figures. Rows of collapsed cells are shaded."""

from __future__ import annotations

import html
import math
from pathlib import Path

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
tr.collapsed td { background: #fde2e2; }
"""


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


def table_view_html(frame: pl.DataFrame, title: str, description: str = "",
                    max_rows: int = TABLE_VIEW_ROWS, source: str = "") -> str:
    """A standalone HTML page showing a table (rows of collapsed cells highlighted)."""
    shown = frame.head(max_rows)
    columns = shown.columns
    flagged = (shown.get_column("collapsed").fill_null(False).to_list()
               if "collapsed" in columns else [False] * shown.height)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row, collapsed in zip(shown.iter_rows(), flagged, strict=True):  # ≤ max_rows
        cells = "".join(f"<td>{html.escape(_cell_text(v))}</td>" for v in row)
        body.append(f'<tr class="collapsed">{cells}</tr>' if collapsed
                    else f"<tr>{cells}</tr>")
    notes = []
    if description:
        notes.append(f'<p class="note">{html.escape(description)}</p>')
    shown_note = (f"{frame.height} rows" if frame.height <= max_rows
                  else f"first {max_rows} of {frame.height} rows")
    where = f"; full table: <code>{html.escape(source)}</code>" if source else ""
    flag = ("; rows of collapsed cells are shaded red" if "collapsed" in columns else "")
    notes.append(f'<p class="note">{shown_note}{where}{flag}.</p>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_VIEW_STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>{''.join(notes)}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            "</body></html>\n")


def write_table_view(frame: pl.DataFrame, path: str | Path, title: str,
                     description: str = "", source: str = "") -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(table_view_html(frame, title, description, source=source),
                          encoding="utf-8")
