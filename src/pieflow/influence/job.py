"""The influence stage's I/O edge: every registered difficulty score of one trained dense
population (:mod:`pieflow.influence.scores`: EL2N, GraNd, forgetting events, never
learned, final loss, agreement, modal confidence, choice margin)."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import polars as pl
import torch

from pieflow import io
from pieflow.influence.final import final_scores
from pieflow.influence.scores import (
    EARLY_CHECKPOINT,
    TRAINED,
    TRAINING_RECORD,
    EarlyCheckpoint,
    scores_from,
)
from pieflow.labels import label_kind
from pieflow.models.classifiers import load_tokenizer
from pieflow.models.loading import encode_frame, restore_model
from pieflow.predict.inference import predict_logits
from pieflow.runtime import pick_device

log = logging.getLogger(__name__)


def forgetting_table(learning_paths: list[str]) -> pl.DataFrame:
    """The training-record scores per training example (forgetting events, never
    learned; means over seeds) and ``never_learned``: wrong at every epoch in every seed."""
    entries = scores_from(TRAINING_RECORD, (TRAINED,))
    per_seed = []
    for path in learning_paths:
        wide = (pl.read_parquet(path).pivot(on="epoch", index="example_id", values="correct",
                                            sort_columns=True).sort("example_id"))
        epochs = [c for c in wide.columns if c != "example_id"]
        learned = wide.select(epochs).to_numpy().T.astype(bool)
        per_seed.append(pl.DataFrame({"example_id": wide["example_id"], **{
            score.name: np.asarray(c.function(learned), dtype=np.float64)
            for score, c in entries}}))
    names = [score.name for score, _ in entries]
    table = pl.concat(per_seed).group_by("example_id").agg(pl.col(names).mean())
    if "never_learned_share" in names:
        table = table.with_columns((pl.col("never_learned_share") == 1.0).alias("never_learned"))
    return table.with_columns(pl.lit("train").alias("split"))


def influence_job(spec: dict[str, Any], seeds: list[int], early_checkpoints: list[str],
                  split_paths: dict[str, str], classes_path: str, meta_path: str,
                  dense_predictions: str, learning: list[str], output: str,
                  grand: bool) -> None:
    """Per example, every score registered for trained models: those of the early
    checkpoint (EL2N, GraNd; means over seeds, ``seeds`` aligned with
    ``early_checkpoints``), those of the final dense predictions (loss, agreement,
    modal confidence, choice margin) and those of the training records (forgetting,
    never learned; train split). A score switched off (``grand``) is NaN."""
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    kind = label_kind(io.read_json(meta_path))
    tokenizer = load_tokenizer(spec)
    batch_size = spec["predict_batch_size"]
    switches = {"grand": grand}
    early = scores_from(EARLY_CHECKPOINT, (TRAINED,))
    frames = []
    for split, path in split_paths.items():
        data = encode_frame(spec, tokenizer, pl.read_parquet(path), kind, num_classes)
        values: dict[str, list[torch.Tensor]] = {score.name: [] for score, _ in early}
        for seed, ckpt in zip(seeds, early_checkpoints, strict=True):
            model = restore_model(spec, num_classes, seed, io.load_tensors(ckpt), device)
            checkpoint = EarlyCheckpoint(model, data, predict_logits(model, data, batch_size,
                                                                     device), device)
            for score, computation in early:
                if score.switch is not None and not switches.get(score.switch, True):
                    continue
                started = time.perf_counter()
                values[score.name].append(torch.as_tensor(computation.function(checkpoint))
                                          .detach().cpu())
                log.info("%s seed %d: %s of %d examples in %.1f s", split, seed, score.name,
                         len(data), time.perf_counter() - started)
        columns: dict[str, Any] = {"split": [split] * len(data),
                                   "example_id": data.example_ids.numpy().astype(np.int64)}
        for score, _ in early:
            stacked = (torch.stack(values[score.name]).numpy() if values[score.name]
                       else np.full((1, len(data)), np.nan))
            columns[score.name] = stacked.mean(axis=0).astype(np.float64)
            if score.spread:
                columns[f"{score.name}_std"] = stacked.std(axis=0).astype(np.float64)
        frames.append(pl.DataFrame(columns))
        log.info("%s: %s over %d seeds", split, ", ".join(s.name for s, _ in early), len(seeds))
    final = final_scores(pl.read_parquet(dense_predictions), kind, (TRAINED,))
    influence = pl.concat(frames).join(final, on=["split", "example_id"], how="left")
    if learning:
        influence = influence.join(forgetting_table(learning), on=["split", "example_id"],
                                   how="left")
    io.write_parquet(influence.sort(["split", "example_id"]), output)
