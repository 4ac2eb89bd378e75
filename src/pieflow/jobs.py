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
from pieflow.influence import el2n
from pieflow.models import build_model, load_tokenizer, load_trainable_state, trainable_state
from pieflow.pies import find_pies
from pieflow.predict import metrics_frame, predict_logits, prediction_frame
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
        counts = dataset.splits[split].group_by("label").len().sort("label")
        log.info("%s/%s: %d examples, per label %s", name, split, dataset.splits[split].height,
                 dict(counts.iter_rows()))
    io.write_json(dataset.classes, outputs["classes"])


def _encoded(spec: dict[str, Any], split_path: str) -> Encoded:
    tokenizer = load_tokenizer(spec)
    frame = pl.read_parquet(split_path)
    return encode(tokenizer, frame, spec["max_length"], special_tokens=spec["family"] == "bert")


def _history_frame(state: TrainState, seed: int) -> pl.DataFrame:
    return pl.DataFrame(state.history).with_columns(pl.lit(seed).alias("seed"))


def train_dense_job(spec: dict[str, Any], seed: int, train_path: str, classes_path: str,
                    outputs: dict[str, str]) -> None:
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    data = _encoded(spec, train_path)
    started = time.perf_counter()
    log.info("training dense seed %d on %d examples (%s, %d epochs)", seed, len(data),
             device, spec["epochs"])
    run = train_dense(spec, data, num_classes, seed, device)
    io.save_tensors(trainable_state(run.model), outputs["model"])
    io.save_tensors(run.early_state, outputs["early"])
    io.save_tensors(optimizer_tensors(run.state.optimizer, run.model), outputs["optimizer"])
    io.write_parquet(_history_frame(run.state, seed), outputs["history"])
    log.info("done in %.1f s", time.perf_counter() - started)


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
    data = _encoded(spec, train_path)
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
                outputs: dict[str, str]) -> None:
    """Predictions and metrics of every seed of one cell on every configured split."""
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    tokenizer = load_tokenizer(spec)
    encoded = {
        split: encode(tokenizer, pl.read_parquet(path), spec["max_length"],
                      special_tokens=spec["family"] == "bert")
        for split, path in split_paths.items()
    }
    batch_size = spec.get("predict_batch_size", 128)
    frames, sparsities = [], []
    for path in checkpoints:
        seed = seed_of(path)
        model = load_model(spec, num_classes, seed, path, device)
        sparsity = achieved_sparsity(prunable_parameters(model, prunable).values())
        sparsities.append({"seed": seed, "sparsity": sparsity})
        for split, data in encoded.items():
            started = time.perf_counter()
            logits = predict_logits(model, data, batch_size, device)
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


def pies_job(dense_path: str, pruned_path: str, classes_path: str, output: str) -> None:
    num_classes = len(io.read_json(classes_path))
    pies = find_pies(pl.read_parquet(dense_path), pl.read_parquet(pruned_path), num_classes)
    io.write_parquet(pies, output)
    per_split = pies.group_by("split").agg(pl.col("is_pie").sum(), pl.len()).sort("split")
    log.info("PIEs per split: %s", per_split.rows())


def influence_job(spec: dict[str, Any], early_checkpoints: list[str],
                  split_paths: dict[str, str], classes_path: str, dense_predictions: str,
                  output: str) -> None:
    """EL2N from the dense early checkpoints (mean over seeds), plus the final dense loss."""
    device = pick_device()
    num_classes = len(io.read_json(classes_path))
    tokenizer = load_tokenizer(spec)
    batch_size = spec.get("predict_batch_size", 128)
    frames = []
    for split, path in split_paths.items():
        data = encode(tokenizer, pl.read_parquet(path), spec["max_length"],
                      special_tokens=spec["family"] == "bert")
        scores = []
        for ckpt in early_checkpoints:
            model = load_model(spec, num_classes, seed_of(ckpt), ckpt, device)
            scores.append(el2n(predict_logits(model, data, batch_size, device), data.labels))
        stacked = torch.stack(scores).numpy()
        frames.append(pl.DataFrame({
            "split": [split] * len(data),
            "example_id": data.example_ids.numpy().astype(np.int64),
            "el2n": stacked.mean(axis=0).astype(np.float64),
            "el2n_std": stacked.std(axis=0).astype(np.float64),
        }))
        log.info("%s: EL2N over %d seeds, mean %.4f", split, len(scores), stacked.mean())
    final_loss = (
        pl.read_parquet(dense_predictions)
        .group_by(["split", "example_id"])
        .agg(pl.col("loss").mean().alias("dense_loss"))
    )
    influence = pl.concat(frames).join(final_loss, on=["split", "example_id"], how="left")
    io.write_parquet(influence.sort(["split", "example_id"]), output)


def summarise_accuracy_job(metrics_paths: list[str], outputs: dict[str, str]) -> None:
    from pieflow.analysis import accuracy_table, with_cell
    from pieflow.plots import plot_accuracy

    metrics = pl.concat([with_cell(pl.read_parquet(p), p) for p in metrics_paths])
    table = accuracy_table(metrics)
    io.write_parquet(table, outputs["table"])
    plot_accuracy(table, outputs["figure"])
    log.info("accuracy table: %d rows", table.height)


def summarise_pies_job(pies_paths: list[str], outputs: dict[str, str]) -> None:
    """PIE summary and EL2N bins of every pruned cell; inputs found next to each pies file."""
    from pieflow.analysis import cell_of, el2n_bins, pie_summary, with_cell
    from pieflow.plots import plot_el2n_bins, plot_pie_share

    summaries, bins = [], []
    for path in pies_paths:
        cell = cell_of(path)
        cell_dir = Path(path).parent
        model_dir = cell_dir.parent.parent
        pies = pl.read_parquet(path)
        dense = pl.read_parquet(model_dir / "dense" / "0" / "predictions.parquet")
        pruned = pl.read_parquet(cell_dir / "predictions.parquet")
        influence = pl.read_parquet(model_dir / "influence.parquet")
        summaries.append(with_cell(pie_summary(pies, dense, pruned, influence), path))
        bins.append(with_cell(el2n_bins(dense, pruned, influence, pies), path))
        log.info("%s: %d PIEs", "/".join(map(str, cell.values())), pies["is_pie"].sum())
    summary = pl.concat(summaries, how="diagonal_relaxed").sort(["dataset", "model", "method",
                                                                  "sparsity", "split"])
    binned = pl.concat(bins)
    io.write_parquet(summary, outputs["summary"])
    io.write_parquet(binned, outputs["el2n_bins"])
    plot_pie_share(summary, outputs["pie_figure"])
    plot_el2n_bins(binned, outputs["el2n_figure"])
