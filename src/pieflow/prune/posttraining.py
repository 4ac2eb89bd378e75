"""Compression of a trained model in one step: prune once, and/or quantize.

Functions take the model's prunable weights and change them in place (masks exact,
pruned weights exactly zero); ``prune.schedules`` decides when they run and records
the rounds, ``prune.job`` does the file I/O.
"""

from __future__ import annotations

import torch
from torch import nn

from pieflow.masks import Masks, apply_masks, full_masks
from pieflow.models.encoding import Encoded
from pieflow.patterns import parse_pattern
from pieflow.prune.calibration import Calibration, calibrate
from pieflow.prune.methods import MethodSpec
from pieflow.prune.quantize import QuantizeSpec, gptq_quantize, rtn_quantize
from pieflow.prune.scores import ScoreContext, choose_masks


def pruning_reads_activations(method: MethodSpec) -> bool:
    """A calibrated score (Wanda, SparseGPT) chooses the mask from activations."""
    entry = method.score_entry
    return entry is not None and entry.calibrated


def needs_hessians(method: MethodSpec) -> bool:
    """SparseGPT and GPTQ need H = XᵀX; Wanda only the input norms."""
    gptq = method.quantize is not None and method.quantize.scheme == "gptq"
    entry = method.score_entry
    return gptq or (entry is not None and entry.hessians)


def calibrate_for(model: nn.Module, params: dict[str, torch.Tensor], method: MethodSpec,
                  data: Encoded, seed: int, device: torch.device,
                  batch_size: int = 32) -> Calibration:
    """The method's calibration pass over the model as it is now."""
    return calibrate(model, params, data, method.calibration_examples, seed, device,
                     hessians=needs_hessians(method), batch_size=batch_size)


def _hessian(calibration: Calibration | None, name: str) -> torch.Tensor:
    layer = calibration.inputs.get(name) if calibration is not None else None
    if layer is None or layer.hessian is None:
        raise ValueError(f"no calibration Hessian for {name}; calibrate with hessians=True")
    return layer.hessian


@torch.no_grad()
def prune_trained(model: nn.Module, params: dict[str, torch.Tensor], method: MethodSpec,
                  target: float, data: Encoded, seed: int, device: torch.device,
                  calibration: Calibration | None = None) -> Masks:
    """Prune the trained weights once to ``target`` (a share) with ``method``'s score and
    pattern; returns the masks, already applied in place.

    Unstructured counts are exact: round(target·numel) per tensor (``layer`` scope), or
    round(target·in) per output row for a per-row score (Wanda). A solver (SparseGPT)
    also rewrites the kept weights.
    """
    masks = full_masks(params)
    nm = parse_pattern(method.pattern)
    score = method.score_entry
    if score is None or (target == 0 and nm is None):
        return masks
    if score.solver:
        for name, param in params.items():
            new, keep = score.function(param, _hessian(calibration, name), target, nm)
            param.copy_(new)
            masks[name] = keep
    else:
        context = ScoreContext(model, params, data, method.as_params(), seed, 1, device,
                               calibration)
        masks = choose_masks(score, score.function(context), masks, target, method.scope,
                             method.pattern)
    apply_masks(params, masks)
    return masks


@torch.no_grad()
def quantize_weights(params: dict[str, torch.Tensor], masks: Masks, spec: QuantizeSpec,
                     calibration: Calibration | None = None) -> None:
    """Replace each prunable weight by its dequantized value (RTN, or GPTQ with the
    calibration Hessians); pruned weights stay exactly zero."""
    for name, param in params.items():
        if spec.scheme == "gptq":
            new = gptq_quantize(param, _hessian(calibration, name), spec, masks[name])
        else:
            new = rtn_quantize(param, spec, masks[name])
        param.copy_(new)
    apply_masks(params, masks)
