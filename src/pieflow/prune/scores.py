"""Pruning scores, a registry of name → :class:`Score`: low score = pruned first.

A new score is one function plus one :func:`register_score` line giving its properties;
the method definitions (``prune.methods``), the config check and the schedules read
what a score needs from its entry here, and nowhere else::

    @register_score("wanda-ish", calibrated=True, per_row=True)
    def wanda_ish(context: ScoreContext) -> dict[str, torch.Tensor]:
        ...

The post-training solvers of ``prune.obs`` (SparseGPT) are entries too (``solver``):
they choose the mask and rewrite the kept weights in one sweep instead of scoring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from pieflow.config_errors import did_you_mean
from pieflow.masks import Masks, next_masks
from pieflow.models.forward import loss_per_example, model_inputs
from pieflow.patterns import drop_lowest_per_group, parse_pattern
from pieflow.prune.obs import SOLVERS
from pieflow.seeding import generator

if TYPE_CHECKING:
    from pieflow.models.encoding import Encoded
    from pieflow.prune.calibration import Calibration

NO_PRUNING = "none"  # the score of a quantization-only method: no entry, prunes nothing


@dataclass(frozen=True)
class ScoreContext:
    """Everything a score may look at when a prune happens."""

    model: nn.Module
    params: dict[str, torch.Tensor]
    data: Encoded | None
    options: Mapping[str, Any]  # the method's keys as plain values (MethodSpec.as_params)
    seed: int
    round_: int
    device: torch.device
    calibration: Calibration | None = None  # for calibrated scores (post_training)


@dataclass(frozen=True)
class Score:
    """A registered score and what it needs.

    ``function``: a :class:`ScoreContext` → scores by weight name; for a ``solver``,
    (weight, Hessian, target, N:M pattern or None) → (new weight, keep mask).
    ``calibrated``: reads calibration activations of Linear inputs, so only for a
    trained model (schedule ``post_training``). ``hessians``: also reads the layer
    Hessians XᵀX, not only the input norms (implies ``calibrated``). ``per_row``:
    compared within each output row, every row losing the same share (Wanda), not per
    tensor. ``solver``: rewrites the kept weights (SparseGPT; implies ``hessians``).
    ``options``: the method keys (``MethodSpec`` fields) only this score reads; a method
    with another score may not set them.
    """

    name: str
    function: Callable[..., Any]
    calibrated: bool = False
    hessians: bool = False
    per_row: bool = False
    solver: bool = False
    options: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        hessians = self.hessians or self.solver
        object.__setattr__(self, "hessians", hessians)
        object.__setattr__(self, "calibrated", self.calibrated or hessians)
        object.__setattr__(self, "options", tuple(self.options))

    @property
    def layer_only(self) -> bool:
        """Compares weights within a layer (or a row of it): scope ``layer`` only."""
        return self.per_row or self.solver


SCORES: dict[str, Score] = {}


def register_score(name: str, *, calibrated: bool = False, hessians: bool = False,
                   per_row: bool = False, solver: bool = False,
                   options: tuple[str, ...] = ()) -> Callable[[Callable], Callable]:
    """Decorator: add ``function`` to :data:`SCORES` under ``name`` (see :class:`Score`
    for the flags); the function is returned unchanged."""

    def add(function: Callable) -> Callable:
        if name in SCORES or name == NO_PRUNING:
            raise ValueError(f"score {name!r} is registered already")
        SCORES[name] = Score(name, function, calibrated=calibrated, hessians=hessians,
                             per_row=per_row, solver=solver, options=options)
        return function

    return add


def unregister_score(name: str) -> None:
    """Remove a registered score (tests and plugins that add one for a while)."""
    del SCORES[name]


def known_scores() -> list[str]:
    """Every name a method's ``score`` may take: the registry and ``none``."""
    return sorted([*SCORES, NO_PRUNING])


def unknown_score(name: str) -> str:
    """``unknown score 'x' (did you mean 'y'?)``, or the known scores when none is close."""
    known = known_scores()
    return f"unknown score {name!r}" + (did_you_mean(name, known)
                                        or f"; known scores: {', '.join(known)}")


def option_owners() -> dict[str, list[str]]:
    """Each score-specific method key → the scores that read it."""
    owners: dict[str, list[str]] = {}
    for score in SCORES.values():
        for key in score.options:
            owners.setdefault(key, []).append(score.name)
    return owners


def choose_masks(score: Score, scores: dict[str, torch.Tensor], masks: Masks, target: float,
                 scope: str, pattern: str) -> Masks:
    """The keep masks once ``target`` (a share) of the weights is pruned by ``scores``.

    Already-pruned weights stay pruned. A ``per_row`` score without an N:M pattern drops
    exactly round(target·in) weights of every output row; otherwise see
    :func:`pieflow.masks.next_masks` (per tensor or global, or per group of M).
    """
    if not (score.per_row and parse_pattern(pattern) is None):
        return next_masks(scores, masks, target, scope, pattern)
    out = {}
    for name, s in scores.items():
        keep = masks[name].bool()
        if not keep.all():  # pruned weights lowest, so dropped first
            s = torch.where(keep, s.float(), float("-inf"))
        out[name] = drop_lowest_per_group(s, round(target * s.shape[-1]))
    return out


# --------------------------------------------------------------------------------------
# The scores
# --------------------------------------------------------------------------------------


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


@register_score("magnitude")
def _magnitude(context: ScoreContext) -> dict[str, torch.Tensor]:
    return magnitude_scores(context.params)


@register_score("impact", options=("impact_batches", "impact_batch_size"))
def _impact(context: ScoreContext) -> dict[str, torch.Tensor]:
    return impact_scores(
        context.model, context.params, context.data, seed=context.seed,
        round_=context.round_, batches=context.options["impact_batches"],
        batch_size=context.options["impact_batch_size"], device=context.device)


@register_score("random")
def _random(context: ScoreContext) -> dict[str, torch.Tensor]:
    return random_scores(context.params, context.seed, context.round_)


# Sun et al. found a per-row comparison beats a per-tensor threshold for Wanda.
@register_score("wanda", calibrated=True, per_row=True)
def _wanda(context: ScoreContext) -> dict[str, torch.Tensor]:
    return wanda_scores(context.params, context.calibration)


for _name, _solve in SOLVERS.items():  # SparseGPT: reads the Hessians, rewrites weights
    register_score(_name, solver=True)(_solve)
