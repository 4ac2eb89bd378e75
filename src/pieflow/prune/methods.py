"""A pruning method = score × schedule × after-prune (× scope).

The study's eight methods are entries of ``BUILTIN_METHODS``; ``config.yaml`` may declare
more under ``method_definitions`` with the same keys, no code needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Schedule = Literal["iterative", "at_init"]
AfterPrune = Literal["continue", "rewind"]


@dataclass(frozen=True)
class MethodSpec:
    """How to prune: which score, when, what happens after each prune, and where.

    ``prunes``: number of prunes of the iterative schedule (the study: 3, at epochs
    E, 2E, 3E, for 4E epochs in all). ``scope``: per-tensor (``layer``, the study) or one
    ``global`` threshold. ``impact_batches`` × ``impact_batch_size``: the training
    examples the impact score's gradient is accumulated over. ``rewind_epoch``: where
    ``rewind`` goes back to — 0 is initialisation (the study), k > 0 the dense run's
    weights after epoch k (late rewinding, Frankle et al. 2020).
    """

    score: str  # a name in pieflow.prune.scores.SCORES
    schedule: Schedule
    after_prune: AfterPrune = "continue"
    scope: Literal["layer", "global"] = "layer"
    prunes: int = 3
    impact_batches: int = 10
    impact_batch_size: int = 10
    rewind_epoch: int = 0

    def __post_init__(self) -> None:
        from pieflow.prune.scores import SCORES

        if self.score not in SCORES:
            raise ValueError(f"unknown score {self.score!r}; known scores: "
                             f"{', '.join(sorted(SCORES))}")
        if self.schedule not in ("iterative", "at_init"):
            raise ValueError(f"unknown schedule {self.schedule!r}")
        if self.after_prune not in ("continue", "rewind"):
            raise ValueError(f"unknown after_prune {self.after_prune!r}")
        if self.scope not in ("layer", "global"):
            raise ValueError(f"unknown scope {self.scope!r}")
        if self.prunes < 1:
            raise ValueError("prunes must be at least 1")
        if self.rewind_epoch < 0:
            raise ValueError("rewind_epoch must be 0 (initialisation) or a later epoch")

    @property
    def total_epoch_multiple(self) -> int:
        """Epochs trained in all, in units of the model's E."""
        return self.prunes + 1 if self.schedule == "iterative" else 1


BUILTIN_METHODS: dict[str, MethodSpec] = {
    "imp": MethodSpec("magnitude", "iterative", "continue"),
    "imp-wr": MethodSpec("magnitude", "iterative", "rewind"),
    "mp-ai": MethodSpec("magnitude", "at_init"),
    "iibp": MethodSpec("impact", "iterative", "continue"),
    "iibp-wr": MethodSpec("impact", "iterative", "rewind"),
    "ibp-ai": MethodSpec("impact", "at_init"),
    "irp": MethodSpec("random", "iterative", "continue"),
    "rp-ai": MethodSpec("random", "at_init"),
}

