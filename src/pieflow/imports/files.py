"""The edge of every imported file: reading its text or header, and naming its rows in
messages. A reader module (it opens the files it is handed); the format readers build on it."""

from __future__ import annotations

import csv
import functools
import glob
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


_GLOB_CHARACTERS = frozenset("*?[")


@functools.cache
def locate_samples(path: str, task: str | None = None) -> str:
    """The lm-evaluation-harness samples file an entry names: the file itself, or the one
    file of ``task`` under a folder (searched recursively: lm_eval writes
    ``<output_path>/<model_name>/samples_<task>_<date>.jsonl``, 0.4.3+, or
    ``<model_args>_<task>.jsonl``, 0.4.0–0.4.2) or among a glob's matches. Several
    candidates are refused, listed, rather than guessed between."""
    if _GLOB_CHARACTERS.isdisjoint(path) and not Path(path).is_dir():
        return path
    if _GLOB_CHARACTERS.isdisjoint(path):
        found = sorted(str(p) for p in Path(path).rglob("*.jsonl") if p.is_file())
        where = f"folder {path}"
    else:
        found = sorted(p for p in glob.glob(path, recursive=True) if Path(p).is_file())
        where = f"glob {path}"
    if task is not None:
        found = [p for p in found if samples_task(Path(p).name, task)]
    elif not _GLOB_CHARACTERS.isdisjoint(path):
        pass  # a glob chose its files itself
    else:
        found = [p for p in found if Path(p).name.startswith("samples_")] or found
    of_task = f" of task {task!r}" if task else ""
    if not found:
        raise PredictionsError(f"{where}: no lm-eval samples file{of_task} "
                               "(samples_<task>_<date>.jsonl, or <model_args>_<task>.jsonl)")
    if len(found) > 1:
        shown = "; ".join(found[:6]) + ("; …" if len(found) > 6 else "")
        hint = "name the file, or a folder or glob that holds one" + (
            "" if task else ", or set task:")
        raise PredictionsError(f"{where}: {len(found)} samples files{of_task} ({shown}): "
                               f"{hint}")
    return found[0]


def samples_task(name: str, task: str) -> bool:
    """Whether a samples file's name is of ``task`` (either lm_eval naming)."""
    if name.startswith(f"samples_{task}_") and name.endswith(".jsonl"):
        date = name[len(f"samples_{task}_"):-len(".jsonl")]
        return bool(date) and date[0].isdigit()  # not samples_<task>_<subtask>_<date>
    return name.endswith(f"_{task}.jsonl") and not name.startswith("samples_")
