"""Per-example difficulty: EL2N from early checkpoints (Paul et al. 2021)."""

from __future__ import annotations

import numpy as np
import torch


def el2n(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """‖p − y‖₂ per example: softmax vs one-hot for class indices, sigmoid vs multi-hot
    for (examples × classes) targets."""
    if labels.dim() == 2:
        return torch.linalg.vector_norm(torch.sigmoid(logits.float()) - labels.float(), dim=1)
    probs = torch.softmax(logits.float(), dim=1)
    onehot = torch.nn.functional.one_hot(labels, probs.shape[1]).float()
    return torch.linalg.vector_norm(probs - onehot, dim=1)


def mean_over_seeds(per_seed: list[np.ndarray]) -> np.ndarray:
    return np.stack(per_seed).mean(axis=0)
