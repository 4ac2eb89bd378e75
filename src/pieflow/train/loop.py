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

from pieflow.masks import Masks, apply_masks
from pieflow.models.encoding import Encoded, bucketed_batches, padded_tokens
from pieflow.models.forward import is_correct, loss_per_example, model_inputs, to_device
from pieflow.precision import autocast
from pieflow.seeding import derive_seed, generator

log = logging.getLogger(__name__)


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
    on_epoch: Callable[[], dict[str, float]] | None = None,
    max_grad_norm: float = 1.0,
) -> TrainState:
    """Train ``epochs`` more epochs, keeping pruned weights exactly zero after each step.

    Batches are length-bucketed from the epoch's seeded generator
    (:func:`~pieflow.models.encoding.bucketed_batches`). Forward passes run under the
    process-wide precision (:mod:`pieflow.precision`); the loss is taken in float32.
    Losses and minibatch correctness stay on the device, read back only for the progress
    log (every ~10 % of an epoch) and at the end of each epoch: no host synchronisation
    per step. ``on_step(global_step)`` runs after every optimiser step (used for the
    EL2N checkpoint); ``on_epoch()`` after every epoch, its values joining the epoch's
    history row (validation accuracy; it may switch the model to eval mode, and must
    draw no random numbers).
    """
    params = dict(model.named_parameters())
    masked = {name: params[name] for name in masks} if masks else {}
    # Masks in the weights' dtype: a float multiply is ~10x faster than one by a bool mask.
    mask_on_device = (
        {name: m.to(device, dtype=params[name].dtype) for name, m in masks.items()}
        if masks else {}
    )
    trainable = [p for p in model.parameters() if p.requires_grad]
    lengths = data.lengths()
    for epoch in range(state.epochs_done, state.epochs_done + epochs):
        model.train()
        batches = bucketed_batches(lengths, batch_size, generator(seed, "order", epoch))
        torch.manual_seed(derive_seed(seed, "dropout", epoch))
        report_every = max(1, len(batches) // 10)
        started, seen = time.perf_counter(), 0
        total_loss = torch.zeros((), dtype=torch.float64, device=device)
        correct = (torch.zeros(len(data), dtype=torch.bool, device=device)
                   if state.track_learning else None)
        for step, indices in enumerate(batches, start=1):
            batch = data.batch(indices)
            labels = to_device(batch["labels"], device)
            with autocast(device, model=model):
                logits = model(**model_inputs(batch, device))
            logits = logits.float()
            loss = loss_per_example(logits, labels, data.kind).mean()
            if correct is not None:
                correct[to_device(indices, device)] = is_correct(logits, labels, data.kind)
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
            total_loss += loss.detach() * len(indices)
            seen += len(indices)
            if on_step is not None:
                on_step(state.steps_done)
            if step % report_every == 0 and step < len(batches):
                log.info("epoch %d step %d/%d loss %.4f (%.0f examples/s)", epoch + 1, step,
                         len(batches), float(total_loss) / seen,
                         seen / (time.perf_counter() - started))
        mean_loss = float(total_loss) / max(seen, 1)
        log.info("epoch %d done: loss %.4f, %.0f examples/s, %.0f %% of tokens padding",
                 epoch + 1, mean_loss, seen / (time.perf_counter() - started),
                 100 * (1 - int(lengths.sum()) / max(padded_tokens(lengths, batches), 1)))
        if correct is not None:
            state.learned.append(correct.cpu())
        state.history.append({"epoch": epoch + 1, "steps": state.steps_done,
                              "train_loss": mean_loss, **(on_epoch() if on_epoch else {})})
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
