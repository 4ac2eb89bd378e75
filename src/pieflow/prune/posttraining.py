"""Compression of a trained model in one step: prune once, and/or quantize.

Functions take the model's prunable weights and change them in place (masks exact,
pruned weights exactly zero); ``prune.schedules`` decides when they run and records
the rounds, ``prune.job`` does the file I/O.
"""

from __future__ import annotations

import torch
from torch import nn

from pieflow.models.encoding import Encoded
from pieflow.prune.calibration import Calibration, calibrate
from pieflow.prune.masks import Masks, apply_masks, full_masks, next_masks
from pieflow.prune.methods import NO_PRUNING, MethodSpec
from pieflow.prune.obs import SOLVERS
from pieflow.prune.patterns import drop_lowest_per_group, parse_pattern
from pieflow.prune.quantize import QuantizeSpec, gptq_quantize, rtn_quantize
from pieflow.prune.scores import CALIBRATED_SCORES, SCORES, ScoreContext

# Scores compared within each output row, every row losing the same share (Sun et al.
# found this beats a per-tensor threshold for Wanda); the others compare per tensor.
PER_ROW_SCORES = frozenset({"wanda"})


def pruning_reads_activations(method: MethodSpec) -> bool:
    """Wanda and SparseGPT choose the mask from calibration activations."""
    return method.score in CALIBRATED_SCORES or method.score in SOLVERS


def needs_hessians(method: MethodSpec) -> bool:
    """SparseGPT and GPTQ need H = XᵀX; Wanda only the input norms."""
    gptq = method.quantize is not None and method.quantize.scheme == "gptq"
    return gptq or method.score in SOLVERS


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
    round(target·in) per output row for Wanda. SparseGPT also rewrites the kept weights.
    """
    masks = full_masks(params)
    nm = parse_pattern(method.pattern)
    if method.score == NO_PRUNING or (target == 0 and nm is None):
        return masks
    if method.score in SOLVERS:
        solve = SOLVERS[method.score]
        for name, param in params.items():
            new, keep = solve(param, _hessian(calibration, name), target, nm)
            param.copy_(new)
            masks[name] = keep
    else:
        context = ScoreContext(model, params, data, method, seed, 1, device, calibration)
        scores = SCORES[method.score](context)
        if nm is None and method.score in PER_ROW_SCORES:
            masks = {name: drop_lowest_per_group(s, round(target * s.shape[-1]))
                     for name, s in scores.items()}
        else:
            masks = next_masks(scores, masks, target, method.scope, method.pattern)
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
