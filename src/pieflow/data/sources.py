"""External datasets — Hugging Face hub ids and local CSV / JSONL / Parquet files —
normalised into pieflow's schema through ``datasets.load_dataset`` (sources ``hub`` and
``files``). A reader module: it loads what its config entry names.

One code path for both: a hub id (``stanfordnlp/snli``) and a local folder shaped like
the hub repository go through the same ``load_dataset`` call, which is how the tests
exercise hub loading without a network. Local files are loaded one split at a time, after
:func:`pieflow.data.files.check_file`, so a failure names the file it comes from.

``example_id``: the row number in the source split plus a fixed offset per source split
(train 0, validation 10⁹, test 2·10⁹), so ids are unique within a dataset and stable as
long as the source files are. A validation split carved from train keeps train's ids.

Columns: ``text``, ``text_pair``, and ``label`` or (multi-label) ``labels`` by default,
each renamed through ``columns``. With neither ``columns.label`` nor ``columns.labels``
set, a source with a ``labels`` column and no ``label`` column is multi-label.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import polars as pl

from pieflow.data.checks import MIN_SPLIT_EXAMPLES
from pieflow.data.classes import index_multi_label, index_single_label
from pieflow.data.files import check_file
from pieflow.data.origin import ROW_NOTES, Origin
from pieflow.data.splits import SPLITS, DataError, Dataset, normalise, split_by_text_hash

log = logging.getLogger(__name__)

_ID_OFFSET = {"train": 0, "validation": 1_000_000_000, "test": 2_000_000_000}
_FORMATS = {"csv": "csv", "jsonl": "json", "json": "json", "parquet": "parquet"}


def _guess_format(name: str, path: str) -> str:
    for suffix, fmt in ((".csv", "csv"), (".jsonl", "jsonl"), (".json", "json"),
                        (".parquet", "parquet")):
        if str(path).endswith(suffix):
            return fmt
    raise DataError(f"dataset {name!r}: cannot tell the format of {path} from its name: set "
                    f"'format' (csv, jsonl or parquet)")


def _root_cause(error: BaseException) -> str:
    """The innermost error: ``datasets`` wraps the parser's useful message."""
    while error.__cause__ is not None:
        error = error.__cause__
    return f"{type(error).__name__}: {str(error)[:300]}"


def _load_hub(name: str, spec: dict[str, Any]) -> dict[str, tuple[Any, Origin]]:
    import datasets

    loaded = datasets.load_dataset(spec["hub_id"], spec.get("config_name"),
                                   revision=spec.get("revision"))
    theirs = {"train": "train", "validation": "validation", "test": "test"}
    theirs.update(spec.get("splits", {}))
    parts = {}
    for split in SPLITS:
        if theirs[split] in loaded:
            source = f"hub {spec['hub_id']}, split {theirs[split]!r}"
            parts[split] = (loaded[theirs[split]],
                            Origin(name, split, source, _ID_OFFSET[split], ROW_NOTES["hub"]))
    if "train" not in parts or "test" not in parts:
        raise DataError(f"dataset {name!r}: needs train and test splits, found "
                        f"{sorted(loaded.keys())} (map them with 'splits')")
    return parts


def _load_files(name: str, spec: dict[str, Any]) -> dict[str, tuple[Any, Origin]]:
    import datasets

    files = spec["files"]
    if "train" not in files or "test" not in files:
        raise DataError(f"dataset {name!r}: 'files' needs train and test, found {sorted(files)}")
    fmt = spec.get("format") or _guess_format(name, files["train"])
    if fmt not in _FORMATS:
        raise DataError(f"dataset {name!r}: unknown file format {fmt!r} "
                        f"(expected one of {', '.join(sorted(_FORMATS))})")
    parts = {}
    for split in SPLITS:
        if split not in files:
            continue
        path = str(files[split])
        origin = Origin(name, split, path, _ID_OFFSET[split], ROW_NOTES[fmt])
        check_file(path, fmt, origin)
        try:
            part = datasets.load_dataset(_FORMATS[fmt], data_files={split: path}, split=split)
        except Exception as error:  # the parser's own words, with the file named
            raise DataError(f"{origin.where()}: cannot be read as {fmt}: "
                            f"{_root_cause(error)}") from error
        if len(part) == 0:
            raise DataError(f"{origin.where()}: the file has no rows")
        parts[split] = (part, origin)
    return parts


def _label_column(columns: dict[str, str], available: list[str]) -> tuple[str, bool]:
    """(source label column, multi-label?) from the mapping, else from the default names."""
    if "labels" in columns:
        return columns["labels"], True
    if "label" in columns:
        return columns["label"], False
    if "label" not in available and "labels" in available:
        return "labels", True
    return "label", False


def _class_names(feature: Any) -> list[str] | None:
    """Names from a ``ClassLabel`` (or a sequence/list of them), else ``None``."""
    inner = getattr(feature, "feature", None)
    if inner is not None and hasattr(inner, "names"):
        return list(inner.names)
    if isinstance(feature, list) and feature and hasattr(feature[0], "names"):
        return list(feature[0].names)
    return list(feature.names) if hasattr(feature, "names") else None


def _missing_columns(origin: Origin, missing: list[str], available: list[str]) -> DataError:
    hint = ""
    if len(available) == 1 and any(sep in available[0] for sep in ";\t|"):
        hint = f"; the header is one column ({available[0]!r}): is the file not comma-separated?"
    elif "labels" in available and "label" in missing:
        hint = "; for multi-label data set columns: {labels: labels}"
    return DataError(f"{origin.where()}: no column(s) {missing}; it has {available} "
                     f"(set 'columns'){hint}")


def load_external(name: str, spec: dict[str, Any]) -> Dataset:
    """Load, map columns, check and index labels, carve validation, normalise."""
    columns = spec.get("columns", {})
    parts = _load_hub(name, spec) if spec["source"] == "hub" else _load_files(name, spec)
    text_col, pair_col = columns.get("text", "text"), columns.get("text_pair")
    label_col, multi = _label_column(columns, parts["train"][0].column_names)
    target = "labels" if multi else "label"
    wanted = {"text": text_col, target: label_col} | ({"text_pair": pair_col} if pair_col else {})

    frames, origins, class_names = {}, {}, None
    for split, (part, origin) in parts.items():
        missing = [c for c in dict.fromkeys(wanted.values()) if c not in part.column_names]
        if missing:
            raise _missing_columns(origin, missing, part.column_names)
        class_names = class_names or _class_names(part.features[label_col])
        raw = part.select_columns(list(dict.fromkeys(wanted.values()))).to_polars()
        frames[split] = raw.select(
            (pl.int_range(pl.len(), dtype=pl.Int64) + _ID_OFFSET[split]).alias("example_id"),
            *(pl.col(source).alias(ours) for ours, source in wanted.items()))
        origins[split] = replace(origin, text_column=text_col, label_column=label_col)

    notes: list[str] = []
    if multi:
        frames, classes = index_multi_label(frames, origins, class_names)
    else:
        frames, classes = index_single_label(frames, origins, class_names,
                                             spec.get("drop_labels", []), notes)
    if "validation" not in frames:
        frames, origins = _carve_validation(name, frames, origins,
                                            spec.get("validation_fraction", 0.1), notes)
    splits = {split: normalise(frames[split], len(classes), origins[split]) for split in SPLITS}
    return Dataset(splits=splits, classes=classes, origins=origins, notes=notes)


def _carve_validation(name: str, frames: dict[str, pl.DataFrame], origins: dict[str, Origin],
                      fraction: float, notes: list[str]
                      ) -> tuple[dict[str, pl.DataFrame], dict[str, Origin]]:
    """Validation from train by a hash of the text, refusing a carve too small to use."""
    train = frames["train"]
    carved = split_by_text_hash(train, {"train": 1 - fraction, "validation": fraction,
                                        "test": 0.0})
    kept, held = carved["train"].height, carved["validation"].height
    if min(kept, held) < MIN_SPLIT_EXAMPLES:
        raise DataError(f"{origins['train'].where()}: validation_fraction {fraction} of its "
                        f"{train.height} examples leaves {kept} for train and {held} for "
                        f"validation; each needs at least {MIN_SPLIT_EXAMPLES} — add a "
                        f"validation file, more training data or a larger validation_fraction")
    note = (f"dataset {name!r}: validation carved from train ({100 * fraction:.0f} %, by "
            f"text hash): {held} of {train.height} examples")
    log.info("%s", note)
    notes.append(note)
    origins = dict(origins, validation=replace(
        origins["train"], split="validation", source=f"carved from {origins['train'].source}"))
    return dict(frames, train=carved["train"], validation=carved["validation"]), origins
