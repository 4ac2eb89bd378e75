"""The edge of every imported file: reading its text or header, and naming its rows in
messages. A reader module (it opens the files it is handed); the format readers build on it."""

from __future__ import annotations

import csv
from pathlib import Path


class PredictionsError(ValueError):
    """Imported predictions pieflow cannot use; the message names the file and rows."""


_SHOWN = 5


def location(path: str, row: int) -> str:
    """``file.jsonl, line 7``; ``file.csv, row 3 (1-based, after the header)``; …"""
    return f"{path}, {rows_text(path, [row])}"


def rows_text(path: str, rows: list[int]) -> str:
    """``lines 3, 5`` / ``rows 3, 5, … (1-based, after the header)``: at most five."""
    shown = ", ".join(map(str, rows[:_SHOWN])) + (", …" if len(rows) > _SHOWN else "")
    plural = "s" if len(rows) > 1 else ""
    if path.lower().endswith(".jsonl"):
        return f"line{plural} {shown}"
    where = "after the header" if path.lower().endswith(".csv") else "in file order"
    return f"row{plural} {shown} (1-based, {where})"


def decoded(path: str) -> str:
    """A text file's content; refused when empty or not UTF-8, naming the line."""
    raw = Path(path).read_bytes()
    if not raw.strip():
        raise PredictionsError(f"{path}: the file is empty")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        raise PredictionsError(f"{path}, line {line}: not valid UTF-8 (byte "
                               f"0x{raw[err.start]:02x}); re-save the file as UTF-8") from None


def table_columns(path: str) -> list[str]:
    """The column names of a CSV or Parquet file (its header or schema only)."""
    if path.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        return next(csv.reader(handle), [])
