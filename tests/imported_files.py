"""Small hand-made files of imported predictions, in every format pieflow reads.

A population is ``preds`` (seeds × examples) with ``labels`` (examples) and scores
(seeds × examples × choices): the log-likelihoods of an lm-eval task, or the logits of a
table; the writers turn one into the files a user would bring.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

WORDS = ["the", "cat", "sat", "on", "a", "mat", "while", "rain", "fell", "quietly",
         "notwithstanding", "ephemeral", "dog", "ran", "home"]


def population(labels: np.ndarray, seeds: int, accuracy: float, choices: int,
               rng: np.random.Generator) -> np.ndarray:
    """(seeds × examples) predictions, each model right with ``accuracy``."""
    right = rng.random((seeds, labels.size)) < accuracy
    wrong = (labels + rng.integers(1, choices, size=(seeds, labels.size))) % choices
    return np.where(right, labels, wrong)


def compressed(dense: np.ndarray, labels: np.ndarray, hard: np.ndarray, share: float,
               choices: int, rng: np.random.Generator) -> np.ndarray:
    """The twins of ``dense``: on ``hard`` examples a share of the models answer the next
    class instead (compression forgets them), elsewhere they answer as their dense twin."""
    flip = hard[None, :] & (rng.random(dense.shape) < share)
    return np.where(flip, (labels + 1) % choices, dense)


def scores_for(preds: np.ndarray, choices: int, rng: np.random.Generator) -> np.ndarray:
    """(seeds × examples × choices) log-likelihoods or logits, highest at the prediction."""
    scores = -rng.random((*preds.shape, choices)) * 3 - 1.0
    np.put_along_axis(scores, preds[:, :, None], 0.0, axis=2)
    return scores


def texts(n: int, rng: np.random.Generator) -> list[str]:
    return [" ".join(rng.choice(WORDS, size=rng.integers(3, 14))) + "." for _ in range(n)]


def lm_eval_line(doc_id: int, lls: list[float], target: int | str, *, text: str = "",
                 choices: list[str] | None = None, old: bool = False,
                 acc: float | None = None) -> dict:
    """One ``--log_samples`` line of a multiple-choice task, as lm-eval writes it: the
    responses and target as text, the arguments as gen_args (``old``: as older versions,
    numbers and lists)."""
    choices = choices or [f"ending {i} of {doc_id}" for i in range(len(lls))]
    context = f"{text} Question {doc_id}:"
    pairs = [[context, f" {choice}"] for choice in choices]
    if old:
        arguments, responses = pairs, [[ll, False] for ll in lls]
    else:
        arguments = {f"gen_args_{i}": {"arg_0": c, "arg_1": t} for i, (c, t) in
                     enumerate(pairs)}
        responses = [[str(ll), "False"] for ll in lls]
    line = {"doc_id": doc_id, "doc": {"query": text, "endings": choices, "label": str(target)},
            "target": target if old else str(target), "arguments": arguments,
            "resps": [[r] for r in responses], "filtered_resps": responses,
            "filter": "none", "metrics": ["acc", "acc_norm"],
            "doc_hash": "d", "prompt_hash": "p", "target_hash": "t"}
    if acc is not None:
        line["acc"] = acc
    return line


def write_lm_eval(folder: Path, name: str, labels: np.ndarray, preds: np.ndarray,
                  scores: np.ndarray, example_texts: list[str]) -> list[str]:
    """One samples file per seed: ``folder/name/seed{i}/samples_task_….jsonl``."""
    paths = []
    for seed in range(preds.shape[0]):
        path = folder / name / f"seed{seed}" / "samples_minihs_2026-01-01T00-00-00.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [lm_eval_line(i, scores[seed, i].tolist(), int(labels[i]),
                              text=example_texts[i], acc=float(preds[seed, i] == labels[i]))
                 for i in range(labels.size)]
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        paths.append(str(path))
    return paths


def table_frame(labels: np.ndarray, preds: np.ndarray, scores: np.ndarray | None = None,
                example_texts: list[str] | None = None, ids: np.ndarray | None = None,
                classes: list[str] | None = None) -> pl.DataFrame:
    """The generic table: ``seed``, ``example_id``, ``label``, ``pred`` (``classes``:
    as names), optional ``logits`` and ``text``."""
    seeds, n = preds.shape
    ids = np.arange(n) if ids is None else ids
    columns: dict = {"seed": np.repeat(np.arange(seeds), n), "example_id": np.tile(ids, seeds),
                     "label": np.tile(labels, seeds), "pred": preds.ravel()}
    if classes is not None:
        columns["label"] = [classes[i] for i in columns["label"]]
        columns["pred"] = [classes[i] for i in columns["pred"]]
    if scores is not None:
        columns["logits"] = scores.reshape(seeds * n, -1).tolist()
    if example_texts is not None:
        columns["text"] = example_texts * seeds
    return pl.DataFrame(columns)


def write_csv(frame: pl.DataFrame, path: Path) -> str:
    """A CSV as a spreadsheet writes it: logits as JSON lists in quoted cells."""
    if "logits" in frame.columns:
        frame = frame.with_columns(("[" + pl.col("logits").cast(pl.List(pl.String))
                                   .list.join(", ") + "]").alias("logits"))
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return str(path)


def write_parquet(frame: pl.DataFrame, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(path)
    return str(path)
