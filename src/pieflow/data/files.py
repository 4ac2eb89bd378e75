"""Local data files: checks before a parser sees them, and the reader of a folder
already in pieflow's schema (source ``parquet``). A reader module: it opens the files its
config entry names (the data stage's job hands it that entry).

Parsers fail on a bad file with messages that name neither the file nor the line (an
empty CSV: "No columns to parse from file"), or not at all: a JSONL file with invalid
UTF-8 loads, and its broken strings crash a later step. One streaming pass over a text
file finds what they miss — the file is missing, empty, a header without rows, not UTF-8,
or (JSONL) a line that is not JSON — and reports the file and line. (The embedded tweets
are not checked here: that corpus is known to hold a few mis-encoded bytes and is
decoded leniently on purpose.)
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pieflow.data.origin import Origin
from pieflow.data.splits import SPLITS, DataError, Dataset, normalise

TEXT_FORMATS = ("csv", "json", "jsonl")


def check_file(path: str | Path, fmt: str, origin: Origin) -> None:
    """Refuse a missing, empty, header-only or non-UTF-8 file, naming it and the line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{origin.where()}: the file does not exist (check 'files')")
    if path.stat().st_size == 0:
        raise DataError(f"{origin.where()}: the file is empty (0 bytes)")
    if fmt not in TEXT_FORMATS:
        return
    filled = 0  # lines with something besides whitespace
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DataError(_not_utf8(origin, fmt, number, line, error)) from None
            if text.strip():
                filled += 1
                if fmt == "jsonl":
                    _check_json_line(origin, number, text)
    if filled == 0:
        raise DataError(f"{origin.where()}: the file is empty (only blank lines)")
    if fmt == "csv" and filled == 1:
        raise DataError(f"{origin.where()}: the file has a header but no rows")


def _check_json_line(origin: Origin, number: int, text: str) -> None:
    """The JSON parser names a 0-based row, or none; the user needs the line."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        raise DataError(f"{origin.where()}: line {number} is not valid JSON "
                        f"({error.msg}, column {error.colno}); each line must be one "
                        'JSON object, e.g. {"text": "…", "label": "…"}') from None


def _not_utf8(origin: Origin, fmt: str, number: int, line: bytes,
              error: UnicodeDecodeError) -> str:
    """UTF-8 never encodes a newline inside a character, so the line is exact; the CSV
    row assumes no quoted field spans lines before it."""
    byte = line[error.start:error.start + 1].hex()
    row = f" (data row {number - 1}, 1-based after the header)" if fmt == "csv" else ""
    return (f"{origin.where()}: not valid UTF-8: byte 0x{byte} at line {number}{row}; "
            f"re-save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)")


def read_prepared_folder(name: str, spec: dict) -> Dataset:
    """Source ``parquet``: a folder (``path``) already in pieflow's schema,
    ``{split}.parquet`` and ``classes.json``."""
    folder = Path(spec["path"])
    classes_path = folder / "classes.json"
    if not classes_path.is_file():
        raise DataError(f"dataset {name!r}: {folder}: missing classes.json")
    classes = json.loads(classes_path.read_text())
    splits, origins = {}, {}
    for split in SPLITS:
        path = folder / f"{split}.parquet"
        if not path.is_file():
            raise DataError(f"dataset {name!r}: {folder}: missing {split}.parquet")
        origins[split] = Origin(name, split, str(path))  # example_id is all it has
        try:
            frame = pl.read_parquet(path)
        except (pl.exceptions.PolarsError, OSError) as err:
            raise DataError(f"dataset {name!r}, split {split!r} ({path}): not a readable "
                            f"Parquet file ({str(err).splitlines()[0]})") from err
        splits[split] = normalise(frame, len(classes), origins[split])
    return Dataset(splits=splits, classes=classes, origins=origins)
