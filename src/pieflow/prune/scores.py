"""Pruning scores, a registry of name → function: low score = pruned first.

A new score is one function taking a :class:`ScoreContext` plus one entry in ``SCORES``;
the config check, the method definitions and the schedules all read the names from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from pieflow.models.encoding import Encoded
from pieflow.seeding import generator
from pieflow.train.loop import loss_per_example, model_inputs

if TYPE_CHECKING:
    from pieflow.prune.calibration import Calibration
    from pieflow.prune.methods import MethodSpec


@dataclass(frozen=True)
class ScoreContext:
    """Everything a score may look at when a prune happens."""

    model: nn.Module
    params: dict[str, torch.Tensor]
    data: Encoded
    method: MethodSpec
    seed: int
    round_: int
    device: torch.device
    calibration: Calibration | None = None  # post-training scores that read activations


def magnitude_scores(params: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: p.detach().abs() for name, p in params.items()}


def random_scores(
    params: dict[str, torch.Tensor], seed: int, round_: int
) -> dict[str, torch.Tensor]:
    """Uniform scores from a generator of (seed, round): reproducible, different per seed."""
    gen = generator(seed, "random-scores", round_)
    return {
        name: torch.rand(p.shape, generator=gen).to(p.device)
        for name, p in sorted(params.items())
    }


def impact_scores(
    model: nn.Module,
    params: dict[str, torch.Tensor],
    data: Encoded,
    *,
    seed: int,
    round_: int,
    batches: int,
    batch_size: int,
    device: torch.device,
) -> dict[str, torch.Tensor]:
    """|w · ∂L/∂w| with the gradient accumulated over ``batches`` training batches.

    The study meant to accumulate over 10 batches of 10 examples but zeroed the gradient
    before each batch, so only its last batch counted; here every batch counts. Dropout
    is off so the score depends on the weights and data alone.
    """
    was_training = model.training
    model.eval()
    model.zero_grad(set_to_none=True)
    order = torch.randperm(len(data), generator=generator(seed, "impact", round_))
    wanted = order[: batches * batch_size]
    for batch in data.batches(batch_size, wanted):
        labels = batch["labels"].to(device)
        logits = model(**model_inputs(batch, device))
        loss = loss_per_example(logits, labels, data.kind).mean()
        loss.backward()  # accumulates into .grad on purpose
    scores = {
        name: (p.detach() * p.grad).abs() if p.grad is not None else torch.zeros_like(p)
        for name, p in params.items()
    }
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return scores


def wanda_scores(
    params: dict[str, torch.Tensor], calibration: Calibration | None
) -> dict[str, torch.Tensor]:
    """Wanda (Sun et al. 2024): |W_ij| · ‖X_j‖₂, X the layer's calibration inputs, so a
    small weight on a loud input feature outranks a larger one on a quiet feature."""
    if calibration is None:
        raise ValueError("the wanda score needs calibration activations (post_training)")
    return {
        name: p.detach().abs() * calibration.inputs[name].sq_norms.sqrt().to(p.device)[None, :]
        for name, p in params.items()
    }


# Scores that read calibration activations, hence only for trained models (post_training).
CALIBRATED_SCORES = frozenset({"wanda"})

SCORES: dict[str, Callable[[ScoreContext], dict[str, torch.Tensor]]] = {
    "magnitude": lambda ctx: magnitude_scores(ctx.params),
    "impact": lambda ctx: impact_scores(
        ctx.model, ctx.params, ctx.data, seed=ctx.seed, round_=ctx.round_,
        batches=ctx.method.impact_batches, batch_size=ctx.method.impact_batch_size,
        device=ctx.device),
    "random": lambda ctx: random_scores(ctx.params, ctx.seed, ctx.round_),
    "wanda": lambda ctx: wanda_scores(ctx.params, ctx.calibration),
}
