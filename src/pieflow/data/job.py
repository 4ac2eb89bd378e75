"""The data stage's I/O edge: prepare a dataset's splits, or a GloVe file's vectors."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import polars as pl

from pieflow import io
from pieflow.labels import label_kind_of

log = logging.getLogger(__name__)


def prepare_dataset(name: str, spec: dict[str, Any], outputs: dict[str, str]) -> None:
    """Write train/validation/test Parquet, ``classes.json``, ``meta.json`` (where the
    label kind is decided once for every later stage, next to the data checks' warnings
    and notes) and ``checks.html``, the report's view of the checks."""
    from pieflow.data.checks import label_counts
    from pieflow.data.checks_view import checks_html
    from pieflow.data.prepare import load_dataset_from_config
    from pieflow.data.splits import SPLITS

    dataset = load_dataset_from_config(name, spec)
    kind = label_kind_of(dataset.splits["train"])
    for split in SPLITS:
        frame = dataset.splits[split]
        io.write_parquet(frame, outputs[split])
        log.info("%s/%s: %d examples, per class %s", name, split, frame.height,
                 label_counts(frame, dataset.classes))
    io.write_json(dataset.classes, outputs["classes"])
    io.write_json({"label_kind": str(kind), "num_classes": len(dataset.classes),
                   "examples": {split: dataset.splits[split].height for split in SPLITS},
                   "warnings": dataset.warnings, "notes": dataset.notes},
                  outputs["meta"])
    Path(outputs["checks"]).write_text(checks_html(name, dataset, str(kind)), encoding="utf-8")


def prepare_vectors(vectors_path: str, split_paths: list[str], outputs: dict[str, str]) -> None:
    """Keep the vectors of the dataset's words from a GloVe-format file (streamed once)."""
    from pieflow.data.vectors import dataset_words, read_glove, vocabulary_and_matrix

    texts: list[str | None] = []
    for path in split_paths:
        frame = pl.read_parquet(path, columns=["text", "text_pair"])
        texts += frame.get_column("text").to_list() + frame.get_column("text_pair").to_list()
    wanted = dataset_words(texts)
    started = time.perf_counter()
    words, matrix = read_glove(vectors_path, wanted)
    itos, full = vocabulary_and_matrix(words, matrix)
    io.save_tensors({"vectors": full}, outputs["vectors"])
    io.write_json(itos, outputs["vocab"])
    log.info("kept %d of %d dataset words (%d-d) in %.1f s", len(words), len(wanted),
             full.shape[1], time.perf_counter() - started)
