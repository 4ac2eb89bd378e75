"""The Optimal Brain Surgeon sweep shared by SparseGPT (prune) and GPTQ (quantize).

Both process a weight matrix W (out × in) column by column against the layer Hessian
H = XᵀX: when column j is replaced by q (zeros where pruned, a grid value where
quantized), the error (w − q) / [U]_jj is spread over the columns not yet processed
through row j of U, the upper Cholesky factor of H⁻¹ (Frantar & Alistarh 2023; Frantar
et al. 2023). [U]_jj² is the OBS denominator [H_F⁻¹]_jj of column j given the columns
after it, so SparseGPT's saliency w² / [H⁻¹]_jj is computed as w² / [U]_jj². Columns
run in blocks (128 by default) with the error of a block pushed to later columns in one
matrix product; every step works on a whole column, i.e. all rows at once.

Differences from the reference code, on purpose: SparseGPT's per-block mask drops exactly
round(target·numel) weights per tensor (counts spread over blocks by cumulative
rounding), and inputs never seen in calibration (H_jj = 0) are not zeroed — that would
prune beyond the target — only given H_jj = 1 so the factorisation exists.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import torch

from pieflow.patterns import NMPattern, as_groups, drop_lowest_per_group

BLOCK = 128
DAMP = 0.01  # λ = 1 % of the mean of diag(H)


class ColumnQuantizer(Protocol):
    """What the sweep asks of a quantization grid (see ``prune.quantize``)."""

    group_size: int | None  # None: one grid per row, fitted once on the whole matrix

    def fit(self, weights: torch.Tensor) -> None: ...

    def __call__(self, column: torch.Tensor) -> torch.Tensor: ...


def inverse_hessian_factor(hessian: torch.Tensor, damp: float = DAMP) -> torch.Tensor:
    """U with H⁻¹ = UᵀU (upper triangular), H damped by λI, λ = ``damp`` · mean diag(H).

    The damping is raised tenfold (up to three times) if H is still not positive
    definite in float32, so a rank-deficient calibration set degrades rather than fails.
    """
    h = hessian.detach().double().clone()
    diag = h.diagonal()
    diag[diag == 0] = 1.0  # unseen inputs: keep the weight, let the factor exist
    base = damp * float(diag.mean())
    for attempt in range(4):
        damped = h + (base * 10**attempt) * torch.eye(h.shape[0], dtype=h.dtype,
                                                      device=h.device)
        lower, info = torch.linalg.cholesky_ex(damped)
        if int(info) == 0:
            inverse = torch.cholesky_inverse(lower)
            upper, info = torch.linalg.cholesky_ex(inverse, upper=True)
            if int(info) == 0:
                return upper.float()
    raise ValueError("the calibration Hessian is not positive definite even with damping "
                     f"{base * 1000:.3g}; use more calibration_examples")


def _block_size(block: int, *multiples: int) -> int:
    """``block`` rounded up to a multiple of every group length, so no N:M group or
    quantization group straddles two blocks (their weights must be up to date)."""
    step = math.lcm(*[m for m in multiples if m], 1)
    return step * max(1, -(-block // step))


@torch.no_grad()
def obs_sweep(
    weight: torch.Tensor,
    hessian: torch.Tensor,
    *,
    target: float = 0.0,
    pattern: NMPattern | None = None,
    keep: torch.Tensor | None = None,
    quantizer: ColumnQuantizer | None = None,
    block: int = BLOCK,
    damp: float = DAMP,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Replace W column by column, compensating each change on the later columns.

    Pruning (SparseGPT): with ``keep`` None, the mask is chosen as the sweep goes — per
    block by the saliency w² / U_jj² (unstructured, exact count) or per group of M
    columns (``pattern``). With a given ``keep`` the mask is fixed (GPTQ after another
    pruning). ``quantizer`` rounds each kept weight to its grid (GPTQ). Returns the new
    weights (pruned entries exactly 0) and the keep mask.
    """
    w_all = weight.detach().float().clone()
    rows, cols = w_all.shape
    if pattern is not None:
        as_groups(w_all, pattern.m)  # refuses shapes the pattern cannot tile
    choose = keep is None
    keep = (torch.ones_like(w_all, dtype=torch.bool) if keep is None
            else keep.to(w_all.device, torch.bool).clone())
    upper = inverse_hessian_factor(hessian.to(w_all.device), damp)
    group = quantizer.group_size if quantizer is not None else None
    if quantizer is not None and group is None:
        quantizer.fit(w_all * keep)
    step = _block_size(block, pattern.m if pattern else 0, group or 0)
    for start in range(0, cols, step):
        end = min(start + step, cols)
        w = w_all[:, start:end].clone()
        u = upper[start:end, start:end]
        d = u.diagonal()
        errors = torch.zeros_like(w)
        if choose and pattern is None:
            drop = round(target * rows * end) - round(target * rows * start)
            saliency = (w.square() / d.square()).reshape(1, -1)
            keep[:, start:end] = drop_lowest_per_group(saliency, drop).view_as(w)
        for j in range(end - start):
            col = start + j
            if choose and pattern is not None and j % pattern.m == 0:
                span = slice(j, j + pattern.m)
                saliency = w[:, span].square() / d[span].square()
                keep[:, col:col + pattern.m] = drop_lowest_per_group(
                    saliency, pattern.m - pattern.n)
            kept = keep[:, col]
            if quantizer is not None and group and j % group == 0:
                quantizer.fit(w[:, j:j + group] * keep[:, col:col + group])
            q = w[:, j] if quantizer is None else quantizer(w[:, j])
            q = torch.where(kept, q, 0.0)
            error = (w[:, j] - q) / d[j]
            w[:, j:].addr_(error, u[j, j:], alpha=-1.0)  # rank-1 OBS update, in place
            w[:, j] = q  # exactly q: zeros stay exact zeros
            errors[:, j] = error
        w_all[:, start:end] = w
        w_all[:, end:] -= errors @ upper[start:end, end:]
    return w_all.to(weight.dtype), keep


def sparsegpt_prune(weight: torch.Tensor, hessian: torch.Tensor, target: float,
                    pattern: NMPattern | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """SparseGPT: prune ``weight`` to ``target`` (or ``pattern``), updating the rest."""
    return obs_sweep(weight, hessian, target=target, pattern=pattern)


# Pruning methods that rewrite the remaining weights rather than score them, each
# (weight, Hessian, target, pattern) → (new weight, keep). ``prune.scores`` registers
# every one as a score (``solver=True``): its entry there says what it needs.
SOLVERS: dict[str, Callable[..., tuple[torch.Tensor, torch.Tensor]]] = {
    "sparsegpt": sparsegpt_prune,
}
