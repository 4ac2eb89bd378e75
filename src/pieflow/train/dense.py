"""A dense seed's run: fine-tune E epochs, keeping the EL2N checkpoint on the way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
import torch
from torch import nn

from pieflow.models.classifiers import build_model
from pieflow.models.encoding import Encoded
from pieflow.models.loading import restore_model
from pieflow.train.loop import TrainState, load_optimizer_tensors, make_optimizer, train_epochs


@dataclass
class DenseRun:
    model: nn.Module
    state: TrainState
    early_state: dict[str, torch.Tensor]


def early_step(el2n_epoch: float, num_examples: int, batch_size: int) -> int:
    """The optimiser step after which the EL2N checkpoint is taken (at least 1)."""
    steps_per_epoch = -(-num_examples // batch_size)
    return max(1, round(el2n_epoch * steps_per_epoch))


def train_dense(
    spec: dict[str, Any], data: Encoded, num_classes: int, seed: int, device: torch.device,
    evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
) -> DenseRun:
    """Fine-tune seed ``seed`` for E epochs, snapshotting the EL2N checkpoint on the way.

    ``evaluate(model)``, if given, runs after every epoch and its values join the epoch's
    history row (the training curve: validation accuracy per epoch).
    """
    model = build_model(spec, num_classes, seed).to(device)
    state = TrainState(make_optimizer(model, spec["lr"]), track_learning=True)
    snapshot_at = early_step(spec.get("el2n_epoch", 1.0), len(data), spec["batch_size"])
    early: dict[str, torch.Tensor] = {}

    def keep_early(step: int) -> None:
        if step == snapshot_at:
            early.update({n: p.detach().cpu().clone() for n, p in model.named_parameters()
                          if p.requires_grad})

    train_epochs(model, data, state, seed=seed, epochs=spec["epochs"],
                 batch_size=spec["batch_size"], device=device, on_step=keep_early,
                 on_epoch=(lambda: evaluate(model)) if evaluate else None)
    if not early:  # el2n_epoch beyond the run: the final model is the latest we have
        keep_early(snapshot_at := state.steps_done)
    return DenseRun(model=model, state=state, early_state=early)


def resume_dense(spec: dict[str, Any], num_classes: int, seed: int,
                 weights: dict[str, torch.Tensor], optimizer: dict[str, torch.Tensor],
                 history: pl.DataFrame, device: torch.device) -> tuple[nn.Module, TrainState]:
    """A dense seed after its E epochs, with its optimiser state and history: where
    iterative pruning and the control continue (identical to training straight on)."""
    model = restore_model(spec, num_classes, seed, weights, device)
    state = TrainState(make_optimizer(model, spec["lr"]), epochs_done=spec["epochs"])
    load_optimizer_tensors(state.optimizer, model, optimizer)
    state.history = history.drop("seed").to_dicts()
    state.steps_done = state.history[-1]["steps"] if state.history else 0
    return model, state


def history_frame(state: TrainState, seed: int) -> pl.DataFrame:
    """Per epoch of one seed (``history.parquet``): the training loss, and the validation
    accuracy and loss where the run measured them (dense and control runs)."""
    return pl.DataFrame(state.history).with_columns(pl.lit(seed).alias("seed"))
