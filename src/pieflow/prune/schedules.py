"""Pruning schedules: at initialisation, iterative (prune, (rewind,) train, repeat), or
post-training (compress the trained dense seed once, optionally fine-tune); quantization,
when asked for, comes after the last training step of any schedule.

Functions take data and return data (models, masks, round records); ``prune.job`` does
the file I/O around them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from pieflow.masks import (
    Masks,
    achieved_sparsity,
    apply_masks,
    full_masks,
    iterative_targets,
    prunable_parameters,
)
from pieflow.models.classifiers import build_model
from pieflow.models.encoding import Encoded
from pieflow.patterns import check_pattern_fits, parse_pattern
from pieflow.prune.calibration import Calibration, linear_modules
from pieflow.prune.methods import NO_PRUNING, MethodSpec
from pieflow.prune.posttraining import (
    calibrate_for,
    prune_trained,
    pruning_reads_activations,
    quantize_weights,
)
from pieflow.prune.scores import ScoreContext, choose_masks
from pieflow.train.loop import TrainState, make_optimizer, train_epochs

log = logging.getLogger(__name__)


@dataclass
class PrunedRun:
    model: nn.Module
    masks: Masks
    state: TrainState
    rounds: list[dict[str, Any]] = field(default_factory=list)


def round_record(round_: int, step: str, epoch: int, target: float, achieved: float,
                 method: MethodSpec, calibration: Calibration | None = None) -> dict[str, Any]:
    """One compression step (``prune`` or ``quantize``) of ``prune_rounds.parquet``.

    ``achieved_sparsity`` is measured (exact zeros) right after the step; quantization
    can round tiny weights to zero, so after it the share may exceed the mask's.
    """
    quant = method.quantize if step == "quantize" else None
    return {
        "round": round_, "step": step, "epoch": epoch, "target_sparsity": target,
        "achieved_sparsity": achieved,
        "pattern": method.pattern if step == "prune" else None,
        "bits": quant.bits if quant else None,
        "group_size": quant.group_size if quant else None,
        "scheme": quant.scheme if quant else None,
        "symmetric": quant.symmetric if quant else None,
        "calibration_seed": calibration.seed if calibration else None,
        "calibration_example_ids": calibration.example_ids if calibration else None,
    }


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
    """Compress seed ``seed`` to ``target_sparsity`` (a share, 0–1) with ``method``.

    At-init methods start from the seed's initial weights. Iterative and post-training
    methods start from ``dense`` — the dense seed after its E epochs, with its optimiser —
    because the first E epochs of seed *i* are identical for the dense and the pruned
    run. Iterative: prune, (rewind,) train E epochs, ``method.prunes`` times.
    Post-training: prune once, then ``recover_epochs`` epochs with the masks kept.
    Any schedule then quantizes if ``method.quantize`` says so.
    """
    method.check_sparsity(target_sparsity)
    if method.schedule == "at_init":
        model = build_model(spec, num_classes, seed).to(device)
        state = TrainState(make_optimizer(model, spec["lr"]))
    else:
        if dense is None:
            raise ValueError(f"{method.schedule} pruning continues from the dense run of the "
                             "same seed")
        model, state = dense
    params = dict(prunable_parameters(model, prunable))
    if method.needs_calibration:
        linear_modules(model, params)  # refuses LSTM weights / LayerNorm gains up front
    check_pattern_fits({n: p.shape for n, p in params.items()}, parse_pattern(method.pattern))
    run = PrunedRun(model=model, masks=full_masks(params), state=state)
    calibration = None
    if method.schedule == "post_training":
        calibration = _prune_once(spec, method, target_sparsity, data, seed, device, params,
                                  run)
    else:
        _train_and_prune(spec, method, target_sparsity, data, num_classes, seed, device,
                         params, run)
    if method.quantize is not None:
        gptq = method.quantize.scheme == "gptq"
        if gptq and (calibration is None or not calibration.has_hessians):
            calibration = calibrate_for(model, params, method, data, seed, device)
        quantize_weights(params, run.masks, method.quantize, calibration)
        reached = achieved_sparsity(params.values())
        run.rounds.append(round_record(len(run.rounds) + 1, "quantize", state.epochs_done,
                                       target_sparsity, reached, method,
                                       calibration if gptq else None))
        log.info("quantized to %d bits (%s); zeros now %.4f", method.quantize.bits,
                 method.quantize.scheme, reached)
    return run


def _prune_once(spec: dict[str, Any], method: MethodSpec, target: float, data: Encoded,
                seed: int, device: torch.device, params: dict[str, torch.Tensor],
                run: PrunedRun) -> Calibration | None:
    """Post-training: prune the trained weights once, then recover with masks kept.
    Returns the calibration if it still describes the model (no recovery epochs)."""
    calibration = None
    if pruning_reads_activations(method):
        calibration = calibrate_for(run.model, params, method, data, seed, device)
    if method.score != NO_PRUNING:
        run.masks = prune_trained(run.model, params, method, target, data, seed, device,
                                  calibration)
        reached = achieved_sparsity(params.values())
        run.rounds.append(round_record(1, "prune", run.state.epochs_done, target, reached,
                                       method, calibration))
        log.info("post-training %s prune: target %.4f, achieved %.4f", method.score,
                 target, reached)
    if method.recover_epochs:
        train_epochs(run.model, data, run.state, seed=seed, epochs=method.recover_epochs,
                     batch_size=spec["batch_size"], device=device, masks=run.masks)
        return None  # the weights moved: a later GPTQ must calibrate again
    return calibration


def _train_and_prune(spec: dict[str, Any], method: MethodSpec, target_sparsity: float,
                     data: Encoded, num_classes: int, seed: int, device: torch.device,
                     params: dict[str, torch.Tensor], run: PrunedRun) -> None:
    """At-init (one prune, then E epochs) or iterative (prune, (rewind,) E epochs, ×k)."""
    model, state = run.model, run.state
    epochs, batch_size = spec["epochs"], spec["batch_size"]
    targets = ([target_sparsity] if method.schedule == "at_init"
               else iterative_targets(target_sparsity, method.prunes))
    initial = None
    if method.after_prune == "rewind":
        initial = rewind_point(spec, data, num_classes, seed, device, method.rewind_epoch)
    masks = run.masks
    score, options = method.score_entry, method.as_params()
    for round_, target in enumerate(targets, start=1):
        scores = score.function(ScoreContext(model, params, data, options, seed, round_,
                                             device))
        masks = choose_masks(score, scores, masks, target, method.scope, method.pattern)
        if initial is not None:
            _rewind(model, initial)
            state.optimizer = make_optimizer(model, spec["lr"])
        apply_masks(params, masks)
        reached = achieved_sparsity(params.values())
        run.rounds.append(round_record(round_, "prune", state.epochs_done, target, reached,
                                       method))
        log.info("prune %d/%d at epoch %d: target %.4f, achieved %.4f",
                 round_, len(targets), state.epochs_done, target, reached)
        train_epochs(model, data, state, seed=seed, epochs=epochs, batch_size=batch_size,
                     device=device, masks=masks)
    run.masks = masks
