"""A compression method = score × schedule × after-prune × pattern (× scope) (× quantize).

The study's eight methods and the post-training ones are entries of ``BUILTIN_METHODS``;
``config.yaml`` may declare more under ``method_definitions`` with the same keys, no code
needed: ``MethodSpec(**definition)`` takes the plain dict the config holds.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

from pieflow.prune.patterns import UNSTRUCTURED, parse_pattern
from pieflow.prune.quantize import QuantizeSpec

Schedule = Literal["iterative", "at_init", "post_training"]
AfterPrune = Literal["continue", "rewind"]
NO_PRUNING = "none"  # the score of a quantization-only method


@dataclass(frozen=True)
class MethodSpec:
    """How to compress: which score, when, what happens after each prune, and where.

    ``prunes``: number of prunes of the iterative schedule (the study: 3, at epochs
    E, 2E, 3E, for 4E epochs in all); None (the default) means 3 there, and 1 for
    ``post_training``, which prunes once (any other value is refused there). ``scope``:
    per-tensor (``layer``, the study) or one ``global`` threshold. ``impact_batches`` ×
    ``impact_batch_size``: the training examples the impact score's gradient is
    accumulated over. ``rewind_epoch``: where ``rewind`` goes back to — 0 is
    initialisation (the study), k > 0 the dense run's weights after epoch k (late
    rewinding, Frankle et al. 2020).

    ``post_training`` compresses the trained dense seed once; ``recover_epochs`` then
    fine-tunes with the masks kept. ``pattern``: ``unstructured`` or ``N:M``, which fixes
    the sparsity at 1 − N/M. ``calibration_examples``: training examples whose
    activations Wanda, SparseGPT and GPTQ read. ``quantize``: a :class:`QuantizeSpec` (or
    its dict), applied after the last training; score ``none`` quantizes only.
    """

    score: str  # a name in scores.SCORES or obs.SOLVERS, or "none"
    schedule: Schedule
    after_prune: AfterPrune = "continue"
    scope: Literal["layer", "global"] = "layer"
    prunes: int | None = None
    impact_batches: int = 10
    impact_batch_size: int = 10
    rewind_epoch: int = 0
    pattern: str = UNSTRUCTURED
    calibration_examples: int = 128
    recover_epochs: int = 0
    quantize: QuantizeSpec | None = None

    def __post_init__(self) -> None:
        from pieflow.prune.obs import SOLVERS
        from pieflow.prune.scores import CALIBRATED_SCORES, SCORES

        known = {*SCORES, *SOLVERS, NO_PRUNING}
        if self.score not in known:
            raise ValueError(f"unknown score {self.score!r}; known scores: "
                             f"{', '.join(sorted(known))}")
        if self.schedule not in ("iterative", "at_init", "post_training"):
            raise ValueError(f"unknown schedule {self.schedule!r} (expected 'iterative', "
                             "'at_init' or 'post_training')")
        if self.after_prune not in ("continue", "rewind"):
            raise ValueError(f"unknown after_prune {self.after_prune!r}")
        if self.scope not in ("layer", "global"):
            raise ValueError(f"unknown scope {self.scope!r}")
        if isinstance(self.quantize, dict):
            try:
                object.__setattr__(self, "quantize", QuantizeSpec(**self.quantize))
            except TypeError as err:
                raise ValueError(f"quantize: {err}") from err
        elif self.quantize is not None and not isinstance(self.quantize, QuantizeSpec):
            raise ValueError(f"quantize must be a mapping or null, got {self.quantize!r}")
        if self.schedule == "post_training":
            self._check_post_training()
        else:
            if self.prunes is None:
                object.__setattr__(self, "prunes", 3)
            if self.score in (*CALIBRATED_SCORES, *SOLVERS, NO_PRUNING):
                raise ValueError(f"score {self.score!r} needs schedule 'post_training' (it "
                                 "compresses a trained model once)")
            if self.recover_epochs:
                raise ValueError("recover_epochs is for schedule 'post_training'")
        if self.prunes < 1:
            raise ValueError("prunes must be at least 1")
        if self.rewind_epoch < 0:
            raise ValueError("rewind_epoch must be 0 (initialisation) or a later epoch")
        nm = parse_pattern(self.pattern)
        if nm is not None and self.scope != "layer":
            raise ValueError(f"pattern {self.pattern!r} is per group of weights: use "
                             "scope 'layer'")
        if nm is not None and self.score == NO_PRUNING:
            raise ValueError("score 'none' prunes nothing, so it takes no pattern")
        if self.score in ("wanda", *SOLVERS) and self.scope != "layer":
            raise ValueError(f"score {self.score!r} compares weights within a layer: use "
                             "scope 'layer'")
        if self.calibration_examples < 1:
            raise ValueError("calibration_examples must be at least 1")

    def _check_post_training(self) -> None:
        if self.after_prune != "continue" or self.rewind_epoch:
            raise ValueError("post_training prunes a trained model once: after_prune "
                             "'rewind' and rewind_epoch mean nothing there")
        if self.prunes not in (None, 1):
            raise ValueError("post_training prunes once: leave prunes out")
        object.__setattr__(self, "prunes", 1)
        if self.recover_epochs < 0:
            raise ValueError("recover_epochs must be 0 or more")
        if self.score == NO_PRUNING and self.quantize is None:
            raise ValueError("score 'none' without quantize compresses nothing (that is "
                             "the dense model)")

    @property
    def total_epoch_multiple(self) -> int:
        """Epochs trained in all, in units of the model's E (plus ``recover_epochs``)."""
        return self.prunes + 1 if self.schedule == "iterative" else 1

    @property
    def starts_from_dense(self) -> bool:
        """Whether the job needs the dense seed's checkpoint (model, optimizer, history)."""
        return self.schedule in ("iterative", "post_training")

    @property
    def fixed_sparsity(self) -> int | None:
        """The only sparsity (integer percent) this method can run at, if any: 0 for a
        quantization-only method, 100·(1 − N/M) for an N:M pattern."""
        if self.score == NO_PRUNING:
            return 0
        nm = parse_pattern(self.pattern)
        return round(100 * nm.sparsity) if nm is not None else None

    @property
    def needs_calibration(self) -> bool:
        """Reads activations of Linear inputs (Wanda, SparseGPT, GPTQ): undefined for
        LSTM weights and LayerNorm gains."""
        from pieflow.prune.obs import SOLVERS
        from pieflow.prune.scores import CALIBRATED_SCORES

        gptq = self.quantize is not None and self.quantize.scheme == "gptq"
        return gptq or self.score in (*CALIBRATED_SCORES, *SOLVERS)

    def check_sparsity(self, target: float) -> None:
        """Refuse a target (share 0–1) the method cannot reach exactly."""
        fixed = self.fixed_sparsity
        if fixed is not None and abs(target - fixed / 100) > 1e-9:
            what = ("a quantization-only method prunes nothing" if self.score == NO_PRUNING
                    else f"pattern {self.pattern} prunes exactly {fixed} %")
            raise ValueError(f"{what}: sparsity {100 * target:g} does not fit; "
                             f"run it at sparsity {fixed} only")

    @property
    def compression(self) -> str:
        """What kind of compression this is, in words a table or a legend can show: the
        kinds hurt different examples, so readers compare them side by side."""
        pruning = {"iterative": "pruning during training", "at_init": "pruning at init",
                   "post_training": "post-training pruning"}[self.schedule]
        if self.score == NO_PRUNING:
            return "quantization"
        return f"{pruning} + quantization" if self.quantize is not None else pruning

    def as_params(self) -> dict[str, Any]:
        """Plain values (``quantize`` as a dict) for Snakemake params; round-trips
        through ``MethodSpec(**params)``."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.quantize is not None:
            out["quantize"] = self.quantize.as_params()
        return out


_INT4 = {"bits": 4, "group_size": 128}

BUILTIN_METHODS: dict[str, MethodSpec] = {
    "imp": MethodSpec("magnitude", "iterative", "continue"),
    "imp-wr": MethodSpec("magnitude", "iterative", "rewind"),
    "mp-ai": MethodSpec("magnitude", "at_init"),
    "iibp": MethodSpec("impact", "iterative", "continue"),
    "iibp-wr": MethodSpec("impact", "iterative", "rewind"),
    "ibp-ai": MethodSpec("impact", "at_init"),
    "irp": MethodSpec("random", "iterative", "continue"),
    "rp-ai": MethodSpec("random", "at_init"),
    # Post-training: compress the trained dense seed once, no retraining.
    "mag-pt": MethodSpec("magnitude", "post_training"),
    "mag-pt-2of4": MethodSpec("magnitude", "post_training", pattern="2:4"),
    "wanda": MethodSpec("wanda", "post_training"),
    "wanda-2of4": MethodSpec("wanda", "post_training", pattern="2:4"),
    "sparsegpt": MethodSpec("sparsegpt", "post_training"),
    "sparsegpt-2of4": MethodSpec("sparsegpt", "post_training", pattern="2:4"),
    "int8": MethodSpec(NO_PRUNING, "post_training", quantize=QuantizeSpec(8)),
    "int4-g128": MethodSpec(NO_PRUNING, "post_training", quantize=QuantizeSpec(**_INT4)),
    "int4-g128-gptq": MethodSpec(NO_PRUNING, "post_training",
                                 quantize=QuantizeSpec(**_INT4, scheme="gptq")),
}
