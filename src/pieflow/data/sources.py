"""External datasets — Hugging Face hub ids and local CSV / JSONL / Parquet files —
normalised into pieflow's schema through ``datasets.load_dataset``.

One code path for both: a hub id (``stanfordnlp/snli``) and a local folder shaped like
the hub repository go through the same ``load_dataset`` call, which is how the tests
exercise hub loading without a network.

``example_id``: the row number in the source split plus a fixed offset per source split
(train 0, validation 10⁹, test 2·10⁹), so ids are unique within a dataset and stable as
long as the source files are. A validation split carved from train keeps train's ids.
"""

from __future__ import annotations

import logging
from typing import Any

import polars as pl

from pieflow.data.splits import SPLITS, DataError, normalise, split_by_text_hash

log = logging.getLogger(__name__)

_ID_OFFSET = {"train": 0, "validation": 1_000_000_000, "test": 2_000_000_000}
_FORMATS = {"csv": "csv", "jsonl": "json", "json": "json", "parquet": "parquet"}


def _load(name: str, spec: dict[str, Any]):
    import datasets

    if spec["source"] == "hub":
        return datasets.load_dataset(spec["hub_id"], spec.get("config_name"),
                                     revision=spec.get("revision"))
    files = spec["files"]
    fmt = spec.get("format") or _guess_format(next(iter(files.values())))
    if fmt not in _FORMATS:
        raise DataError(f"dataset {name!r}: unknown file format {fmt!r} "
                        f"(expected one of {', '.join(sorted(_FORMATS))})")
    return datasets.load_dataset(_FORMATS[fmt], data_files=dict(files))


def _guess_format(path: str) -> str:
    for suffix, fmt in ((".csv", "csv"), (".jsonl", "jsonl"), (".json", "json"),
                        (".parquet", "parquet")):
        if str(path).endswith(suffix):
            return fmt
    raise DataError(f"cannot tell the format of {path}: set 'format'")


def _class_names(feature: Any) -> list[str] | None:
    """Names from a ``ClassLabel`` (or a sequence/list of them), else ``None``."""
    inner = getattr(feature, "feature", None)
    if inner is not None and hasattr(inner, "names"):
        return list(inner.names)
    if isinstance(feature, list) and feature and hasattr(feature[0], "names"):
        return list(feature[0].names)
    return list(feature.names) if hasattr(feature, "names") else None


def load_external(name: str, spec: dict[str, Any]) -> tuple[dict[str, pl.DataFrame], list[str]]:
    """Load, map columns, drop unwanted labels, carve validation, index classes."""
    columns = spec.get("columns", {})
    text_col = columns.get("text", "text")
    pair_col = columns.get("text_pair")
    label_col = columns.get("label", "label")
    labels_col = columns.get("labels")  # multi-label: a list column
    split_names = {"train": "train", "validation": "validation", "test": "test"}
    split_names.update(spec.get("splits", {}))
    loaded = _load(name, spec)
    available = set(loaded.keys())

    frames: dict[str, pl.DataFrame] = {}
    class_names = None
    for split in SPLITS:
        source_split = split_names[split]
        if source_split not in available:
            continue
        part = loaded[source_split]
        wanted = [text_col] + ([pair_col] if pair_col else []) + [labels_col or label_col]
        missing = [c for c in wanted if c not in part.column_names]
        if missing:
            raise DataError(f"dataset {name!r}, split {source_split!r}: no column(s) "
                            f"{missing}; it has {part.column_names} (set 'columns')")
        class_names = class_names or _class_names(part.features[labels_col or label_col])
        frame = part.select_columns(wanted).to_polars()
        frames[split] = frame.with_row_index("example_id").with_columns(
            pl.col("example_id").cast(pl.Int64) + _ID_OFFSET[split])
    if "train" not in frames or "test" not in frames:
        raise DataError(f"dataset {name!r}: needs train and test splits, found "
                        f"{sorted(available)} (map them with 'splits')")

    if labels_col:
        frames, classes = _index_multi_label(frames, labels_col, class_names)
    else:
        frames, classes = _index_single_label(frames, label_col, class_names,
                                              spec.get("drop_labels", []))
    renamed = {}
    for split, frame in frames.items():
        frame = frame.rename({text_col: "text"})
        if pair_col:
            frame = frame.rename({pair_col: "text_pair"})
        renamed[split] = frame
    if "validation" not in renamed:
        fraction = spec.get("validation_fraction", 0.1)
        carved = split_by_text_hash(renamed["train"], {"train": 1 - fraction,
                                                       "validation": fraction, "test": 0.0})
        renamed["train"], renamed["validation"] = carved["train"], carved["validation"]
        log.info("%s: validation carved from train (%.0f %%, by text hash)", name,
                 100 * fraction)
    out = {split: normalise(renamed[split], len(classes), f"{name}/{split}")
           for split in SPLITS}
    return out, classes


def _index_single_label(frames, label_col, class_names, drop_labels):
    frames = {s: f.filter(~pl.col(label_col).is_in(drop_labels)) if drop_labels else f
              for s, f in frames.items()}
    if class_names is not None:
        classes = class_names
        frames = {s: f.rename({label_col: "label"}) for s, f in frames.items()}
        return frames, classes
    values = sorted(set(frames["train"].get_column(label_col).drop_nulls().to_list()))
    classes = [str(v) for v in values]
    index = {v: i for i, v in enumerate(values)}
    unknown = set().union(*(set(f.get_column(label_col).to_list()) for f in frames.values()))
    unknown -= set(values)
    if unknown:
        raise DataError(f"labels {sorted(map(str, unknown))[:5]} appear outside train")
    return {s: f.with_columns(pl.col(label_col).replace_strict(index, return_dtype=pl.Int64)
                              .alias("label")).drop(label_col)
            for s, f in frames.items()}, classes


def _index_multi_label(frames, labels_col, class_names):
    if class_names is None:
        values = set()
        for frame in frames.values():
            values |= set(frame.get_column(labels_col).explode().drop_nulls().to_list())
        class_names = sorted(map(str, values))
        index = {name: i for i, name in enumerate(class_names)}
        frames = {s: f.with_columns(
            pl.col(labels_col).list.eval(pl.element().cast(pl.String)
                                         .replace_strict(index, return_dtype=pl.Int64))
            .alias("labels")) for s, f in frames.items()}
    else:
        frames = {s: f.with_columns(pl.col(labels_col).cast(pl.List(pl.Int64))
                                    .alias("labels")) for s, f in frames.items()}
    if labels_col != "labels":
        frames = {s: f.drop(labels_col) for s, f in frames.items()}
    return frames, list(class_names)
