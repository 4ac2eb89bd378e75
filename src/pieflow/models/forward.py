"""One forward step's pieces shared by training, prediction, pruning scores and
influence: moving a batch to the device, the loss per example and correctness per label
kind. They live below every stage so that none imports another for them."""

from __future__ import annotations

import torch
from torch import nn

from pieflow.labels import LabelKind


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A host tensor on ``device``; to a GPU through pinned memory and without blocking,
    so the host never waits for the kernels queued before the copy."""
    if device.type == "cuda" and tensor.device.type == "cpu":
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


def model_inputs(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {
        key: to_device(batch[key], device)
        for key in ("input_ids", "attention_mask", "token_type_ids")
    }


def loss_per_example(logits: torch.Tensor, labels: torch.Tensor,
                     kind: LabelKind) -> torch.Tensor:
    """Cross-entropy for class indices; for multi-hot targets, BCE-with-logits averaged
    over classes (so the batch mean equals ``BCEWithLogitsLoss``'s default)."""
    if kind is LabelKind.MULTI:
        return nn.functional.binary_cross_entropy_with_logits(
            logits, labels.to(logits.dtype), reduction="none").mean(dim=1)
    return nn.functional.cross_entropy(logits, labels, reduction="none")


@torch.no_grad()
def is_correct(logits: torch.Tensor, labels: torch.Tensor, kind: LabelKind) -> torch.Tensor:
    """Right answer per example: the argmax, or every class at sigmoid ≥ 0.5 (multi-label)."""
    if kind is LabelKind.MULTI:
        return ((logits >= 0) == labels.bool()).all(dim=1)
    return logits.argmax(dim=1) == labels
