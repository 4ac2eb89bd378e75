"""Per-example difficulty: EL2N from early checkpoints (Paul et al. 2021)."""

from __future__ import annotations

import numpy as np
import torch

from pieflow.labels import LabelKind


def el2n(logits: torch.Tensor, labels: torch.Tensor, kind: LabelKind) -> torch.Tensor:
    """‖p − y‖₂ per example: softmax vs one-hot for class indices, sigmoid vs multi-hot
    for (examples × classes) targets."""
    if kind is LabelKind.MULTI:
        return torch.linalg.vector_norm(torch.sigmoid(logits.float()) - labels.float(), dim=1)
    probs = torch.softmax(logits.float(), dim=1)
    onehot = torch.nn.functional.one_hot(labels, probs.shape[1]).float()
    return torch.linalg.vector_norm(probs - onehot, dim=1)


def forgetting_events(learned: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Toneva et al.'s forgetting events from (epochs × examples) minibatch correctness.

    An event is a right answer at one epoch followed by a wrong one at the next. Returns
    (events per example, never learned: wrong at every recorded epoch). With a single
    epoch no forgetting can be seen: every count is 0.
    """
    learned = np.asarray(learned, dtype=bool)
    events = (learned[:-1] & ~learned[1:]).sum(axis=0)
    return events.astype(np.int64), ~learned.any(axis=0)
