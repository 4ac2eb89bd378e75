"""lm-evaluation-harness tasks for pieflow: any prepared dataset as a multiple-choice task,
loading a task by name with one-line refusals, and the texts its few-shot pool gives.

Why here: a pretrained LLM is studied on lm_eval tasks (the spec's "Pretrained LLMs used
as they are"); pieflow's own datasets become such tasks so the same model can be asked
the same questions a fine-tuned classifier was, and pruning methods that need calibration
text (Wanda, SparseGPT, GPTQ) take it from the task's few-shot pool, never from the
evaluated documents.
"""

from __future__ import annotations

import json
import logging
import re
import string
from pathlib import Path
from typing import Any

import polars as pl
import yaml

log = logging.getLogger(__name__)

PLACEHOLDERS = ("text", "text_pair")
ACCEPTED_OUTPUT_TYPES = ("multiple_choice", "generate_until")
_LITERAL_BRACES = {"{": "{{ '{' }}", "}": "{{ '}' }}"}
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class TaskError(ValueError):
    """A task that cannot be made, found or used as asked; the message is one line."""


# --------------------------------------------------------------------------- make


def _jinja_template(template: str) -> tuple[str, set[str]]:
    """pieflow's ``{text}`` / ``{text_pair}`` template as lm_eval's jinja (``{{text}}``),
    and the placeholders it uses. Literal braces (``{{`` / ``}}`` in Python format
    syntax) stay literal in jinja."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as error:
        raise TaskError(f"template {template!r}: {error}") from None
    out, used = [], set()
    for literal, field, spec, conversion in parts:
        out.append("".join(_LITERAL_BRACES.get(ch, ch) for ch in literal))
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            raise TaskError(f"template {template!r}: unknown placeholder {{{field}}}; "
                            f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
        if spec or conversion:
            raise TaskError(f"template {template!r}: {{{field}}} takes no format spec or "
                            "conversion")
        used.add(field)
        out.append("{{" + field + "}}")
    return "".join(out), used


def _docs(split: str, frame: pl.DataFrame, classes: list[str], with_pair: bool
          ) -> list[dict[str, Any]]:
    """The JSON-lines documents of one prepared split (single-label int labels only)."""
    if "labels" in frame.columns:
        raise TaskError(f"split {split}: multi-label data (a 'labels' column) cannot be a "
                        "multiple-choice task; it needs one class per example")
    if "correct" in frame.columns:
        raise TaskError(f"split {split}: generated answers (a 'correct' column) are not "
                        "class labels")
    missing = [c for c in ("example_id", "text", "label") if c not in frame.columns]
    if missing:
        raise TaskError(f"split {split}: missing column(s) {', '.join(missing)}")
    if not frame.schema["label"].is_integer():
        raise TaskError(f"split {split}: label must be an integer class index, got "
                        f"{frame.schema['label']}")
    labels = frame.get_column("label")
    if labels.null_count() or (frame.height and (labels.min() < 0
                                                 or labels.max() >= len(classes))):
        raise TaskError(f"split {split}: labels must be class indices 0..{len(classes) - 1}")
    columns = ["example_id", "text", "label"] + (["text_pair"] if with_pair else [])
    rows = frame.select(columns).to_dicts()
    for row in rows:
        row["text"] = row["text"] if row["text"] is not None else ""
        if with_pair:
            row["text_pair"] = row["text_pair"] if row["text_pair"] is not None else ""
    return rows


def dataset_task(name: str, template: str, frames: dict[str, pl.DataFrame],
                 classes: list[str], out_dir: str, fewshot_split: str = "train",
                 eval_split: str = "test") -> str:
    """Make a prepared pieflow dataset a multiple-choice lm_eval task named ``name``.

    Why: the choices are the class names, so a pretrained LLM answers the dataset's
    question the way a classifier does, with lm_eval's ``acc``/``acc_norm``. Writes
    ``<out_dir>/<name>_<split>.jsonl`` per frame (``example_id``, ``text``, ``text_pair``
    when the data has one, ``label``) and ``<out_dir>/<name>.yaml`` whose ``data_files``
    are absolute (``datasets`` would resolve relative ones against the current
    directory). lm_eval's ``doc_id`` is the row position in ``eval_split``; the docs keep
    ``example_id`` so answers map back to pieflow's examples. Returns ``name``.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise TaskError(f"task name {name!r}: use letters, digits, '_', '.', '-'")
    for split in (fewshot_split, eval_split):
        if split not in frames:
            raise TaskError(f"task {name}: no {split!r} split among {sorted(frames)}")
        if frames[split].height == 0:
            raise TaskError(f"task {name}: the {split!r} split is empty")
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise TaskError(f"task {name}: needs at least 2 distinct class names, got {classes}")
    if not all(isinstance(c, str) and c.strip() for c in classes):
        raise TaskError(f"task {name}: class names must be non-empty strings, got {classes}")
    jinja, used = _jinja_template(template)
    with_pair = any("text_pair" in f.columns and f.get_column("text_pair").null_count()
                    < f.height for f in frames.values())
    if "text_pair" in used and not with_pair:
        raise TaskError(f"task {name}: the template uses {{text_pair}} but the data has no "
                        "text_pair")
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    data_files = {}
    for split, frame in frames.items():
        path = out / f"{name}_{split}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for doc in _docs(split, frame, classes, with_pair):
                handle.write(json.dumps(doc, ensure_ascii=False) + "\n")
        data_files[split] = str(path)
    config = {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": data_files},
        "output_type": "multiple_choice",
        "fewshot_split": fewshot_split,
        "test_split": eval_split,
        "doc_to_text": jinja,
        "doc_to_choice": list(classes),
        "doc_to_target": "label",
        "target_delimiter": " ",
        "metric_list": [{"metric": m, "aggregation": "mean", "higher_is_better": True}
                        for m in ("acc", "acc_norm")],
        "metadata": {"version": 1.0},
    }
    header = (f"# made by pieflow.llm.tasks.dataset_task from template {template!r}\n"
              "# data_files are absolute: datasets resolves relative paths against the "
              "current directory\n")
    text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=10_000)
    (out / f"{name}.yaml").write_text(header + text, encoding="utf-8")
    return name


# --------------------------------------------------------------------------- load


def task_manager(task: str, include_path: str | None) -> Any:
    """The lm_eval TaskManager that knows ``task``: ``include_path`` alone when the task
    is there (indexing lm_eval's ~10k built-in YAMLs costs seconds per job), else the
    registry plus ``include_path``. One manager serves the checks and the evaluation."""
    from lm_eval.tasks import TaskManager

    if include_path:
        local = TaskManager(include_path=include_path, include_defaults=False)
        if task in local.all_tasks:
            return local
    manager = TaskManager(include_path=include_path)
    if task not in manager.all_tasks:
        where = f" nor in {include_path}" if include_path else ""
        raise TaskError(f"task {task}: not in lm-evaluation-harness's registry{where}")
    return manager


def load_task(task: str, include_path: str | None, manager: Any = None) -> Any:
    """The lm_eval Task object of ``task`` (lm_eval's registry plus ``include_path``;
    ``manager``: one :func:`task_manager` gave).

    Why one-line refusals: a misspelt name, a group (pieflow compares one task's answers
    at a time) or an output type pieflow cannot read (only per-choice log-likelihoods
    and generated answers make predictions) should stop a run before any model loads.
    """
    from lm_eval.tasks import TaskManager

    if manager is None:
        manager = task_manager(task, include_path)
    try:
        leaves = manager.load([task])["tasks"]
    except (KeyError, ValueError) as error:
        if not include_path:
            raise
        # e.g. a local group of built-in tasks, whose manager knew include_path alone:
        # load it with the registry (a task that fails there too fails again, as it is)
        log.debug("task %s: %s; retrying with lm_eval's registry", task, error)
        leaves = TaskManager(include_path=include_path).load([task])["tasks"]
    if len(leaves) != 1:
        raise TaskError(f"task {task}: is a group of {len(leaves)} tasks; name one of "
                        f"them ({', '.join(sorted(leaves)[:5])}"
                        f"{', ...' if len(leaves) > 5 else ''})")
    obj = next(iter(leaves.values()))
    output_type = getattr(obj, "OUTPUT_TYPE", None) or obj.config.output_type
    if output_type not in ACCEPTED_OUTPUT_TYPES:
        raise TaskError(f"task {task}: output_type {output_type} is not supported; "
                        f"pieflow reads {' or '.join(ACCEPTED_OUTPUT_TYPES)}")
    return obj


def _name(task_obj: Any) -> str:
    return getattr(task_obj.config, "task", None) or type(task_obj).__name__


def check_limit(task_obj: Any, limit: int | None) -> int:
    """The number of documents a run evaluates with ``limit``.

    Why: lm_eval silently evaluates fewer documents than asked when ``limit`` exceeds the
    split (and treats 0 as "all"), so populations meant to be comparable would not be.
    """
    total = len(task_obj.eval_docs)
    if limit is None:
        return total
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise TaskError(f"limit {limit!r} must be a positive whole number of documents")
    if limit > total:
        raise TaskError(f"limit {limit} is larger than task {_name(task_obj)}'s {total} "
                        "documents")
    return limit


# --------------------------------------------------------------------------- texts


def pool_docs(task_obj: Any) -> tuple[str, list[dict]]:
    """(which split, its docs): the task's few-shot pool — ``fewshot_docs()`` when the task
    names a few-shot split, else training, else validation, else the evaluated docs."""
    config = task_obj.config
    if getattr(config, "fewshot_split", None) is not None:
        docs = task_obj.fewshot_docs()
        if docs is not None:
            return f"fewshot ({config.fewshot_split})", list(docs)
    if task_obj.has_training_docs():
        return f"training ({config.training_split})", list(task_obj.training_docs())
    if task_obj.has_validation_docs():
        return f"validation ({config.validation_split})", list(task_obj.validation_docs())
    return "evaluated documents", list(task_obj.eval_docs)


def _answer(task_obj: Any, doc: dict, output_type: str) -> str:
    target = task_obj.doc_to_target(doc)
    if output_type == "multiple_choice" or (isinstance(target, int)
                                           and task_obj.config.doc_to_choice is not None):
        choices = task_obj.doc_to_choice(doc)
        if isinstance(target, int):
            return str(choices[target])
        if isinstance(target, list):  # several right answers: the first
            target = target[0]
            return str(choices[target]) if isinstance(target, int) else str(target)
        return str(target)
    if isinstance(target, list):
        target = target[0] if target else ""
    return str(target)


def task_texts(task_obj: Any, count_hint: int | None = None) -> list[str]:
    """Calibration texts for pruning/quantizing: each few-shot pool document as the model
    sees a solved one, ``doc_to_text(doc) + target_delimiter + right answer`` (the right
    choice for multiple_choice, the target string for generate_until).

    Why the few-shot pool: calibration must not see the evaluated documents, and the pool
    is what lm_eval itself shows the model. The split comes from :func:`pool_docs`
    (few-shot split, else training, else validation, else — logged as a warning — the
    evaluated documents); it is logged. ``count_hint``: how many texts the caller wants;
    a warning is logged when the pool holds fewer (all are returned either way).
    """
    output_type = getattr(task_obj, "OUTPUT_TYPE", None) or task_obj.config.output_type
    if output_type not in ACCEPTED_OUTPUT_TYPES:
        raise TaskError(f"task {_name(task_obj)}: output_type {output_type} is not supported")
    split, docs = pool_docs(task_obj)
    delimiter = task_obj.config.target_delimiter
    texts = [f"{task_obj.doc_to_text(doc)}{delimiter}{_answer(task_obj, doc, output_type)}"
             for doc in docs]
    level = logging.WARNING if split == "evaluated documents" else logging.INFO
    log.log(level, "task %s: %d calibration texts from its %s", _name(task_obj), len(texts),
            split)
    if count_hint is not None and len(texts) < count_hint:
        log.warning("task %s: %d calibration texts wanted, its %s hold only %d",
                    _name(task_obj), count_hint, split, len(texts))
    return texts
