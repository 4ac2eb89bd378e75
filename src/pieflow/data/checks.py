"""Checks on a whole dataset, once its splits are normalised, for every source.

Two kinds of finding. What no run could use is refused with a :class:`DataError`: a split
with fewer than ``MIN_SPLIT_EXAMPLES`` examples, a training split with fewer than two
classes, or (single-label) validation or test examples of a class train lacks. What a
run can use but a reader would be misled by is kept and warned about — logged and
returned, so the data job records it in ``meta.json`` and ``checks.html``:

* validation or test examples whose text (and second text) also occurs in train: their
  scores measure memory rather than generalisation;
* classes with fewer than ``FEW_TRAIN_EXAMPLES`` training examples (including classes
  that occur only in validation or test, possible for multi-label data): their per-class
  scores are noise;
* class names that differ only in case or surrounding whitespace (``pos``, ``pos ``,
  ``Pos``). They are kept as separate classes, never merged: merging would silently
  change the labels of the user's data, and two spellings may be a typo or may be
  meant — the warning names them so the user decides;
* examples without text (kept, with an empty text).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import polars as pl

from pieflow.data.origin import Origin, examples_have
from pieflow.data.splits import SPLITS, DataError, Dataset
from pieflow.labels import LabelKind, label_kind_of

log = logging.getLogger(__name__)

# Every split needs two examples: validation tunes the multi-label threshold and picks
# nothing from one example; a training split of one example has one class. Larger
# minimums would refuse the tiny datasets tests and smoke runs use on purpose; small
# classes are warned about instead (FEW_TRAIN_EXAMPLES).
MIN_SPLIT_EXAMPLES = 2
FEW_TRAIN_EXAMPLES = 5


def label_counts(frame: pl.DataFrame, classes: Sequence[str]) -> dict[str, int]:
    """Examples per class (multi-label: an example counts once for each of its classes)."""
    kind = label_kind_of(frame)
    values = frame.get_column(kind.label_column)
    if kind is LabelKind.MULTI:
        values = values.explode().drop_nulls()
    counts = dict(values.value_counts().iter_rows())
    return {name: int(counts.get(i, 0)) for i, name in enumerate(classes)}


def check_dataset(dataset: Dataset) -> list[str]:
    """Refuse a dataset no run could use; return (and log) the warnings about the rest."""
    origins = dataset.origins
    for split in SPLITS:
        _refuse_small_split(dataset.splits[split], origins[split])
    train_counts = label_counts(dataset.splits["train"], dataset.classes)
    _refuse_single_class(train_counts, dataset.splits["train"].height, origins["train"])
    if label_kind_of(dataset.splits["train"]) is LabelKind.SINGLE:
        _refuse_classes_missing_from_train(dataset, train_counts)
    warnings = [
        *_case_variants(dataset.classes, origins["train"]),
        *_rare_classes(train_counts, dataset, origins["train"]),
        *_overlaps_with_train(dataset.splits, origins),
        *_empty_texts(dataset.splits, origins),
    ]
    for warning in warnings:
        log.warning("%s", warning)
    return warnings


def _refuse_small_split(frame: pl.DataFrame, origin: Origin) -> None:
    if frame.height >= MIN_SPLIT_EXAMPLES:
        return
    has = "no examples" if frame.height == 0 else f"only {frame.height} example"
    raise DataError(f"{origin.where()}: {has}; every split needs at least "
                    f"{MIN_SPLIT_EXAMPLES} (check the file, and 'drop_labels', "
                    f"'max_examples' and 'validation_fraction' in the config)")


def _refuse_single_class(counts: dict[str, int], examples: int, origin: Origin) -> None:
    present = [name for name, count in counts.items() if count]
    if len(present) >= 2:
        return
    which = f"only one class occurs ({present[0]!r})" if present else "no class occurs"
    raise DataError(f"{origin.where(origin.label_column)}: {which} in train's {examples} "
                    f"examples; a classifier needs at least two classes — check the label "
                    f"column ('columns' in the config) and that train holds every class")


def _refuse_classes_missing_from_train(dataset: Dataset, train_counts: dict[str, int]) -> None:
    """Single-label: no model predicts a class it never saw, so its examples in validation
    or test could only be scored wrong. (The loaders refuse unknown values; this catches
    a class that a carved validation split or ``max_examples`` took out of train, and
    ``ClassLabel`` classes train lacks.) Multi-label data is only warned about."""
    absent = [i for i, name in enumerate(dataset.classes) if not train_counts[name]]
    for split in ("validation", "test"):
        frame, origin = dataset.splits[split], dataset.origins[split]
        unseen = frame.get_column("label").is_in(absent)
        if unseen.any():
            names = sorted({dataset.classes[i] for i in frame.get_column("label").filter(unseen)})
            rows = origin.rows(frame.get_column("example_id").filter(unseen).to_list())
            raise DataError(f"{origin.where(origin.label_column)}: "
                            f"{examples_have(int(unseen.sum()))} labels not seen in train "
                            f"({', '.join(map(repr, names))}): {rows}; add training examples "
                            f"of these classes (a carved validation split or max_examples "
                            f"may have taken them out of train), or remove those rows")


def _case_variants(classes: Sequence[str], origin: Origin) -> list[str]:
    groups: dict[str, list[str]] = {}
    for name in classes:
        groups.setdefault(name.strip().casefold(), []).append(name)
    return [f"dataset {origin.dataset!r}, column {origin.label_column!r}: labels "
            f"{', '.join(repr(n) for n in names)} differ only in case or surrounding "
            f"whitespace; they are kept as {len(names)} separate classes — if they are "
            f"one class, write them one way in the data"
            for names in groups.values() if len(names) > 1]


def _rare_classes(counts: dict[str, int], dataset: Dataset, origin: Origin) -> list[str]:
    rare = {name: count for name, count in counts.items() if count < FEW_TRAIN_EXAMPLES}
    if not rare:
        return []
    shown = ", ".join(f"{name!r} ({count}{', never in train' if count == 0 else ''})"
                      for name, count in list(rare.items())[:10])
    more = ", …" if len(rare) > 10 else ""
    return [f"{origin.where(origin.label_column)}: classes with fewer than "
            f"{FEW_TRAIN_EXAMPLES} training examples ({len(rare)} of {len(dataset.classes)}): "
            f"{shown}{more}; "
            f"no model learns them reliably and their per-class scores are noise — add "
            f"examples, or merge or remove those classes"]


def _text_key(frame: pl.DataFrame) -> pl.Series:
    return frame.select(pl.concat_str(pl.col("text"), pl.col("text_pair").fill_null(""),
                                      separator="\x00")).to_series()


def _overlaps_with_train(splits: dict[str, pl.DataFrame],
                         origins: dict[str, Origin]) -> list[str]:
    train = set(_text_key(splits["train"]).to_list())
    warnings = []
    for split in ("validation", "test"):
        frame = splits[split]
        seen = _text_key(frame).is_in(list(train))
        if seen.any():
            origin = origins[split]
            rows = origin.rows(frame.get_column("example_id").filter(seen).to_list())
            warnings.append(f"{origin.where()}: {int(seen.sum())} of {frame.height} examples "
                            f"also occur in train (same text): {rows}; their scores measure "
                            f"memory, not generalisation — remove them from one split")
    return warnings


def _empty_texts(splits: dict[str, pl.DataFrame], origins: dict[str, Origin]) -> list[str]:
    warnings = []
    for split in SPLITS:
        frame = splits[split]
        empty = frame.get_column("text").str.strip_chars() == ""
        if empty.any():
            origin = origins[split]
            rows = origin.rows(frame.get_column("example_id").filter(empty).to_list())
            warnings.append(f"{origin.where(origin.text_column)}: "
                            f"{examples_have(int(empty.sum()))} no text: {rows}; they are "
                            f"kept, with an empty text")
    return warnings
