"""Pruning schedules: at initialisation, or iterative (prune, (rewind,) train, repeat).

Functions take data and return data (models, masks, round records); ``prune.job`` does
the file I/O around them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from pieflow.models.classifiers import build_model
from pieflow.models.encoding import Encoded
from pieflow.prune.masks import (
    Masks,
    achieved_sparsity,
    apply_masks,
    full_masks,
    iterative_targets,
    next_masks,
    prunable_parameters,
)
from pieflow.prune.methods import MethodSpec
from pieflow.prune.scores import SCORES, ScoreContext
from pieflow.train.loop import TrainState, make_optimizer, train_epochs

log = logging.getLogger(__name__)


@dataclass
class PrunedRun:
    model: nn.Module
    masks: Masks
    state: TrainState
    rounds: list[dict[str, Any]] = field(default_factory=list)


def rewind_point(spec: dict[str, Any], data: Encoded, num_classes: int, seed: int,
                 device: torch.device, epoch: int = 0) -> dict[str, torch.Tensor]:
    """The weights a rewind goes back to: seed ``seed`` at initialisation, or after
    ``epoch`` dense epochs — retrained here, identical to the dense run's by construction
    (same initialisation, data order and dropout), so no per-epoch checkpoints are kept."""
    model = build_model(spec, num_classes, seed).to(device)
    if epoch:
        state = TrainState(make_optimizer(model, spec["lr"]))
        train_epochs(model, data, state, seed=seed, epochs=epoch,
                     batch_size=spec["batch_size"], device=device)
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def _rewind(model: nn.Module, initial: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.copy_(initial[name])


def run_pruning(
    spec: dict[str, Any],
    method: MethodSpec,
    target_sparsity: float,
    data: Encoded,
    num_classes: int,
    seed: int,
    device: torch.device,
    dense: tuple[nn.Module, TrainState] | None = None,
    prunable: str = "default",
) -> PrunedRun:
    """Prune seed ``seed`` to ``target_sparsity`` (a share, 0–1) with ``method``.

    At-init methods start from the seed's initial weights. Iterative methods start from
    ``dense`` — the dense seed after its E epochs, with its optimiser — because the first
    E epochs of seed *i* are identical for the dense and the pruned run; then prune,
    (rewind,) train E epochs, ``method.prunes`` times.
    """
    epochs, batch_size = spec["epochs"], spec["batch_size"]
    if method.schedule == "at_init":
        model = build_model(spec, num_classes, seed).to(device)
        state = TrainState(make_optimizer(model, spec["lr"]))
        targets = [target_sparsity]
    else:
        if dense is None:
            raise ValueError("iterative pruning continues from the dense run of the same seed")
        model, state = dense
        targets = iterative_targets(target_sparsity, method.prunes)
    params = {n: p for n, p in prunable_parameters(model, prunable).items()}
    initial = None
    if method.after_prune == "rewind":
        initial = rewind_point(spec, data, num_classes, seed, device, method.rewind_epoch)
    masks = full_masks(params)
    run = PrunedRun(model=model, masks=masks, state=state)
    for round_, target in enumerate(targets, start=1):
        scores = SCORES[method.score](ScoreContext(model, params, data, method, seed, round_,
                                                   device))
        masks = next_masks(scores, masks, target, method.scope)
        if initial is not None:
            _rewind(model, initial)
            state.optimizer = make_optimizer(model, spec["lr"])
        apply_masks(params, masks)
        reached = achieved_sparsity(params.values())
        run.rounds.append({"round": round_, "epoch": state.epochs_done,
                           "target_sparsity": target, "achieved_sparsity": reached})
        log.info("prune %d/%d at epoch %d: target %.4f, achieved %.4f",
                 round_, len(targets), state.epochs_done, target, reached)
        train_epochs(model, data, state, seed=seed, epochs=epochs, batch_size=batch_size,
                     device=device, masks=masks)
    run.masks = masks
    return run
