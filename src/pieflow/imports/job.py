"""The import stage's I/O edge: rules ``import_dataset``, ``import_predictions`` and
``score_imported_difficulty``.

Imported cells skip training, pruning and prediction: their files become the same
``predictions.parquet`` and ``metrics.parquet`` a trained cell has (and, for a dataset
no trained model uses, the ``data/`` files ``prepare_dataset`` would write), so every
later rule reads them unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import polars as pl

from pieflow import io
from pieflow.imports.difficulty import final_difficulty
from pieflow.imports.files import PredictionsError
from pieflow.imports.prompts import check_documents, check_twins, identical_draws
from pieflow.imports.reading import (
    SPLITS,
    class_names,
    indexed,
    prediction_rows,
    read_population,
)
from pieflow.imports.validation import (
    check_answer_scores,
    check_covers,
    check_labels,
    check_population,
    check_within,
)
from pieflow.labels import LabelKind, label_kind, label_kind_of
from pieflow.predict.metrics import metrics_frame

log = logging.getLogger(__name__)

TEXT_COLUMNS = ("text", "text_pair")
_KIND_TEXT = {LabelKind.SINGLE: "single-label", LabelKind.MULTI: "multi-label",
              LabelKind.ANSWER: "generated answers"}


def import_dataset_job(entries: Sequence[Mapping[str, Any]], outputs: Mapping[str, str]
                       ) -> None:
    """A dataset's ``data/`` files from every imported entry on it: each split's examples
    with their label and text, ``classes.json`` and ``meta.json`` (the label kind).
    Generated answers (``label_kind: answer``): ``classes.json`` lists every distinct
    target and answer of every population, sorted, and labels are their ids."""
    frames = [read_population(p["paths"], p["seeds"], entry, p["where"])
              for entry in entries for p in entry["populations"]]
    warnings = _check_prompts(entries, frames)
    given = {tuple(entry["classes"]) for entry in entries if entry.get("classes")}
    if len(given) > 1:
        raise PredictionsError("imported entries " + ", ".join(e["name"] for e in entries)
                               + " give different classes; give one list (or none)")
    kinds = {label_kind_of(frame) for frame in frames}
    if len(kinds) > 1:
        raise PredictionsError("imported entries " + ", ".join(e["name"] for e in entries)
                               + " mix label kinds (" + ", ".join(sorted(kinds)) + "): "
                               "single-label, multi-label and generated-answer files "
                               "cannot share a dataset")
    kind = kinds.pop()
    classes = class_names(frames, next(iter(given), None), entries[0]["format"])
    every = pl.concat([indexed(frame, classes).select(
        "_file", "_row", "split", "example_id", kind.label_column, *TEXT_COLUMNS)
        for frame in frames], how="vertical_relaxed")
    check_labels(every)
    examples = every.sort("_file", "_row").group_by("split", "example_id").agg(
        pl.col(kind.label_column).first(),
        *(pl.col(c).drop_nulls().first() for c in TEXT_COLUMNS))
    notes = [f"imported: {len(frames)} populations of {', '.join(e['name'] for e in entries)}"]
    for entry in entries:
        if entry.get("texts"):
            examples = _with_texts(examples, entry["texts"])
            notes.append(f"texts from {entry['texts']}")
    has_texts = examples.get_column("text").null_count() < examples.height
    if kind is LabelKind.MULTI:  # prepared data lists class indices
        examples = examples.with_columns(pl.col("labels").list.eval(
            (pl.element() == 1).arg_true()).cast(pl.List(pl.Int64)))
    sizes = {}
    for split in SPLITS:
        part = examples.filter(pl.col("split") == split).sort("example_id").select(
            pl.col("example_id").cast(pl.Int64), pl.col("text").fill_null(""), "text_pair",
            pl.col(kind.label_column).cast(pl.List(pl.Int64) if kind is LabelKind.MULTI
                                           else pl.Int64))
        io.write_parquet(part, outputs[split])
        sizes[split] = part.height
    io.write_json(classes, outputs["classes"])
    io.write_json({"label_kind": str(kind), "num_classes": len(classes), "examples": sizes,
                   "source": "imported", "texts": has_texts, "warnings": warnings,
                   "notes": notes},
                  outputs["meta"])
    log.info("%d classes, examples per split %s, texts: %s", len(classes), sizes, has_texts)


def _check_prompts(entries: Sequence[Mapping[str, Any]],
                   frames: Sequence[pl.DataFrame]) -> list[str]:
    """lm-eval samples with hashes: one document per doc_id over every file, twins that
    saw their dense member's prompts (refused otherwise), and a warning where the dense
    members are not different few-shot draws (:mod:`pieflow.imports.prompts`)."""
    populations = [(p["where"], frame) for p, frame in zip(
        (p for entry in entries for p in entry["populations"]), frames, strict=True)]
    check_documents(populations)
    warnings = []
    position = 0
    for entry in entries:
        dense_where, dense = populations[position]
        for where, frame in populations[position + 1:position + len(entry["populations"])]:
            check_twins(dense, frame, where)
        position += len(entry["populations"])
        if (said := identical_draws(dense, dense_where)) is not None:
            log.warning("%s", said)
            warnings.append(said)
    return warnings


def _with_texts(examples: pl.DataFrame, path: str) -> pl.DataFrame:
    """Texts from a ``texts`` file (``example_id``, ``text``; optional ``text_pair``,
    ``split``) in place of the ones the predictions carry."""
    reader = {".csv": pl.read_csv, ".jsonl": pl.read_ndjson}.get(
        path[path.rfind("."):].lower(), pl.read_parquet)
    try:
        texts = reader(path)
    except Exception as err:  # noqa: BLE001 (polars raises several kinds)
        raise PredictionsError(f"{path}: not readable ({err})") from None
    missing = [c for c in ("example_id", "text") if c not in texts.columns]
    if missing:
        raise PredictionsError(f"{path}: no column(s) {missing}; it has {texts.columns}")
    on = ["split", "example_id"] if "split" in texts.columns else ["example_id"]
    given = texts.select(*on, *(pl.col(c).cast(pl.String).alias(f"_{c}")
                                for c in TEXT_COLUMNS if c in texts.columns))
    joined = examples.join(given.with_columns(pl.col("example_id").cast(pl.Int64)), on=on,
                           how="left")
    return joined.with_columns(pl.coalesce(f"_{c}", c).alias(c) for c in TEXT_COLUMNS
                               if f"_{c}" in joined.columns).drop(pl.selectors.starts_with("_"))


def import_predictions_job(reading: Mapping[str, Any], where: str, paths: Sequence[str],
                           seeds: Sequence[int | None], splits: Mapping[str, str],
                           classes: str, meta: str, outputs: Mapping[str, str],
                           dense: str | None = None) -> None:
    """One imported population as ``predictions.parquet`` and ``metrics.parquet``,
    checked against the dataset's prepared splits and (a compressed population) the
    imported dense one. Generated answers keep ``correct`` (the line's metric), which
    must score an answer the same in every file."""
    frame = read_population(paths, seeds, dict(reading), where)
    check_population(frame, where)
    answers = label_kind_of(frame) is LabelKind.ANSWER
    if answers:
        check_answer_scores(frame)
    names, kind = io.read_json(classes), label_kind(io.read_json(meta))
    if reading.get("classes") and list(reading["classes"]) != names:
        raise PredictionsError(f"{where}: classes {list(reading['classes'])} differ from the "
                               f"dataset's ({names}, {classes})")
    if label_kind_of(frame) is not kind:
        raise PredictionsError(f"{where}: the dataset's labels are {_KIND_TEXT[kind]}, the "
                               f"files' {_KIND_TEXT[label_kind_of(frame)]}")
    frame = indexed(frame, names)
    check_labels(frame)
    data = pl.concat([pl.read_parquet(path, columns=["example_id", kind.label_column])
                      .with_columns(pl.lit(split).alias("split")) for split, path in
                      sorted(splits.items())])
    if kind is LabelKind.MULTI:
        data = data.with_columns(_multi_hot(data.get_column("labels"), len(names)))
    check_within(frame, data, "the dataset's prepared splits")
    if dense is not None:
        reference = pl.read_parquet(dense, columns=["split", "example_id", kind.label_column]
                                    ).unique(["split", "example_id"])
        check_within(frame, reference, "the dense population")
        check_covers(frame, reference, "the dense population", where)
        if answers:
            check_answer_scores(frame, pl.read_parquet(
                dense, columns=["split", "example_id", "pred", "correct"]),
                "the dense population")
    rows = prediction_rows(frame, len(names), reading["format"])
    metrics = metrics_frame(rows, len(names), kind).with_columns(
        pl.lit(None, pl.Float64).alias("sparsity"))
    if kind is LabelKind.MULTI:
        metrics = metrics.with_columns(pl.lit(None, pl.Float64).alias("threshold"))
    io.write_parquet(rows, outputs["predictions"])
    io.write_parquet(metrics, outputs["metrics"])
    for row in metrics.group_by("split").agg(pl.len(), pl.col("accuracy").mean()).iter_rows():
        log.info("%s: %d seeds, mean accuracy %.4f", *row)


def _multi_hot(labels: pl.Series, num_classes: int) -> pl.Series:
    hot = np.zeros((len(labels), num_classes), dtype=np.int8)
    for row, classes in enumerate(labels.to_list()):
        hot[row, classes] = 1
    return pl.Series("labels", hot.tolist(), dtype=pl.List(pl.Int8))


def imported_difficulty_job(dense: str, classes: str, meta: str, output: str) -> None:
    """``influence.parquet`` of an imported model: every difficulty score registered for
    imported populations and LLMs, from the dense population's final predictions (no
    early checkpoint exists): EL2N-like from its final probabilities, or without them its
    answers (generated answers: their correctness), agreement, modal confidence, choice
    margin, final loss."""
    kind = label_kind(io.read_json(meta))
    predictions = pl.read_parquet(dense)
    table = final_difficulty(predictions, kind, len(io.read_json(classes)))
    io.write_parquet(table, output)
    log.info("difficulty of %d examples from %s", table.height,
             table.get_column("difficulty_source")[0] if table.height else "nothing")
