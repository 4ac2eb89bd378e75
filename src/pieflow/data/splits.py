"""The tidy schema every dataset is normalised into, and deterministic splits.

Every split is a frame with ``example_id`` (int64, stable across runs), ``text`` (str),
``text_pair`` (str or null) and ``label`` (int64) or, multi-label, ``labels`` (list of
int64 class indices).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import polars as pl

from pieflow.data.origin import Origin, examples_have
from pieflow.labels import LabelKind, label_kind_of

SPLITS = ("train", "validation", "test")


class DataError(ValueError):
    """Raised for input data that pieflow cannot use, with the reason in the message."""


@dataclass(frozen=True)
class Dataset:
    """One dataset, normalised: a frame per split and the class names in label order.

    ``origins`` say where each split's rows come from (for messages that name rows);
    ``notes`` record what was dropped, carved or subsampled and ``warnings`` what looks
    wrong but is kept: both go to the dataset's ``meta.json`` and ``checks.html``, so
    nothing changes the data without a trace.
    """

    splits: dict[str, pl.DataFrame]
    classes: list[str]
    origins: dict[str, Origin] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _stable_unit(text: str, salt: str) -> float:
    """A number in [0, 1) that depends only on the text: split assignment survives reorders."""
    digest = hashlib.sha256(f"{salt}\0{text}".encode()).digest()
    return int.from_bytes(digest[:8], "little") / 2**64


def split_by_text_hash(
    frame: pl.DataFrame, fractions: dict[str, float], salt: str = "pieflow"
) -> dict[str, pl.DataFrame]:
    """Assign each row to a split by a hash of its text.

    Identical texts (the tweet corpus has ~900 duplicates) always land in the same split,
    so no test tweet is also a training tweet.
    """
    total = sum(fractions.values())
    if abs(total - 1.0) > 1e-9:
        raise DataError(f"split fractions must sum to 1, got {total}")
    unit = frame.get_column("text").map_elements(
        lambda text: _stable_unit(text, salt), return_dtype=pl.Float64
    )
    keyed = frame.with_columns(unit.alias("_unit"))
    out: dict[str, pl.DataFrame] = {}
    low = 0.0
    for split in SPLITS:
        high = low + fractions.get(split, 0.0)
        upper = pl.col("_unit") < high if split != SPLITS[-1] else pl.lit(True)
        out[split] = keyed.filter((pl.col("_unit") >= low) & upper).sort("example_id")
        low = high
    return {split: part.drop("_unit") for split, part in out.items()}


def subsample(frame: pl.DataFrame, limit: int | None, salt: str = "subsample") -> pl.DataFrame:
    """At most ``limit`` rows, chosen by a stable hash of ``example_id`` (no RNG state)."""
    if limit is None or frame.height <= limit:
        return frame
    keys = frame.get_column("example_id").map_elements(
        lambda i: _stable_unit(str(i), salt), return_dtype=pl.Float64
    )
    return (
        frame.with_columns(keys.alias("_key"))
        .sort("_key")
        .head(limit)
        .drop("_key")
        .sort("example_id")
    )


def normalise(frame: pl.DataFrame, num_classes: int, where: Origin | str) -> pl.DataFrame:
    """Check and cast a frame to the pieflow schema, refusing what would break training.

    Single-label frames carry ``label`` (int); multi-label frames carry ``labels`` (a list
    of class indices, possibly empty). The loaders refuse bad labels earlier, naming the
    source rows; this is the last line, and the only one for prepared Parquet folders.
    """
    origin = where if isinstance(where, Origin) else Origin(dataset="", split="", source=where)
    kind = label_kind_of(frame)
    multi_label = kind is LabelKind.MULTI
    label_column = kind.label_column
    missing = {"example_id", "text", label_column} - set(frame.columns)
    if missing:
        raise DataError(f"{_where(origin)}: missing columns {sorted(missing)}")
    if "text_pair" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("text_pair"))
    label_type = pl.List(pl.Int64) if multi_label else pl.Int64
    frame = frame.select(
        pl.col("example_id").cast(pl.Int64),
        pl.col("text").cast(pl.String).fill_null(""),
        pl.col("text_pair").cast(pl.String),
        pl.col(label_column).cast(label_type),
    )
    if frame.get_column("example_id").is_duplicated().any():
        raise DataError(f"{_where(origin)}: example_id values are not unique")
    ids = frame.get_column("example_id")
    values = frame.get_column(label_column)
    if values.null_count():
        rows = origin.rows(ids.filter(values.is_null()).to_list())
        raise DataError(f"{_where(origin, label_column)}: "
                        f"{examples_have(values.null_count())} no label: {rows}")
    if multi_label:
        holes = values.list.eval(pl.element().is_null()).list.any()
        if holes.any():
            raise DataError(f"{_where(origin, label_column)}: {int(holes.sum())} label lists "
                            f"hold a null: {origin.rows(ids.filter(holes).to_list())}")
        exploded = frame.select("example_id", label_column).explode(label_column).drop_nulls()
        ids, values = exploded.get_column("example_id"), exploded.get_column(label_column)
    outside = (values < 0) | (values >= num_classes)
    bad = int(outside.sum())
    if bad:
        raise DataError(f"{_where(origin, label_column)}: {bad} labels outside "
                        f"0..{num_classes - 1}: {origin.rows(ids.filter(outside).to_list())}")
    return frame


def _where(origin: Origin, column: str | None = None) -> str:
    """The message prefix; a bare path when the caller gave only one."""
    if origin.dataset:
        return origin.where(column)
    return f"{origin.source}, column {column!r}" if column else origin.source
