"""Weight quantization of the prunable weights, evaluated with dequantized weights.

A weight w becomes ŵ = scale · (q − zero) with q an integer of ``bits`` bits; the model
keeps ŵ as float, so the checkpoint, ``predict`` and every later stage need no change
(the PIE question is about what the rounding does to predictions, not about speed).

- symmetric: scale = max|w| / (2^(bits−1) − 1) per row (int8: max|w| / 127), zero 0;
- asymmetric: scale = (max − min) / (2^bits − 1) over [min(w, 0), max(w, 0)], with an
  integer zero point, so w = 0 is always exactly representable;
- ``group_size`` None: one grid per output row (per channel); else one per group of
  ``group_size`` consecutive input weights of a row (the last group may be shorter);
- RTN rounds each weight to the nearest level; GPTQ quantizes column by column and
  pushes each rounding error onto the columns not yet quantized (``prune.obs``).

Pruned weights stay exactly zero: 0 maps to level ``zero`` and back to 0 in both
schemes, and the mask is re-applied after dequantizing anyway. Own code rather than
torchao: torchao's int4 path targets packed kernel layouts (tinygemm) with a float zero
point that does not keep 0 exact, and its GPTQ is a prototype tied to its own model
inputs; the grid here is twenty lines and tested against its error bound.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch

from pieflow.prune.obs import obs_sweep

Scheme = Literal["rtn", "gptq"]


@dataclass(frozen=True)
class QuantizeSpec:
    """How to quantize: ``bits`` (8 or 4), ``group_size`` (None = per output channel),
    ``scheme`` (``rtn`` or ``gptq``), ``symmetric``."""

    bits: int
    group_size: int | None = None
    scheme: Scheme = "rtn"
    symmetric: bool = True

    def __post_init__(self) -> None:
        if self.bits not in (4, 8) or isinstance(self.bits, bool):
            raise ValueError(f"quantize.bits must be 8 or 4, got {self.bits!r}")
        if self.group_size is not None and (isinstance(self.group_size, bool)
                                            or not isinstance(self.group_size, int)
                                            or self.group_size < 1):
            raise ValueError("quantize.group_size must be a positive integer or null "
                             f"(per output channel), got {self.group_size!r}")
        if self.scheme not in ("rtn", "gptq"):
            raise ValueError(f"quantize.scheme must be 'rtn' or 'gptq', got {self.scheme!r}")
        if not isinstance(self.symmetric, bool):
            raise ValueError(f"quantize.symmetric must be true or false, got "
                             f"{self.symmetric!r}")

    def as_params(self) -> dict[str, Any]:
        return asdict(self)


def grid_params(weights: torch.Tensor, bits: int,
                symmetric: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale and zero point over the last dimension (one grid per leading index)."""
    if symmetric:
        scale = weights.abs().amax(dim=-1, keepdim=True) / (2 ** (bits - 1) - 1)
        zero = torch.zeros_like(scale)
    else:
        low = weights.amin(dim=-1, keepdim=True).clamp(max=0)
        high = weights.amax(dim=-1, keepdim=True).clamp(min=0)
        scale = (high - low) / (2**bits - 1)
        zero = torch.round(-low / torch.where(scale > 0, scale, 1.0))
    return torch.where(scale > 0, scale, 1.0), zero  # an all-zero group: any scale


def fake_quantize(weights: torch.Tensor, scale: torch.Tensor, zero: torch.Tensor, bits: int,
                  symmetric: bool) -> torch.Tensor:
    """Round to the grid and dequantize: the float value the model will use."""
    if symmetric:
        top = 2 ** (bits - 1) - 1
        levels = torch.clamp(torch.round(weights / scale), -top - 1, top)
        return levels * scale
    levels = torch.clamp(torch.round(weights / scale) + zero, 0, 2**bits - 1)
    return (levels - zero) * scale


class Grid:
    """The current grid of a GPTQ sweep (``obs.ColumnQuantizer``): refitted per group."""

    def __init__(self, spec: QuantizeSpec) -> None:
        self.spec = spec
        self.group_size = spec.group_size
        self.scale = self.zero = torch.ones(1)

    def fit(self, weights: torch.Tensor) -> None:
        self.scale, self.zero = grid_params(weights, self.spec.bits, self.spec.symmetric)

    def __call__(self, column: torch.Tensor) -> torch.Tensor:
        return fake_quantize(column[:, None], self.scale, self.zero, self.spec.bits,
                             self.spec.symmetric)[:, 0]


@torch.no_grad()
def rtn_quantize(weight: torch.Tensor, spec: QuantizeSpec,
                 keep: torch.Tensor | None = None) -> torch.Tensor:
    """Round to nearest on the grid of ``spec``; pruned (``keep`` False) entries stay 0
    and are left out of the grid's range. 1-D weights count as one row."""
    w = weight.detach().float().reshape(-1, weight.shape[-1])
    mask = (torch.ones_like(w, dtype=torch.bool) if keep is None
            else keep.to(w.device, torch.bool).reshape(w.shape))
    w = torch.where(mask, w, 0.0)
    group = spec.group_size or w.shape[1]
    full = (w.shape[1] // group) * group
    parts = []
    for piece, size in ((w[:, :full], group), (w[:, full:], w.shape[1] - full)):
        if size:
            grouped = piece.reshape(w.shape[0], -1, size)
            scale, zero = grid_params(grouped, spec.bits, spec.symmetric)
            parts.append(fake_quantize(grouped, scale, zero, spec.bits, spec.symmetric)
                         .reshape(w.shape[0], -1))
    out = torch.where(mask, torch.cat(parts, dim=1), 0.0)
    return out.reshape(weight.shape).to(weight.dtype)


def gptq_quantize(weight: torch.Tensor, hessian: torch.Tensor, spec: QuantizeSpec,
                  keep: torch.Tensor | None = None) -> torch.Tensor:
    """GPTQ: quantize column by column with the OBS update (``keep`` fixed, zeros kept)."""
    return obs_sweep(weight, hessian, keep=keep, quantizer=Grid(spec))[0]
