"""Per-example difficulty: EL2N from early checkpoints (Paul et al. 2021)."""

from __future__ import annotations

import numpy as np
import torch


def el2n(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """‖softmax(logits) − onehot(label)‖₂ per example (single-label)."""
    probs = torch.softmax(logits.float(), dim=1)
    onehot = torch.nn.functional.one_hot(labels, probs.shape[1]).float()
    return torch.linalg.vector_norm(probs - onehot, dim=1)


def mean_over_seeds(per_seed: list[np.ndarray]) -> np.ndarray:
    return np.stack(per_seed).mean(axis=0)
