"""Sparsity patterns: unstructured, or N:M (keep N of every M consecutive input weights).

An N:M pattern is what sparse tensor cores accelerate (2:4 on NVIDIA Ampere and later),
so its sparsity is fixed by the pattern, 1 − N/M, and a cell's sparsity must match it.
Groups run along the input dimension (the last one) of each weight matrix, as in the
hardware format and in Wanda / SparseGPT.

Selection is one ``topk`` over whole tensors viewed as (…, group): exact counts per
group, no Python loop over rows or groups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch

UNSTRUCTURED = "unstructured"
_NM = re.compile(r"^(\d+):(\d+)$")


@dataclass(frozen=True)
class NMPattern:
    """Keep ``n`` of every ``m`` consecutive input weights of a row."""

    n: int
    m: int

    @property
    def sparsity(self) -> float:
        return 1.0 - self.n / self.m

    def __str__(self) -> str:
        return f"{self.n}:{self.m}"


def parse_pattern(pattern: str) -> NMPattern | None:
    """``"unstructured"`` → None; ``"N:M"`` → :class:`NMPattern`, refusing what no
    integer-percent cell could use (cells are named by integer percents)."""
    if pattern == UNSTRUCTURED:
        return None
    match = _NM.match(str(pattern))
    if not match:
        raise ValueError(f"pattern {pattern!r} must be 'unstructured' or 'N:M' (e.g. '2:4')")
    n, m = int(match.group(1)), int(match.group(2))
    if not 0 < n < m:
        raise ValueError(f"pattern {pattern!r}: need 0 < N < M")
    if (100 * (m - n)) % m:
        raise ValueError(f"pattern {pattern!r} prunes {100 * (m - n) / m:.2f} %, not an "
                         "integer percent, so no sparsity cell can name it")
    return NMPattern(n, m)


def drop_lowest_per_group(scores: torch.Tensor, drop: int) -> torch.Tensor:
    """Keep mask (bool, same shape) dropping exactly ``drop`` lowest scores along the last
    dimension of every group (row) — ties broken by ``topk``, counts always exact."""
    size = scores.shape[-1]
    if drop <= 0:
        return torch.ones_like(scores, dtype=torch.bool)
    if drop >= size:
        return torch.zeros_like(scores, dtype=torch.bool)
    lowest = scores.topk(drop, dim=-1, largest=False, sorted=False).indices
    keep = torch.ones_like(scores, dtype=torch.bool)
    return keep.scatter_(-1, lowest, False)


def as_groups(tensor: torch.Tensor, m: int, name: str = "weight") -> torch.Tensor:
    """View a weight matrix (out × in) as (out, in/m, m), refusing what does not fit."""
    if tensor.dim() != 2:
        raise ValueError(f"an N:M pattern needs weight matrices; {name} has shape "
                         f"{tuple(tensor.shape)} (prunable: study includes LayerNorm gains; "
                         "use prunable: default)")
    if tensor.shape[1] % m:
        raise ValueError(f"an N:M pattern with M={m} needs in_features divisible by {m}; "
                         f"{name} has {tensor.shape[1]} inputs")
    return tensor.reshape(tensor.shape[0], -1, m)


def check_pattern_fits(shapes: dict[str, torch.Size], pattern: NMPattern | None) -> None:
    """Refuse, before any work, weights an N:M pattern cannot tile."""
    if pattern is not None:
        for name, shape in shapes.items():
            as_groups(torch.empty(shape, device="meta"), pattern.m, name)


def nm_keep(scores: torch.Tensor, pattern: NMPattern, target: float,
            name: str = "weight") -> torch.Tensor:
    """Keep mask dropping round(target·M) lowest scores in every group of M inputs.

    At the pattern's own sparsity that is M − N per group; an iterative schedule's
    earlier, lower targets drop fewer per group (e.g. 2:4 over 3 prunes: 1, 1, 2).
    Already-pruned weights should score −∞ so they are dropped first.
    """
    groups = as_groups(scores, pattern.m, name)
    drop = min(round(target * pattern.m), pattern.m - pattern.n)
    return drop_lowest_per_group(groups, drop).reshape(scores.shape)
