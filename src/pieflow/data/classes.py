"""Raw label values → class names and indices, refusing labels no model could use.

The loaders hand over frames whose ``label`` (single-label) or ``labels`` (multi-label)
column still holds the source's values. Here they are checked — missing labels, labels
outside the training classes, a string where a list is expected — with the rows named,
then replaced by class indices.

Class order: a ``ClassLabel`` feature's names when the source has one; otherwise the
training values sorted, numerically when every value is a number or an integer written
as text (classes 1, 2, 10 rather than 1, 10, 2), else as text — which leaves the order of
every dataset with non-numeric labels as it was.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

from pieflow.data.origin import Origin, examples_have
from pieflow.data.splits import DataError

log = logging.getLogger(__name__)

_INTEGER = re.compile(r"-?\d+")
_LIST_FORMAT = ('write each cell as a JSON list, e.g. ["sports", "politics"] (in a CSV '
                'file quoted: "[""sports"", ""politics""]"), or use JSONL or Parquet with '
                "a list column")


def class_order(values: Iterable[Any]) -> list[Any]:
    """Distinct values in class order: numeric when all are numbers or integer strings."""
    distinct = list(dict.fromkeys(values))
    if distinct and all(isinstance(v, int | float) and not isinstance(v, bool)
                        for v in distinct):
        return sorted(distinct)
    if distinct and all(isinstance(v, str) and _INTEGER.fullmatch(v) for v in distinct):
        return sorted(distinct, key=lambda v: (int(v), v))
    return sorted(distinct, key=str)


def _missing(values: pl.Series) -> pl.Series:
    """Null labels, and text labels that are empty or only whitespace."""
    if values.dtype == pl.String:
        return values.is_null() | (values.str.strip_chars() == "")
    return values.is_null()


def _refuse_missing(frame: pl.DataFrame, column: str, origin: Origin, what: str,
                    advice: str) -> None:
    missing = _missing(frame.get_column(column))
    if missing.any():
        rows = origin.rows(frame.get_column("example_id").filter(missing).to_list())
        count = examples_have(int(missing.sum()))
        raise DataError(f"{origin.where(origin.label_column)}: {count} no {what}: {rows}; "
                        f"{advice}")


def _refuse_outside(frame: pl.DataFrame, column: str, origin: Origin, outside: pl.Series,
                    known: str, advice: str) -> None:
    if not outside.any():
        return
    values = frame.get_column(column).filter(outside).to_list()
    shown = ", ".join(list(dict.fromkeys(repr(v) for v in values))[:5])
    rows = origin.rows(frame.get_column("example_id").filter(outside).to_list())
    count = examples_have(int(outside.sum()))
    raise DataError(f"{origin.where(origin.label_column)}: {count} labels {known} ({shown}): "
                    f"{rows}; {advice}")


def _drop_labels(frames: dict[str, pl.DataFrame], drop: Sequence[Any],
                 notes: list[str], name: str) -> dict[str, pl.DataFrame]:
    """Drop examples whose label is in ``drop`` (SNLI's -1), counting them per split."""
    wanted = set(drop)
    out = {}
    for split, frame in frames.items():
        keep = pl.Series([v not in wanted for v in frame.get_column("label").to_list()],
                         dtype=pl.Boolean)
        dropped = frame.height - int(keep.sum())
        if dropped:
            note = (f"dataset {name!r}, split {split!r}: drop_labels {list(drop)} dropped "
                    f"{dropped} of {frame.height} examples")
            log.info("%s", note)
            notes.append(note)
        out[split] = frame.filter(keep)
    return out


def index_single_label(frames: dict[str, pl.DataFrame], origins: dict[str, Origin],
                       class_names: list[str] | None, drop_labels: Sequence[Any],
                       notes: list[str]) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """Replace each split's ``label`` values by class indices; return the class names."""
    for split, frame in frames.items():
        if isinstance(frame.schema["label"], pl.List | pl.Array):
            column = origins[split].label_column
            raise DataError(f"{origins[split].where(column)}: holds lists of labels, where "
                            f"one label per example is expected; for multi-label data map "
                            f"it with columns: {{labels: {column}}}")
    if drop_labels:
        frames = _drop_labels(frames, drop_labels, notes, origins["train"].dataset)
    for split, frame in frames.items():
        _refuse_missing(frame, "label", origins[split], "label",
                        "give every example a label, or remove those rows")
    if class_names is not None:
        classes = list(class_names)
        for split, frame in frames.items():
            values = frame.get_column("label")
            _refuse_outside(frame, "label", origins[split],
                            (values < 0) | (values >= len(classes)),
                            f"outside the {len(classes)} classes 0..{len(classes) - 1}",
                            "remove them, or drop them with drop_labels (SNLI: [-1])")
        indexed = {s: f.with_columns(pl.col("label").cast(pl.Int64)) for s, f in frames.items()}
        return indexed, classes
    values = class_order(frames["train"].get_column("label").to_list())
    index = {value: i for i, value in enumerate(values)}
    classes = [str(value) for value in values]
    for split, frame in frames.items():
        unseen = pl.Series([v not in index for v in frame.get_column("label").to_list()],
                           dtype=pl.Boolean)
        _refuse_outside(frame, "label", origins[split], unseen, "not seen in train",
                        f"train has {len(classes)} classes ({_names(classes)}); add "
                        "training examples of these classes, or remove those rows")
    indexed = {s: f.with_columns(pl.Series("label", [index[v] for v in f["label"].to_list()],
                                           dtype=pl.Int64)) for s, f in frames.items()}
    return indexed, classes


def _names(classes: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(repr(c) for c in classes[:limit])
    return shown + (", …" if len(classes) > limit else "")


def _parse_lists(frame: pl.DataFrame, origin: Origin) -> pl.DataFrame:
    """A text column of JSON lists (how a CSV holds lists) → a list column.

    A cell that is not a JSON list of labels — "a,b", a bare "sports" — is refused with
    the format spelled out rather than guessed at: splitting on commas would silently
    break labels that contain one.
    """
    parsed, bad = [], []
    for example_id, cell in frame.select("example_id", "labels").iter_rows():
        if cell is None or not cell.strip():
            parsed.append(None)
            continue
        try:
            value = json.loads(cell)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str | int) and not isinstance(v, bool)
                                           for v in value):
            parsed.append([str(v) for v in value])
        else:
            parsed.append(None)
            bad.append((example_id, cell))
    if bad:
        raise DataError(f"{origin.where(origin.label_column)}: {len(bad)} "
                        f"{'value is not a list' if len(bad) == 1 else 'values are not lists'} "
                        f"of labels (e.g. {bad[0][1]!r}): {origin.rows(i for i, _ in bad)}; "
                        f"{_LIST_FORMAT}")
    return frame.with_columns(pl.Series("labels", parsed, dtype=pl.List(pl.String)))


def index_multi_label(frames: dict[str, pl.DataFrame], origins: dict[str, Origin],
                      class_names: list[str] | None
                      ) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """Replace each split's ``labels`` lists by lists of class indices.

    Without ``ClassLabel`` names the classes are the values of every split (as before):
    a class that occurs only in validation or test is kept — Reuters' ModApte split has
    such topics — and the dataset checks warn that no model can learn it.
    """
    checked = {}
    for split, frame in frames.items():
        origin = origins[split]
        dtype = frame.schema["labels"]
        if dtype == pl.String:
            frame = _parse_lists(frame, origin)
        elif not isinstance(dtype, pl.List | pl.Array):
            raise DataError(f"{origin.where(origin.label_column)}: holds single values "
                            f"({dtype}) where a list of labels per example is expected; "
                            f"{_LIST_FORMAT}, or for single-label data map it with columns: "
                            f"{{label: {origin.label_column}}}")
        _refuse_missing(frame, "labels", origin, "labels (null)",
                        "write [] for an example without classes")
        holes = frame.get_column("labels").list.eval(pl.element().is_null()).list.any()
        _refuse_outside(frame, "labels", origin, holes, "that hold a null", "remove the nulls")
        checked[split] = frame
    if class_names is not None:
        classes = list(class_names)
        for split, frame in checked.items():
            bad = frame.get_column("labels").list.eval(
                (pl.element() < 0) | (pl.element() >= len(classes))).list.any()
            _refuse_outside(frame, "labels", origins[split], bad,
                            f"outside the {len(classes)} classes", "remove them")
        return {s: f.with_columns(pl.col("labels").cast(pl.List(pl.Int64)))
                for s, f in checked.items()}, classes
    values = set()
    as_text = {}
    for split, frame in checked.items():
        as_text[split] = frame.with_columns(pl.col("labels").cast(pl.List(pl.String)))
        values |= set(as_text[split].get_column("labels").explode().drop_nulls().to_list())
    classes = class_order(values)
    index = {name: i for i, name in enumerate(classes)}
    return {s: f.with_columns(pl.col("labels").list.eval(
        pl.element().replace_strict(index, return_dtype=pl.Int64)))
        for s, f in as_text.items()}, classes
