"""The influence stage's I/O edge: difficulty scores of every example of one dense
population (EL2N, GraNd, forgetting events, final loss)."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import polars as pl
import torch

from pieflow import io
from pieflow.influence.el2n import el2n, forgetting_events
from pieflow.influence.grand import grand_scores
from pieflow.labels import label_kind
from pieflow.models.classifiers import load_tokenizer
from pieflow.models.loading import encode_frame, restore_model
from pieflow.predict.inference import predict_logits
from pieflow.runtime import pick_device

log = logging.getLogger(__name__)


def forgetting_table(learning_paths: list[str]) -> pl.DataFrame:
    """Forgetting events per training example: mean over seeds, never-learned flags."""
    per_seed = []
    for path in learning_paths:
        wide = (pl.read_parquet(path).pivot(on="epoch", index="example_id", values="correct",
                                            sort_columns=True).sort("example_id"))
        epochs = [c for c in wide.columns if c != "example_id"]
        events, never = forgetting_events(wide.select(epochs).to_numpy().T)
        per_seed.append(pl.DataFrame({"example_id": wide["example_id"], "events": events,
                                      "never": never}))
    return (pl.concat(per_seed).group_by("example_id").agg(
        pl.col("events").mean().alias("forgetting_events"),
        pl.col("never").mean().alias("never_learned_share"),
        pl.col("never").all().alias("never_learned"),
    ).with_columns(pl.lit("train").alias("split")))


def influence_job(spec: dict[str, Any], seeds: list[int], early_checkpoints: list[str],
                  split_paths: dict[str, str], classes_path: str, meta_path: str,
                  dense_predictions: str, learning: list[str], output: str,
                  grand: bool) -> None:
    """Per example: EL2N and GraNd from the dense early checkpoints (means over seeds;
    ``seeds`` aligned with ``early_checkpoints``), forgetting events over the dense runs'
    epochs (train split), and the final dense loss."""
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    kind = label_kind(io.read_json(meta_path))
    tokenizer = load_tokenizer(spec)
    batch_size = spec["predict_batch_size"]
    frames = []
    for split, path in split_paths.items():
        data = encode_frame(spec, tokenizer, pl.read_parquet(path), kind, num_classes)
        scores, norms = [], []
        for seed, ckpt in zip(seeds, early_checkpoints, strict=True):
            model = restore_model(spec, num_classes, seed, io.load_tensors(ckpt), device)
            logits = predict_logits(model, data, batch_size, device)
            scores.append(el2n(logits, data.labels, kind))
            if grand:
                started = time.perf_counter()
                norms.append(grand_scores(model, data, device))
                log.info("%s seed %d: GraNd of %d examples in %.1f s", split, seed,
                         len(data), time.perf_counter() - started)
        stacked = torch.stack(scores).numpy()
        columns = {
            "split": [split] * len(data),
            "example_id": data.example_ids.numpy().astype(np.int64),
            "el2n": stacked.mean(axis=0).astype(np.float64),
            "el2n_std": stacked.std(axis=0).astype(np.float64),
            "grand": (torch.stack(norms).mean(dim=0).numpy().astype(np.float64) if norms
                      else np.full(len(data), np.nan)),
        }
        frames.append(pl.DataFrame(columns))
        log.info("%s: EL2N over %d seeds, mean %.4f", split, len(scores), stacked.mean())
    final_loss = (
        pl.read_parquet(dense_predictions, columns=["split", "example_id", "loss"])
        .group_by(["split", "example_id"])
        .agg(pl.col("loss").mean().alias("dense_loss"))
    )
    influence = pl.concat(frames).join(final_loss, on=["split", "example_id"], how="left")
    if learning:
        influence = influence.join(forgetting_table(learning), on=["split", "example_id"],
                                   how="left")
    io.write_parquet(influence.sort(["split", "example_id"]), output)
