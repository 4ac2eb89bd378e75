"""Training with constant-lr Adam, gradient clipping at 1 and masks re-applied in place.

Data order and dropout are seeded per epoch from the run seed, so training epochs
``a..b`` gives the same result whether it starts from scratch or resumes from a
checkpoint saved after epoch ``a`` (with its optimiser state). That is what lets a
pruned seed *i* continue from dense seed *i* instead of repeating its first epochs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from pieflow.labels import LabelKind
from pieflow.models.encoding import Encoded
from pieflow.prune.masks import Masks, apply_masks
from pieflow.seeding import derive_seed, generator

log = logging.getLogger(__name__)


def model_inputs(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {
        key: batch[key].to(device)
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


def make_optimizer(model: nn.Module, lr: float) -> torch.optim.Optimizer:
    return torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)


@dataclass
class TrainState:
    """Where a run stands: the model's optimiser, the epochs done and the loss history."""

    optimizer: torch.optim.Optimizer
    epochs_done: int = 0
    steps_done: int = 0
    history: list[dict] = field(default_factory=list)
    # Per epoch, whether each training example (by position) was predicted right in its
    # minibatch — Toneva et al.'s record for forgetting events; kept when track_learning.
    track_learning: bool = False
    learned: list[torch.Tensor] = field(default_factory=list)


def train_epochs(
    model: nn.Module,
    data: Encoded,
    state: TrainState,
    *,
    seed: int,
    epochs: int,
    batch_size: int,
    device: torch.device,
    masks: Masks | None = None,
    on_step: Callable[[int], None] | None = None,
    max_grad_norm: float = 1.0,
) -> TrainState:
    """Train ``epochs`` more epochs, keeping pruned weights exactly zero after each step.

    ``on_step(global_step)`` runs after every optimiser step (used for the EL2N
    checkpoint); progress goes to the log every ~10 % of an epoch.
    """
    params = dict(model.named_parameters())
    masked = {name: params[name] for name in masks} if masks else {}
    # Masks in the weights' dtype: a float multiply is ~10x faster than one by a bool mask.
    mask_on_device = (
        {name: m.to(device, dtype=params[name].dtype) for name, m in masks.items()}
        if masks else {}
    )
    trainable = [p for p in model.parameters() if p.requires_grad]
    steps_per_epoch = -(-len(data) // batch_size)
    report_every = max(1, steps_per_epoch // 10)
    for epoch in range(state.epochs_done, state.epochs_done + epochs):
        model.train()
        order = torch.randperm(len(data), generator=generator(seed, "order", epoch))
        torch.manual_seed(derive_seed(seed, "dropout", epoch))
        started, total_loss, seen = time.perf_counter(), 0.0, 0
        correct = torch.zeros(len(data), dtype=torch.bool) if state.track_learning else None
        for step, batch in enumerate(data.batches(batch_size, order), start=1):
            labels = batch["labels"].to(device)
            logits = model(**model_inputs(batch, device))
            loss = loss_per_example(logits, labels, data.kind).mean()
            if correct is not None:
                start = (step - 1) * batch_size
                right = is_correct(logits, labels, data.kind)
                correct[order[start : start + len(labels)]] = right.cpu()
            state.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            # Pruned weights get no gradient, so they count nothing in the clipping norm
            # (the study's prune hooks zeroed them the same way).
            for name, param in masked.items():
                if param.grad is not None:
                    param.grad.mul_(mask_on_device[name])
            nn.utils.clip_grad_norm_(trainable, max_grad_norm)
            state.optimizer.step()
            if masked:
                apply_masks(masked, mask_on_device)
            state.steps_done += 1
            total_loss += float(loss.detach()) * len(labels)
            seen += len(labels)
            if on_step is not None:
                on_step(state.steps_done)
            if step % report_every == 0 or step == steps_per_epoch:
                rate = seen / (time.perf_counter() - started)
                log.info("epoch %d step %d/%d loss %.4f (%.0f examples/s)",
                         epoch + 1, step, steps_per_epoch, total_loss / seen, rate)
        if correct is not None:
            state.learned.append(correct)
        state.history.append(
            {"epoch": epoch + 1, "steps": state.steps_done, "train_loss": total_loss / seen}
        )
        state.epochs_done = epoch + 1
    return state


def optimizer_tensors(
    optimizer: torch.optim.Optimizer, model: nn.Module
) -> dict[str, torch.Tensor]:
    """Adam's moments keyed by parameter name, for safetensors (no pickled state dicts)."""
    out: dict[str, torch.Tensor] = {}
    for name, param in model.named_parameters():
        for key, value in optimizer.state.get(param, {}).items():
            if torch.is_tensor(value):
                out[f"{key}/{name}"] = value
    return out


def load_optimizer_tensors(
    optimizer: torch.optim.Optimizer, model: nn.Module, tensors: dict[str, torch.Tensor]
) -> None:
    params = dict(model.named_parameters())
    for key, value in tensors.items():
        slot, name = key.split("/", 1)
        param = params[name]
        value = value.to(param.device) if slot != "step" else value
        optimizer.state.setdefault(param, {})[slot] = value.clone()
