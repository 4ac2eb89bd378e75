"""Masks: which weights may be pruned, the next mask from scores, and applying it in place.

A mask is a plain dict of 0/1 tensors keyed by parameter name, saved and loaded like
weights (OpenLTH's habit), never hidden in forward hooks. All selection is vectorised
over whole tensors; the only Python loop is over tensors.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import torch
from torch import nn

from pieflow.patterns import UNSTRUCTURED, nm_keep, parse_pattern

Masks = dict[str, torch.Tensor]
PrunableSet = Literal["default", "study"]
Scope = Literal["layer", "global"]


def prunable_parameters(
    model: nn.Module, which: PrunableSet = "default"
) -> dict[str, nn.Parameter]:
    """The weights pruning may remove, by parameter name.

    ``default``: the weight matrices of every Linear and LSTM in the body.
    ``study``: the study's set — the ``weight`` of every leaf module (so LayerNorm gains
    too) and the LSTM weight matrices, skipping, as the study did, every module whose
    class name contains "Embedding" together with everything inside it (BERT's
    embeddings block, its LayerNorm included).
    Never embeddings, biases or the classifier head (``model.head_prefix``).
    """
    head = getattr(model, "head_prefix", None)
    chosen: dict[str, nn.Parameter] = {}
    skipped: list[str] = []  # prefixes of embedding blocks
    for module_name, module in model.named_modules():
        prefix = f"{module_name}." if module_name else ""
        if any(prefix.startswith(block) for block in skipped):
            continue
        if isinstance(module, nn.Embedding):
            continue
        if which == "study" and "Embedding" in type(module).__name__:
            skipped.append(prefix)
            continue
        if isinstance(module, nn.LSTM):
            for name, param in module.named_parameters(recurse=False):
                if name.startswith("weight_"):
                    chosen[prefix + name] = param
        elif isinstance(module, nn.Linear) or (
            which == "study"
            and not list(module.children())
            and isinstance(getattr(module, "weight", None), nn.Parameter)
        ):
            chosen[prefix + "weight"] = module.weight
    if which not in ("default", "study"):
        raise ValueError(f"unknown prunable set {which!r} (expected 'default' or 'study')")
    return {
        name: p for name, p in chosen.items() if not (head and name.startswith(head))
    }


def full_masks(params: dict[str, torch.Tensor]) -> Masks:
    """All-ones masks: nothing pruned yet."""
    return {name: torch.ones_like(p, dtype=torch.bool) for name, p in params.items()}


def _keep_numpy(flat: np.ndarray, count: int) -> np.ndarray:
    """``_keep`` on CPU: NumPy's introselect (SIMD where available) is an order of
    magnitude faster than ``torch.kthvalue``, and so are its compare/count/nonzero passes."""
    threshold = np.partition(flat, count - 1)[count - 1]
    drop = flat < threshold
    tied = np.flatnonzero(flat == threshold)
    drop[tied[: count - int(np.count_nonzero(drop))]] = True
    return np.logical_not(drop, out=drop)


def _keep(scores: torch.Tensor, count: int) -> torch.Tensor:
    """Keep mask that drops exactly ``count`` lowest entries (ties broken by position)."""
    flat = scores.reshape(-1)
    if count <= 0:
        return torch.ones_like(flat, dtype=torch.bool).view_as(scores)
    if count >= flat.numel():
        return torch.zeros_like(flat, dtype=torch.bool).view_as(scores)
    if flat.device.type == "cpu" and flat.dtype == torch.float32:
        return torch.from_numpy(_keep_numpy(flat.detach().numpy(), count)).view_as(scores)
    threshold = torch.kthvalue(flat, count).values
    drop = flat < threshold
    # Entries equal to the threshold fill the remaining places, first positions first,
    # so the count is exact even when many scores tie (e.g. zeros, equal magnitudes).
    tied = (flat == threshold).nonzero().squeeze(1)
    drop[tied[: count - int(drop.sum())]] = True
    return (~drop).view_as(scores)


def _pruned_to_minus_inf(score: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """float32 scores with already-pruned entries at −∞ (NumPy on CPU: faster there).

    Nothing pruned yet (the one-shot case) returns the scores themselves, uncopied:
    fresh buffers the size of a whole model are a large share of the cost.
    """
    s = score.detach().float()
    if s.device.type == "cpu":
        keep = mask.detach().bool().numpy()
        if keep.all():
            return s
        return torch.from_numpy(np.where(keep, s.numpy(), np.float32(-np.inf)))
    return torch.where(mask.bool(), s, s.new_tensor(float("-inf")))


@torch.no_grad()
def next_masks(
    scores: dict[str, torch.Tensor],
    masks: Masks,
    target_sparsity: float,
    scope: Scope = "layer",
    pattern: str = UNSTRUCTURED,
) -> Masks:
    """Prune the lowest-scoring weights until ``target_sparsity`` of them are zero.

    Already-pruned weights stay pruned (their score is treated as −∞). With ``layer``
    each tensor reaches the target on its own (the study's choice); with ``global`` one
    threshold is shared by all tensors. Counts are rounded once, so the achieved sparsity
    is the target to within one weight per tensor. With an N:M ``pattern`` (layer scope
    only) every group of M consecutive input weights drops round(target·M) of them.
    """
    if not 0.0 <= target_sparsity < 1.0:
        raise ValueError(f"target sparsity must be in [0, 1), got {target_sparsity}")
    masked = {name: _pruned_to_minus_inf(scores[name], masks[name]) for name in masks}
    nm = parse_pattern(pattern)
    if nm is not None:
        if scope != "layer":
            raise ValueError("an N:M pattern is per group of weights: use scope 'layer'")
        return {name: nm_keep(s, nm, target_sparsity, name) & masks[name].bool()
                for name, s in masked.items()}
    if scope == "layer":
        return {name: _keep(s, round(target_sparsity * s.numel())) for name, s in masked.items()}
    if scope == "global":
        names = list(masked)
        flat = torch.cat([masked[n].reshape(-1) for n in names])
        keep = _keep(flat, round(target_sparsity * flat.numel()))
        parts = keep.split([masked[n].numel() for n in names])
        return {n: part.view_as(masked[n]) for n, part in zip(names, parts, strict=True)}
    raise ValueError(f"unknown pruning scope {scope!r} (expected 'layer' or 'global')")


@torch.no_grad()
def apply_masks(params: dict[str, torch.Tensor], masks: Masks) -> None:
    """Zero pruned weights in place; call after every optimiser step and every rewind."""
    for name, mask in masks.items():
        params[name].mul_(mask)


def achieved_sparsity(tensors: Iterable[torch.Tensor]) -> float:
    """Share of exact zeros among the given tensors (measured, never assumed)."""
    zeros = total = 0
    for t in tensors:
        zeros += int((t == 0).sum())
        total += t.numel()
    return zeros / total if total else 0.0


def iterative_targets(target_sparsity: float, prunes: int) -> list[float]:
    """Cumulative sparsity after each prune when each removes a fixed share x of what
    remains, with (1 − x)^prunes = 1 − target."""
    keep = 1.0 - target_sparsity
    return [1.0 - keep ** (j / prunes) for j in range(1, prunes + 1)]
