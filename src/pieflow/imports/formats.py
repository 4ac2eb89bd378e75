"""One imported file as tidy rows, whatever its format.

Every reader returns the same columns: ``_row`` (the row's place in its file, 1-based: the
line of a JSONL file, the data row of a CSV after its header, the row of a Parquet file),
``seed`` and ``split`` (null where the file has none), ``example_id``, the label and the
prediction (``label`` / ``pred``: class indices or class names; multi-label pieflow files:
``labels`` / ``preds``, multi-hot lists), ``logits`` (a list of floats, or null), ``text``
and ``text_pair`` (null where the file has none).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import polars as pl

from pieflow.imports.files import PredictionsError, decoded, rows_text
from pieflow.imports.lmeval import read_samples
from pieflow.labels import LabelKind, label_kind_of

SINGLE = ("label", "pred")
MULTI = ("labels", "preds")


def read_file(path: str, reading: dict[str, Any]) -> pl.DataFrame:
    """The tidy rows of one file of format ``reading["format"]``."""
    fmt = reading["format"]
    if fmt == "lm-eval":
        return _lm_eval(path, reading)
    if path.lower().endswith(".csv"):
        frame = _csv(path)
    else:
        if Path(path).stat().st_size == 0:
            raise PredictionsError(f"{path}: the file is empty (0 bytes)")
        try:
            frame = pl.read_parquet(path)
        except Exception as err:  # noqa: BLE001 (polars raises several kinds)
            raise PredictionsError(f"{path}: not a readable Parquet file ({err})") from None
    return _tidy(path, frame.with_row_index("_row", offset=1), fmt)


def _lm_eval(path: str, reading: dict[str, Any]) -> pl.DataFrame:
    """The samples of one (document, filter) kept: ``reading["filter"]`` where given, else
    the file's only filter. Generated answers add ``correct`` (see :mod:`.lmeval`)."""
    rows = list(read_samples(path, decoded(path), score=reading.get("score") or
                             "loglikelihood", text_field=reading.get("text_field"),
                             metric=reading.get("metric")))
    if not rows:
        raise PredictionsError(f"{path}: no samples (an empty JSON array or no lines)")
    generated = {"correct" in row for row in rows}
    if len(generated) > 1:
        raise PredictionsError(f"{path}: mixes multiple-choice and generated-answer lines; "
                               "a samples file holds one task")
    answer = pl.String if generated.pop() else pl.Int64
    schema = {"_row": pl.Int64, "example_id": pl.Int64, "label": answer, "pred": answer,
              "logits": pl.List(pl.Float64), "text": pl.String, "filter": pl.String,
              "doc_hash": pl.String, "prompt_hash": pl.String}
    if answer == pl.String:
        schema["correct"] = pl.Boolean
    frame = _one_filter(path, pl.DataFrame(rows, schema=schema), reading.get("filter"))
    return frame.drop("filter").with_columns(
        pl.lit(None, pl.Int64).alias("seed"), pl.lit(None, pl.String).alias("split"),
        pl.lit(None, pl.String).alias("text_pair"))


def _one_filter(path: str, frame: pl.DataFrame, chosen: str | None) -> pl.DataFrame:
    """One line per document: lm-eval writes one per (document, filter)."""
    filters = sorted(set(frame.get_column("filter").drop_nulls()))
    if chosen is not None:
        if chosen not in filters:
            raise PredictionsError(f"{path}: no lines of filter {chosen!r} (filter: in the "
                                   f"config); the file's filters: "
                                   f"{', '.join(filters) or 'none named'}")
        frame = frame.filter(pl.col("filter") == chosen)
    elif len(filters) > 1:
        raise PredictionsError(f"{path}: lines of several filters ({', '.join(filters)}); "
                               "pieflow reads one answer per document: choose one with "
                               "filter: in the entry")
    repeated = frame.filter(pl.col("example_id").is_duplicated()).sort("_row")
    if repeated.height:
        doc_id = repeated.get_column("example_id")[0]
        lines = repeated.filter(pl.col("example_id") == doc_id).get_column("_row").to_list()
        why = (" and the lines name no filter: lm_eval before 0.4.7 logged one line per "
               "filter without saying which (rerun with 0.4.7+, or keep one filter's lines)"
               if frame.get_column("filter").null_count() else "")
        raise PredictionsError(f"{path}, {rows_text(path, lines)}: doc_id {doc_id} appears "
                               f"more than once{why}")
    return frame


def _csv(path: str) -> pl.DataFrame:
    text = decoded(path)
    try:
        frame = pl.read_csv(io.StringIO(text), infer_schema_length=0)
    except pl.exceptions.PolarsError as err:
        raise PredictionsError(f"{path}: not a readable CSV file ({err})") from None
    if frame.height == 0:
        raise PredictionsError(f"{path}: the file has a header but no rows")
    if "logits" in frame.columns:
        frame = frame.with_columns(_json_lists(path, frame))
    return frame


def _json_lists(path: str, frame: pl.DataFrame) -> pl.Series:
    """A CSV's ``logits`` cells, each a JSON list of numbers (``"[0.1, -2.3]"``)."""
    values, bad = [], []
    for row, cell in enumerate(frame.get_column("logits").to_list(), start=1):
        try:
            value = None if cell is None else json.loads(cell)
            if value is not None and not (isinstance(value, list) and all(
                    isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
                raise ValueError
        except ValueError:
            bad.append(row)
            value = None
        values.append(None if value is None else [float(v) for v in value])
    if bad:
        raise PredictionsError(f"{path}, column 'logits': not a JSON list of numbers in "
                               f"{rows_text(path, bad)}; write each as \"[0.1, -2.3, 1.5]\"")
    return pl.Series("logits", values, dtype=pl.List(pl.Float64))


def _tidy(path: str, frame: pl.DataFrame, fmt: str) -> pl.DataFrame:
    columns = set(frame.columns)
    multi = fmt == "pieflow" and label_kind_of(frame) is LabelKind.MULTI
    kind = MULTI if multi else SINGLE
    required = ["example_id", *kind] + (["seed", "split"] if fmt == "pieflow" else [])
    missing = [c for c in required if c not in columns]
    if missing:
        shown = [c for c in frame.columns if c != "_row"]
        raise PredictionsError(f"{path}: no column(s) {missing}; it has {shown} (format "
                               f"{fmt} needs {required})")
    for column in ["example_id", *kind]:
        nulls = frame.filter(pl.col(column).is_null()).get_column("_row").to_list()
        if nulls:
            raise PredictionsError(f"{path}, column {column!r}: no value in "
                                   f"{rows_text(path, nulls)}")
    out = [pl.col("_row").cast(pl.Int64), _integer(path, frame, "example_id")]
    out.append(_integer(path, frame, "seed") if "seed" in columns
               else pl.lit(None, pl.Int64).alias("seed"))
    if kind == MULTI:
        out += [pl.col(c).cast(pl.List(pl.Int8)) for c in MULTI]
    else:
        out += [_label_values(path, frame, c) for c in SINGLE]
    if "logits" in columns:
        if not isinstance(frame.schema["logits"], pl.List | pl.Array):
            raise PredictionsError(f"{path}, column 'logits': holds {frame.schema['logits']}, "
                                   "not lists of numbers")
        out.append(pl.col("logits").cast(pl.List(pl.Float64)))
    else:
        out.append(pl.lit(None, pl.List(pl.Float64)).alias("logits"))
    out += [pl.col(c).cast(pl.String) if c in columns else pl.lit(None, pl.String).alias(c)
            for c in ("split", "text", "text_pair")]
    return frame.select(out)


def _integer(path: str, frame: pl.DataFrame, column: str) -> pl.Series:
    values = frame.get_column(column)
    cast = values.cast(pl.Float64, strict=False) if values.dtype == pl.String else values
    whole = cast.cast(pl.Int64, strict=False)
    bad = frame.filter(values.is_not_null() & (whole.is_null() | (
        cast.cast(pl.Float64) != whole.cast(pl.Float64)))).get_column("_row").to_list()
    if bad:
        shown = values.filter(frame.get_column("_row").is_in(bad[:1])).to_list()
        raise PredictionsError(f"{path}, column {column!r}: {shown[0]!r} is not a whole "
                               f"number ({rows_text(path, bad)})")
    return whole.alias(column)


def _label_values(path: str, frame: pl.DataFrame, column: str) -> pl.Series:
    """Class indices (integers, also written as text) or class names (text)."""
    values = frame.get_column(column)
    if values.dtype.is_numeric() or values.dtype == pl.String and values.str.contains(
            r"^\s*-?\d+\s*$").all():
        return _integer(path, frame.with_columns(values.str.strip_chars() if
                                                 values.dtype == pl.String else values),
                        column)
    return values.cast(pl.String).str.strip_chars().alias(column)
