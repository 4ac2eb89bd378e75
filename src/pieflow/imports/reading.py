"""A population's files as one frame, each row with its seed; class names; and the rows
of ``predictions.parquet`` the imported population becomes.

The seed of a row: the ``seed`` given with its file, else the file's ``seed`` column,
else the file's position in its list (see :mod:`pieflow.imports.spec`). The frame keeps
``_file`` and ``_row`` so every later check can name the file and the row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from scipy.special import logsumexp

from pieflow.imports.files import PredictionsError, rows_text
from pieflow.imports.formats import read_file
from pieflow.labels import LabelKind, label_kind_of

SPLITS = ("train", "validation", "test")


def fail(frame: pl.DataFrame, bad: pl.Expr, message: str) -> None:
    """Raise ``<file>, <message> in rows …`` for the rows of ``frame`` where ``bad`` holds
    (the first file that has any), or do nothing."""
    rows = frame.filter(bad)
    if rows.height:
        path = rows.get_column("_file")[0]
        where = rows.filter(pl.col("_file") == path).get_column("_row").to_list()
        raise PredictionsError(f"{path}, {message} ({rows_text(path, where)})")


def read_population(paths: Sequence[str], seeds: Sequence[int | None],
                    reading: dict[str, Any], where: str) -> pl.DataFrame:
    """Every file of one population, stacked, with ``seed``, ``split``, ``_file``."""
    frames: list[pl.DataFrame] = []
    owner: dict[int, str] = {}
    for position, (path, seed) in enumerate(zip(paths, seeds, strict=True)):
        frame = read_file(path, reading).with_columns(pl.lit(path).alias("_file"))
        in_file = frame.get_column("seed")
        if 0 < in_file.null_count() < frame.height:
            fail(frame, pl.col("seed").is_null(), "column 'seed': no value")
        held = in_file.drop_nulls().unique().sort().to_list()
        if seed is not None and len(held) > 1:
            raise PredictionsError(f"{where}: {path} holds seeds {held}; a seed given with a "
                                   "file applies to a file of one model")
        if seed is not None or not held:
            frame = frame.with_columns(pl.lit(position if seed is None else seed,
                                              pl.Int64).alias("seed"))
        for value in frame.get_column("seed").unique().to_list():
            if value in owner:
                raise PredictionsError(f"{where}: seed {value} comes from both {owner[value]} "
                                       f"and {path}; give each file its own seed "
                                       "({path: …, seed: …})")
            owner[value] = path
        frame = frame.with_columns(pl.col("split").fill_null(reading["split"]))
        fail(frame, ~pl.col("split").is_in(SPLITS),
             f"column 'split': not one of {', '.join(SPLITS)}")
        if frames and frame.schema.get("label") != frames[0].schema.get("label"):
            raise PredictionsError(
                f"{where}: {frames[0].get_column('_file')[0]} and {path} give labels "
                f"differently ({frames[0].schema.get('label')} vs. "
                f"{frame.schema.get('label')}): write class indices, or class names, in both")
        frames.append(frame)
    return pl.concat(frames)


def class_names(frames: Sequence[pl.DataFrame], given: Sequence[str] | None,
                fmt: str) -> list[str]:
    """``classes`` as given; else class names in sorted order, where labels are names;
    else ``0``, ``1``, … (lm-eval: ``choice 0``, …) up to the largest index seen.
    Generated answers: every distinct target and answer, in sorted order (as text, so
    ``"19"`` is an answer, never an index); ``classes`` does not apply to them."""
    answers = label_kind_of(frames[0]) is LabelKind.ANSWER
    if given and answers:
        raise PredictionsError("classes: generated answers have no fixed class list (each "
                               "distinct answer is its own); remove classes from the entry")
    if given:
        return list(given)
    frame = pl.concat([f.select("_file", "_row", "logits", *_label_columns(f))
                       for f in frames], how="vertical_relaxed")
    if answers:
        return sorted(set(frame.get_column("label").cast(pl.String))
                      | set(frame.get_column("pred").cast(pl.String)))
    if label_kind_of(frames[0]) is LabelKind.MULTI:
        width = int(frame.select(pl.col("labels").list.len().max()).item() or 0)
        return [str(c) for c in range(width)]
    if frame.schema["label"] == pl.String:
        fail(frame, pl.col("logits").is_not_null(), "labels are class names and the rows "
             "have logits: set classes (the order of the logits) in the config")
        return sorted(set(frame.get_column("label")) | set(frame.get_column("pred")))
    largest = max(frame.select(pl.max_horizontal(pl.col("label").max(), pl.col("pred").max(),
                                                 pl.col("logits").list.len().max() - 1)).item(),
                  1)
    prefix = "choice " if fmt == "lm-eval" else ""
    return [f"{prefix}{c}" for c in range(largest + 1)]


def _label_columns(frame: pl.DataFrame) -> list[pl.Expr]:
    kind = label_kind_of(frame)
    return [pl.col(kind.label_column), pl.col(kind.pred_column)]


def indexed(frame: pl.DataFrame, classes: Sequence[str]) -> pl.DataFrame:
    """Labels and predictions as class indices: names are looked up in ``classes``;
    integers are indices, unless every class name is an integer (then they are names).
    Generated answers are always names (``"19"`` is the answer 19, not the 20th answer):
    their ids index the sorted answers of ``classes.json``."""
    kind = label_kind_of(frame)
    if kind is LabelKind.MULTI:
        for column in ("labels", "preds"):
            fail(frame, pl.col(column).list.len() != len(classes),
                 f"column {column!r}: not a multi-hot list of the {len(classes)} classes")
        return frame
    answers = kind is LabelKind.ANSWER
    by_name = answers or frame.schema["label"] == pl.String or all(
        c.lstrip("-").isdigit() for c in classes)
    shown = ", ".join(map(repr, classes[:6]) if answers else classes[:6]) + (
        ", …" if len(classes) > 6 else "")
    positions = {name: index for index, name in enumerate(classes)}
    for column in ("label", "pred"):
        values = pl.col(column).cast(pl.String) if by_name else pl.col(column)
        known = values.is_in(list(positions)) if by_name else values.is_between(
            0, len(classes) - 1)
        fail(frame, ~known.fill_null(False), f"column {column!r}: not one of the "
             f"{len(classes)} {'answers' if answers else 'classes'} ({shown})")
        if by_name:
            frame = frame.with_columns(values.replace_strict(positions, return_dtype=pl.Int64)
                                       .alias(column))
    return frame


def prediction_rows(frame: pl.DataFrame, num_classes: int, fmt: str) -> pl.DataFrame:
    """The tidy ``predictions.parquet`` rows of an indexed population: ``logits`` padded
    with −∞ to the classes (lm-eval: documents with fewer choices) and the ``loss``
    (cross-entropy; multi-label: BCE averaged over classes), both null without logits.
    Generated answers: ``label`` and ``pred`` answer ids, ``correct`` (the line's metric)
    after them, ``logits`` and ``loss`` null (a generated text has no class scores)."""
    kind = label_kind_of(frame)
    logits = pl.col("logits")
    has_logits = (kind is not LabelKind.ANSWER
                  and frame.get_column("logits").null_count() < frame.height)
    if has_logits:
        fail(frame, logits.is_null(), "no logits where other rows of the population have them")
        width = logits.list.len()
        fail(frame, (width > num_classes) if fmt == "lm-eval" else (width != num_classes),
             f"column 'logits': not {num_classes} values (one per class)")
        frame = frame.with_columns(pl.concat_list(logits, pl.lit(-np.inf).repeat_by(
            num_classes - width)).alias("logits"))
    keys = [pl.col("seed"), pl.col("split"), pl.col("example_id")]
    if kind is LabelKind.MULTI:
        rows = frame.select(*keys, pl.col("labels", "preds").cast(pl.List(pl.Int8)))
    elif kind is LabelKind.ANSWER:
        rows = frame.select(*keys, pl.col("label", "pred").cast(pl.Int64),
                            pl.col("correct").cast(pl.Boolean))
    else:
        rows = frame.select(*keys, pl.col("label", "pred").cast(pl.Int64))
    loss = _loss(frame, num_classes, kind) if has_logits else None
    rows = rows.with_columns(
        frame.get_column("logits").cast(pl.List(pl.Float32)) if has_logits else
        pl.lit(None, pl.List(pl.Float32)).alias("logits"),
        pl.Series("loss", loss, dtype=pl.Float64) if has_logits else
        pl.lit(None, pl.Float64).alias("loss"))
    if kind is LabelKind.MULTI:
        rows = rows.with_columns(pl.lit(None, pl.Float64).alias("threshold"))
    return rows.sort("seed", "split", "example_id")


def _loss(frame: pl.DataFrame, num_classes: int, kind: LabelKind) -> np.ndarray:
    logits = np.stack(frame.get_column("logits").to_numpy()).astype(np.float64).reshape(
        frame.height, num_classes)
    if kind is LabelKind.MULTI:
        y = np.stack(frame.get_column("labels").to_numpy()).astype(np.float64)
        return (np.logaddexp(0, -np.abs(logits)) + np.maximum(logits, 0) - logits * y).mean(1)
    label = frame.get_column("label").to_numpy()
    return logsumexp(logits, axis=1) - logits[np.arange(frame.height), label]
