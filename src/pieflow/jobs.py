"""One function per workflow rule: read inputs, call the pure core, write outputs.

The ``workflow/scripts/*.py`` files only unpack the ``snakemake`` object and call these,
so every stage can also be run from a notebook or a test without Snakemake.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch

from pieflow import io
from pieflow.batching import Encoded, encode
from pieflow.data import SPLITS, load_dataset_from_config
from pieflow.grand import grand_scores
from pieflow.influence import el2n, forgetting_events
from pieflow.models import build_model, load_tokenizer, load_trainable_state, trainable_state
from pieflow.pies import find_pies
from pieflow.predict import (
    metrics_frame,
    multi_label_prediction_frame,
    predict_logits,
    prediction_frame,
    tune_threshold,
)
from pieflow.pruning.masks import achieved_sparsity, prunable_parameters
from pieflow.pruning.methods import MethodSpec
from pieflow.runs import run_pruning, train_dense
from pieflow.training import (
    TrainState,
    load_optimizer_tensors,
    make_optimizer,
    optimizer_tensors,
    pick_device,
)

log = logging.getLogger(__name__)


def set_threads(threads: int) -> None:
    torch.set_num_threads(max(1, int(threads)))


def seed_of(path: str | Path) -> int:
    """The seed in a checkpoint path ``…/seeds/{seed}/…``."""
    match = re.search(r"/seeds/(\d+)/", str(path))
    if not match:
        raise ValueError(f"no seed in checkpoint path {path}")
    return int(match.group(1))


def prepare_dataset(name: str, spec: dict[str, Any], outputs: dict[str, str]) -> None:
    dataset = load_dataset_from_config(name, spec)
    for split in SPLITS:
        io.write_parquet(dataset.splits[split], outputs[split])
        frame = dataset.splits[split]
        labels = frame.get_column("labels").explode() if "labels" in frame.columns else (
            frame.get_column("label"))
        counts = labels.drop_nulls().value_counts().sort(labels.name)
        log.info("%s/%s: %d examples, per label %s", name, split, frame.height,
                 dict(counts.iter_rows()))
    io.write_json(dataset.classes, outputs["classes"])


def _encode_file(spec: dict[str, Any], tokenizer, path: str, num_classes: int) -> Encoded:
    return encode(tokenizer, pl.read_parquet(path), spec["max_length"],
                  special_tokens=spec["family"] == "bert", num_classes=num_classes)


def _encoded(spec: dict[str, Any], split_path: str, num_classes: int) -> Encoded:
    return _encode_file(spec, load_tokenizer(spec), split_path, num_classes)


def _history_frame(state: TrainState, seed: int) -> pl.DataFrame:
    return pl.DataFrame(state.history).with_columns(pl.lit(seed).alias("seed"))


def train_dense_job(spec: dict[str, Any], seed: int, train_path: str, classes_path: str,
                    outputs: dict[str, str]) -> None:
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    data = _encoded(spec, train_path, num_classes)
    started = time.perf_counter()
    log.info("training dense seed %d on %d examples (%s, %d epochs)", seed, len(data),
             device, spec["epochs"])
    run = train_dense(spec, data, num_classes, seed, device)
    io.save_tensors(trainable_state(run.model), outputs["model"])
    io.save_tensors(run.early_state, outputs["early"])
    io.save_tensors(optimizer_tensors(run.state.optimizer, run.model), outputs["optimizer"])
    io.write_parquet(_history_frame(run.state, seed), outputs["history"])
    io.write_parquet(_learning_frame(run.state.learned, data), outputs["learning"])
    log.info("done in %.1f s", time.perf_counter() - started)


def _learning_frame(learned: list[torch.Tensor], data: Encoded) -> pl.DataFrame:
    """Minibatch correctness per (epoch, training example): the record behind forgetting."""
    ids = data.example_ids.numpy().astype(np.int64)
    return pl.DataFrame({
        "epoch": np.repeat(np.arange(1, len(learned) + 1), len(ids)),
        "example_id": np.tile(ids, len(learned)),
        "correct": torch.cat(learned).numpy() if learned else np.zeros(0, dtype=bool),
    })


def load_model(spec: dict[str, Any], num_classes: int, seed: int, path: str,
               device: torch.device) -> torch.nn.Module:
    model = build_model(spec, num_classes, seed)
    load_trainable_state(model, io.load_tensors(path))
    return model.to(device)


def prune_job(spec: dict[str, Any], method: dict[str, Any], sparsity_percent: int,
              prunable: str, seed: int, train_path: str, classes_path: str,
              dense: dict[str, str] | None, outputs: dict[str, str]) -> None:
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    data = _encoded(spec, train_path, num_classes)
    method_spec = MethodSpec(**method)
    resumed = None
    if method_spec.schedule == "iterative":
        if not dense:
            raise ValueError("iterative pruning needs the dense checkpoint of the same seed")
        model = load_model(spec, num_classes, seed, dense["model"], device)
        state = TrainState(make_optimizer(model, spec["lr"]), epochs_done=spec["epochs"])
        load_optimizer_tensors(state.optimizer, model, io.load_tensors(dense["optimizer"]))
        state.history = pl.read_parquet(dense["history"]).drop("seed").to_dicts()
        state.steps_done = state.history[-1]["steps"] if state.history else 0
        resumed = (model, state)
    started = time.perf_counter()
    run = run_pruning(spec, method_spec, sparsity_percent / 100, data, num_classes, seed,
                      device, dense=resumed, prunable=prunable)
    io.save_tensors(trainable_state(run.model), outputs["model"])
    io.save_tensors({n: m.to(torch.uint8) for n, m in run.masks.items()}, outputs["mask"])
    io.write_parquet(_history_frame(run.state, seed), outputs["history"])
    io.write_parquet(pl.DataFrame(run.rounds).with_columns(pl.lit(seed).alias("seed")),
                     outputs["rounds"])
    log.info("done in %.1f s; final sparsity %.4f", time.perf_counter() - started,
             run.rounds[-1]["achieved_sparsity"])


def predict_job(spec: dict[str, Any], prunable: str, checkpoints: list[str],
                split_paths: dict[str, str], classes_path: str,
                outputs: dict[str, str], validation_path: str | None = None) -> None:
    """Predictions and metrics of every seed of one cell on every configured split.

    Multi-label: each model's decision threshold is tuned on the validation split first.
    """
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    tokenizer = load_tokenizer(spec)
    encoded = {split: _encode_file(spec, tokenizer, path, num_classes)
               for split, path in split_paths.items()}
    multi_label = next(iter(encoded.values())).labels.dim() == 2
    tuning = None
    if multi_label:
        if validation_path is None:
            raise ValueError("multi-label prediction needs the validation split")
        tuning = _encode_file(spec, tokenizer, validation_path, num_classes)
    batch_size = spec.get("predict_batch_size", 128)
    frames, sparsities = [], []
    for path in checkpoints:
        seed = seed_of(path)
        model = load_model(spec, num_classes, seed, path, device)
        sparsity = achieved_sparsity(prunable_parameters(model, prunable).values())
        record = {"seed": seed, "sparsity": sparsity}
        if tuning is not None:
            record["threshold"] = tune_threshold(
                predict_logits(model, tuning, batch_size, device), tuning.labels)
        sparsities.append(record)
        for split, data in encoded.items():
            started = time.perf_counter()
            logits = predict_logits(model, data, batch_size, device)
            if tuning is not None:
                frames.append(multi_label_prediction_frame(seed, split, data, logits,
                                                           record["threshold"]))
            else:
                frames.append(prediction_frame(seed, split, data, logits))
            log.info("seed %d %s: %d examples in %.1f s", seed, split, len(data),
                     time.perf_counter() - started)
    predictions = pl.concat(frames)
    metrics = metrics_frame(predictions, num_classes).join(
        pl.DataFrame(sparsities), on="seed", how="left")
    io.write_parquet(predictions, outputs["predictions"])
    io.write_parquet(metrics, outputs["metrics"])
    summary = metrics.group_by("split").agg(pl.col("accuracy").mean()).sort("split")
    log.info("mean accuracy per split: %s", dict(summary.iter_rows()))


def _forgetting(learning_paths: list[str]) -> pl.DataFrame:
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


def pies_job(dense_path: str, pruned_path: str, classes_path: str, output: str) -> None:
    num_classes = len(io.read_json(classes_path))
    pies = find_pies(pl.read_parquet(dense_path), pl.read_parquet(pruned_path), num_classes)
    io.write_parquet(pies, output)
    per_split = pies.group_by("split").agg(pl.col("is_pie").sum(), pl.len()).sort("split")
    log.info("PIEs per split: %s", per_split.rows())


def influence_job(spec: dict[str, Any], early_checkpoints: list[str],
                  split_paths: dict[str, str], classes_path: str, dense_predictions: str,
                  output: str, learning: list[str] = (), grand: bool = True) -> None:
    """Per example: EL2N and GraNd from the dense early checkpoints (means over seeds),
    forgetting events over the dense runs' epochs (train split), and the final dense loss."""
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    tokenizer = load_tokenizer(spec)
    batch_size = spec.get("predict_batch_size", 128)
    frames = []
    for split, path in split_paths.items():
        data = _encode_file(spec, tokenizer, path, num_classes)
        scores, norms = [], []
        for ckpt in early_checkpoints:
            model = load_model(spec, num_classes, seed_of(ckpt), ckpt, device)
            scores.append(el2n(predict_logits(model, data, batch_size, device), data.labels))
            if grand:
                started = time.perf_counter()
                norms.append(grand_scores(model, data, device))
                log.info("%s seed %d: GraNd of %d examples in %.1f s", split, seed_of(ckpt),
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
        pl.read_parquet(dense_predictions)
        .group_by(["split", "example_id"])
        .agg(pl.col("loss").mean().alias("dense_loss"))
    )
    influence = pl.concat(frames).join(final_loss, on=["split", "example_id"], how="left")
    if learning:
        influence = influence.join(_forgetting(learning), on=["split", "example_id"],
                                   how="left")
    io.write_parquet(influence.sort(["split", "example_id"]), output)



def prepare_vectors_job(vectors_path: str, split_paths: list[str], outputs: dict[str, str]) -> None:
    """Keep the vectors of the dataset's words from a GloVe-format file (streamed once)."""
    from pieflow.vectors import dataset_words, read_glove, vocabulary_and_matrix

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
