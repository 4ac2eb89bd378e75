"""A compression method = score × schedule × after-prune × pattern (× scope) (× quantize).

The study's eight methods and the post-training ones are entries of ``BUILTIN_METHODS``;
``config.yaml`` may declare more under ``method_definitions`` with the same keys, no code
needed: ``MethodSpec(**definition)`` takes the plain dict the config holds, and
:func:`definition_problems` says what is wrong with one (the config check shows it).
What each score needs is its entry in ``prune.scores.SCORES``, never a name here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any, Literal

from pieflow.patterns import UNSTRUCTURED, parse_pattern
from pieflow.prune.quantize import QuantizeSpec
from pieflow.prune.scores import NO_PRUNING, SCORES, Score, option_owners, unknown_score

Schedule = Literal["iterative", "at_init", "post_training"]
AfterPrune = Literal["continue", "rewind"]


class MethodError(ValueError):
    """A method pieflow refuses. ``key``: the key at fault, which the message starts
    with (the config check shows it as ``method_definitions.<name>.<key>: …``), or None
    when the message names what is wrong itself."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key


def keys_not_applying(score: str, schedule: str, after_prune: str) -> dict[str, str]:
    """Keys that mean nothing for a method of this score, schedule and after_prune, each
    with where it applies (``prunes`` → ``applies only to schedule: iterative``)."""
    out: dict[str, str] = {}
    if schedule != "iterative":
        out["prunes"] = out["rewind_epoch"] = "applies only to schedule: iterative"
    elif after_prune != "rewind":
        out["rewind_epoch"] = "applies only to after_prune: rewind"
    if schedule != "post_training":
        out["recover_epochs"] = "applies only to schedule: post_training"
    for key, owners in option_owners().items():
        if score not in owners:
            out[key] = f"applies only to score: {' / '.join(owners)}"
    return out


def definition_problems(definition: Mapping[str, Any]) -> list[MethodError]:
    """What is wrong with a method definition as a config holds it (plain values, keys
    left out taking their defaults): every key set that does not apply, then the first
    rule of :class:`MethodSpec` the other keys break. Empty if it defines a method."""
    score = definition.get("score")
    if "score" in definition and score != NO_PRUNING and score not in SCORES:
        return [MethodError(unknown_score(score), "score")]
    not_applying = keys_not_applying(score, definition.get("schedule"),
                                     definition.get("after_prune", "continue"))
    found = [MethodError(reason, key) for key, reason in not_applying.items()
             if key in definition]
    try:
        MethodSpec(**{k: v for k, v in definition.items() if k not in not_applying})
    except MethodError as err:
        found.append(err)
    except (TypeError, ValueError) as err:  # keys the schema refuses first
        found.append(MethodError(str(err)))
    return found


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
    activations calibrated scores (Wanda, SparseGPT) and GPTQ read. ``quantize``: a
    :class:`QuantizeSpec` (or its dict), applied after the last training; score ``none``
    quantizes only.

    What a score needs (calibration, scope ``layer``, its own keys) comes from its entry
    in ``prune.scores.SCORES``. A key that does not apply must keep its default; every
    refusal is a :class:`MethodError`.
    """

    score: str  # a name in scores.SCORES, or "none"
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
        if self.score != NO_PRUNING and self.score not in SCORES:
            raise MethodError(unknown_score(self.score), "score")
        if self.schedule not in ("iterative", "at_init", "post_training"):
            raise MethodError(f"unknown schedule {self.schedule!r} (expected "
                              "'iterative', 'at_init' or 'post_training')")
        if self.after_prune not in ("continue", "rewind"):
            raise MethodError(f"unknown after_prune {self.after_prune!r}")
        if self.scope not in ("layer", "global"):
            raise MethodError(f"unknown scope {self.scope!r}")
        if isinstance(self.quantize, dict):
            try:
                object.__setattr__(self, "quantize", QuantizeSpec(**self.quantize))
            except TypeError as err:
                raise MethodError(str(err), "quantize") from err
            except ValueError as err:  # names quantize.<key> itself
                raise MethodError(str(err)) from err
        elif self.quantize is not None and not isinstance(self.quantize, QuantizeSpec):
            raise MethodError(f"must be a mapping or null, got {self.quantize!r}", "quantize")
        if self.prunes is None:
            object.__setattr__(self, "prunes", self._implied_prunes)
        self._check_keys_apply()
        if self.prunes < 1:
            raise MethodError("prunes must be at least 1")
        if self.rewind_epoch < 0:
            raise MethodError("rewind_epoch must be 0 (initialisation) or a later epoch")
        if self.recover_epochs < 0:
            raise MethodError("recover_epochs must be 0 or more")
        self._check_score_fits()
        if self.calibration_examples < 1:
            raise MethodError("calibration_examples must be at least 1")

    @property
    def _implied_prunes(self) -> int:
        # at_init prunes once too, but has always been recorded as 3 (Snakemake params)
        return 1 if self.schedule == "post_training" else 3

    def _check_keys_apply(self) -> None:
        if self.after_prune == "rewind" and self.schedule != "iterative":
            raise MethodError(f"'rewind' needs schedule: iterative (schedule {self.schedule} "
                              "prunes once: there is nothing to rewind)", "after_prune")
        for key, reason in keys_not_applying(self.score, self.schedule,
                                             self.after_prune).items():
            unset = self._implied_prunes if key == "prunes" else _DEFAULTS[key]
            if getattr(self, key) != unset:
                raise MethodError(reason, key)

    def _check_score_fits(self) -> None:
        entry = self.score_entry
        if self.schedule != "post_training" and (entry is None or entry.calibrated):
            why = ("it compresses a trained model once" if entry is None
                   else "it reads calibration activations of a trained model")
            raise MethodError(f"score {self.score!r} needs schedule 'post_training' ({why})")
        if entry is None and self.quantize is None:
            raise MethodError("score 'none' without quantize compresses nothing (that is "
                              "the dense model)")
        try:
            nm = parse_pattern(self.pattern)
        except ValueError as err:  # names the pattern itself
            raise MethodError(str(err)) from err
        if nm is not None and self.scope != "layer":
            raise MethodError(f"pattern {self.pattern!r} is per group of weights: use "
                              "scope 'layer'")
        if nm is not None and entry is None:
            raise MethodError("score 'none' prunes nothing, so it takes no pattern")
        if entry is not None and entry.layer_only and self.scope != "layer":
            raise MethodError(f"score {self.score!r} compares weights within a layer: "
                              "use scope 'layer'")

    @property
    def score_entry(self) -> Score | None:
        """The score's registry entry (what it needs); None for ``none``."""
        return None if self.score == NO_PRUNING else SCORES[self.score]

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
        """Reads activations of Linear inputs (a calibrated score such as Wanda or
        SparseGPT, or GPTQ): undefined for LSTM weights and LayerNorm gains."""
        gptq = self.quantize is not None and self.quantize.scheme == "gptq"
        entry = self.score_entry
        return gptq or (entry is not None and entry.calibrated)

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


_DEFAULTS = {f.name: f.default for f in fields(MethodSpec) if f.default is not MISSING}
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


def method_definition(config: Mapping[str, Any], method: str) -> dict[str, Any]:
    """The full definition of ``method`` as plain values: the config's
    ``method_definitions.<method>``, else the built-in one."""
    definitions = config.get("method_definitions") or {}
    if method in definitions:
        return dict(definitions[method])
    return BUILTIN_METHODS[method].as_params()
