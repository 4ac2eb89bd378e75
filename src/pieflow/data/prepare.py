"""A dataset's config entry → its normalised, split, checked frames (the data stage's core).

Every source ends in the same :func:`pieflow.data.checks.check_dataset`, so a dataset is
refused, or warned about, the same way whether it comes from the hub, local files, a
prepared Parquet folder or the embedded tweets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from pieflow.data.checks import MIN_SPLIT_EXAMPLES, check_dataset
from pieflow.data.embedded import embedded_tweets
from pieflow.data.files import read_prepared_folder
from pieflow.data.sources import load_external
from pieflow.data.splits import DataError, Dataset, subsample

log = logging.getLogger(__name__)

# A dataset's ``source`` (config) -> its reader: (name, config entry) -> Dataset. A new
# source is one reader function plus one entry here (and the value in the schema's enum).
SOURCES: dict[str, Callable[[str, dict], Dataset]] = {
    "embedded-tweets": embedded_tweets,
    "parquet": read_prepared_folder,
    "hub": load_external,
    "files": load_external,
}


def load_dataset_from_config(name: str, spec: dict) -> Dataset:
    """Build a normalised, checked dataset from its config entry (``config.schema.yaml``).

    Raises :class:`DataError` for data no run could use; what is kept but suspicious is
    in the returned dataset's ``warnings`` (and logged).
    """
    source = spec["source"]
    if source not in SOURCES:  # the schema refuses other values; kept for direct callers
        raise DataError(f"dataset {name!r}: unknown source {source!r}")
    dataset = SOURCES[source](name, spec)
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
