"""Difficulty scores, a registry of name → :class:`DifficultyScore`: how each is computed,
which direction is hard, and where it exists.

A score is one function plus one :func:`register_difficulty` line. The influence job
(trained models), the import path (imported populations, LLMs) and the analysis
(:mod:`pieflow.analysis.predictors`, which asks how well each score predicts PIEs) read
the registry and nothing else; the name is the score's column in
``results/{dataset}/{model}/influence.parquet``::

    @register_difficulty("entropy", hard="high", exists_for=(TRAINED, IMPORTED, LLM),
                         source=FINAL_PREDICTIONS)
    def dense_entropy(final: FinalPredictions) -> np.ndarray | None:
        \"\"\"Entropy of each dense member's softmax.\"\"\"
        ...

What a function receives depends on its ``source``:

* ``EARLY_CHECKPOINT`` — an :class:`EarlyCheckpoint` (one dense seed's model restored
  at its early checkpoint, the split's encoded examples and that model's logits); it
  returns one value per example, and the job averages over the seeds.
* ``TRAINING_RECORD`` — one dense seed's minibatch correctness of the training split
  (epochs × examples, from ``learning.parquet``); one value per example, averaged over
  the seeds. Train split only.
* ``FINAL_PREDICTIONS`` — a :class:`FinalPredictions` (the dense population's final
  predictions of one split as matrices); it returns members × examples (the job writes
  the mean over members) or one value per example (a property of the whole population,
  such as its agreement), or None where the predictions cannot give it (no logits; a
  label kind it does not apply to): the column is then null.

``hard``: whether high or low values mark hard examples; the analysis orients every score
so that higher means harder. ``exists_for``: the populations it exists for — ``trained``
(pieflow trained them: early checkpoints and training records exist), ``imported``
(predictions made elsewhere: final predictions only) and ``llm`` (lm-eval output:
choice log-likelihoods, or generated answers without any scores). One name may be
registered twice with disjoint ``exists_for`` (EL2N: at the early checkpoint of trained
models, from the final probabilities of imported ones); both must agree on ``hard``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from scipy.special import expit, softmax

from pieflow.influence.el2n import el2n, forgetting_events
from pieflow.influence.grand import grand_scores
from pieflow.labels import LabelKind, majority_votes, modal_answers

if TYPE_CHECKING:
    from torch import nn

    from pieflow.models.encoding import Encoded

TRAINED, IMPORTED, LLM = "trained", "imported", "llm"
ORIGINS = (TRAINED, IMPORTED, LLM)
EARLY_CHECKPOINT = "early checkpoint"
TRAINING_RECORD = "training record"
FINAL_PREDICTIONS = "final predictions"
SOURCES = (EARLY_CHECKPOINT, TRAINING_RECORD, FINAL_PREDICTIONS)
HARD = ("high", "low")


@dataclass(frozen=True)
class EarlyCheckpoint:
    """One dense seed at its early checkpoint, on one split."""

    model: nn.Module
    data: Encoded
    logits: torch.Tensor  # (examples × classes), the model's on ``data``
    device: torch.device


@dataclass(frozen=True)
class FinalPredictions:
    """The dense population's final predictions of one split, examples in ``example_id``
    order, members (seeds) in ascending seed order.

    ``labels``: class (answer) ids, multi-label (examples × classes) 0/1. ``preds``:
    (members × examples) ids — generated answers pooled, every answer the metric calls
    right replaced by the target's id — or (members × examples × classes) 0/1 votes.
    ``logits`` (members × examples × classes; lm-eval: the choices' log-likelihoods,
    −∞ past a document's last choice) and ``loss`` (members × examples): None without.
    """

    kind: LabelKind
    example_ids: np.ndarray
    labels: np.ndarray
    preds: np.ndarray
    logits: np.ndarray | None
    loss: np.ndarray | None

    @property
    def correct(self) -> np.ndarray:
        """(members × examples): right (multi-label: every class right)."""
        if self.kind is LabelKind.MULTI:
            return (self.preds == self.labels[None].astype(self.preds.dtype)).all(axis=2)
        return self.preds == self.labels[None]


@dataclass(frozen=True)
class Computation:
    """How a score is computed for some populations."""

    source: str
    function: Callable[..., object]
    exists_for: tuple[str, ...]


@dataclass(frozen=True)
class DifficultyScore:
    """A registered score: its ``hard`` direction, its computations, what it means.

    ``switch``: the model key that turns it off (``grand``: its column is NaN then);
    ``spread``: the job also writes ``<name>_std``, the standard deviation over seeds.
    """

    name: str
    hard: str
    description: str
    computations: tuple[Computation, ...]
    switch: str | None = None
    spread: bool = False

    @property
    def exists_for(self) -> tuple[str, ...]:
        return tuple(o for o in ORIGINS if any(o in c.exists_for for c in self.computations))

    def computation(self, origin: str) -> Computation | None:
        """How it is computed for ``origin`` (``trained``, ``imported``, ``llm``); None
        where it does not exist."""
        return next((c for c in self.computations if origin in c.exists_for), None)


DIFFICULTY_SCORES: dict[str, DifficultyScore] = {}


def register_difficulty(name: str, *, hard: str, exists_for: tuple[str, ...], source: str,
                        switch: str | None = None, spread: bool = False
                        ) -> Callable[[Callable], Callable]:
    """Decorator: add ``function`` to :data:`DIFFICULTY_SCORES` under ``name`` (the
    column it fills); the function is returned unchanged. Its docstring's first line
    describes the score on the report's pages."""
    if hard not in HARD or source not in SOURCES or not set(exists_for) <= set(ORIGINS):
        raise ValueError(f"difficulty {name!r}: hard must be one of {HARD}, source one of "
                         f"{SOURCES}, exists_for within {ORIGINS}")

    def add(function: Callable) -> Callable:
        computation = Computation(source, function, tuple(exists_for))
        known = DIFFICULTY_SCORES.get(name)
        if known is None:
            description = (function.__doc__ or name).strip().splitlines()[0]
            DIFFICULTY_SCORES[name] = DifficultyScore(name, hard, description, (computation,),
                                                      switch, spread)
        elif known.hard != hard or set(known.exists_for) & set(exists_for):
            raise ValueError(f"difficulty {name!r} is registered already (another direction, "
                             "or for the same populations)")
        else:
            DIFFICULTY_SCORES[name] = DifficultyScore(
                name, hard, known.description, (*known.computations, computation),
                known.switch, known.spread)
        return function

    return add


def unregister_difficulty(name: str) -> None:
    """Remove a registered score (tests and plugins that add one for a while)."""
    del DIFFICULTY_SCORES[name]


def scores_from(source: str, origins: tuple[str, ...]
                ) -> list[tuple[DifficultyScore, Computation]]:
    """Every score computed from ``source`` for any of ``origins``, in registry order."""
    found = []
    for score in DIFFICULTY_SCORES.values():
        computation = next((c for o in origins if (c := score.computation(o)) is not None),
                           None)
        if computation is not None and computation.source == source:
            found.append((score, computation))
    return found


def oriented(values: np.ndarray, hard: str) -> np.ndarray:
    """``values`` turned so that higher means harder."""
    return values if hard == "high" else -values


# --------------------------------------------------------------------------------------
# At the early checkpoint (trained models)
# --------------------------------------------------------------------------------------


@register_difficulty("el2n", hard="high", exists_for=(TRAINED,), source=EARLY_CHECKPOINT,
                     spread=True)
def early_el2n(early: EarlyCheckpoint) -> torch.Tensor:
    """EL2N: ‖p − y‖₂ at the dense models' early checkpoint (Paul et al. 2021)."""
    return el2n(early.logits, early.data.labels, early.data.kind)


@register_difficulty("grand", hard="high", exists_for=(TRAINED,), source=EARLY_CHECKPOINT,
                     switch="grand")
def early_grand(early: EarlyCheckpoint) -> torch.Tensor:
    """GraNd: the norm of each example's loss gradient at the early checkpoint."""
    return grand_scores(early.model, early.data, early.device)


# --------------------------------------------------------------------------------------
# From the dense population's final predictions
# --------------------------------------------------------------------------------------


@register_difficulty("el2n", hard="high", exists_for=(IMPORTED, LLM), source=FINAL_PREDICTIONS,
                     spread=True)
def final_el2n(final: FinalPredictions) -> np.ndarray:
    """EL2N-like: ‖p − y‖₂ of the final probabilities (without logits: √2 × wrong)."""
    if final.logits is None:
        return np.sqrt(2) * ~final.correct
    if final.kind is LabelKind.MULTI:
        return np.linalg.norm(expit(final.logits) - final.labels[None], axis=2)
    probs = softmax(final.logits, axis=2)
    probs[np.arange(probs.shape[0])[:, None], np.arange(probs.shape[1]), final.labels] -= 1.0
    return np.linalg.norm(probs, axis=2)


@register_difficulty("dense_loss", hard="high", exists_for=(TRAINED, IMPORTED, LLM),
                     source=FINAL_PREDICTIONS)
def final_loss(final: FinalPredictions) -> np.ndarray | None:
    """Final dense loss: each dense model's loss on the example, mean over seeds."""
    return final.loss


@register_difficulty("dense_agreement", hard="low", exists_for=(TRAINED, IMPORTED, LLM),
                     source=FINAL_PREDICTIONS)
def dense_agreement(final: FinalPredictions) -> np.ndarray:
    """Dense agreement: share of the dense models giving the modal answer."""
    if final.kind is LabelKind.MULTI:
        return majority_votes(final.preds)[2]
    return modal_answers(final.preds)[2]


@register_difficulty("modal_confidence", hard="low", exists_for=(TRAINED, IMPORTED, LLM),
                     source=FINAL_PREDICTIONS)
def modal_confidence(final: FinalPredictions) -> np.ndarray | None:
    """Modal confidence: each dense model's probability of the modal answer, mean."""
    if final.logits is None:
        return None
    if final.kind is LabelKind.MULTI:  # per class, the probability of the majority vote
        on = majority_votes(final.preds)[0]
        probs = expit(final.logits)
        return np.where(on[None], probs, 1.0 - probs).mean(axis=2)
    modal = modal_answers(final.preds)[0]
    probs = softmax(final.logits, axis=2)
    return probs[:, np.arange(probs.shape[1]), modal]


@register_difficulty("choice_margin", hard="low", exists_for=(TRAINED, IMPORTED, LLM),
                     source=FINAL_PREDICTIONS)
def choice_margin(final: FinalPredictions) -> np.ndarray | None:
    """Choice margin: score of the right choice minus the best wrong one, mean."""
    if final.logits is None or final.kind is not LabelKind.SINGLE:
        return None
    rows = np.arange(final.logits.shape[1])
    right = final.logits[:, rows, final.labels]
    wrong = final.logits.copy()
    wrong[:, rows, final.labels] = -np.inf
    margin = right - wrong.max(axis=2)
    return np.where(np.isfinite(margin), margin, np.nan)  # one choice: no wrong one


# --------------------------------------------------------------------------------------
# From the training records (trained models, train split)
# --------------------------------------------------------------------------------------


@register_difficulty("forgetting_events", hard="high", exists_for=(TRAINED,),
                     source=TRAINING_RECORD)
def forgetting(learned: np.ndarray) -> np.ndarray:
    """Forgetting events: right at one epoch, wrong at the next (Toneva et al. 2019)."""
    return forgetting_events(learned)[0]


@register_difficulty("never_learned_share", hard="high", exists_for=(TRAINED,),
                     source=TRAINING_RECORD)
def never_learned(learned: np.ndarray) -> np.ndarray:
    """Never learned: share of the dense seeds wrong on the example at every epoch."""
    return forgetting_events(learned)[1]
