"""Checks the schema cannot express, and the per-rule views of the config.

Each rule receives only the parameters it uses (``training_params``, ``inference_params``,
…), so Snakemake's params rerun-trigger reruns exactly the cells a change affects: a new
BiLSTM learning rate retrains BiLSTM cells and no encoder cell.
"""

from __future__ import annotations

from typing import Any

from pieflow.layout import CONTROL, DENSE, VECTORS_DIR, Cell, fill
from pieflow.prune.methods import BUILTIN_METHODS, MethodSpec

# Keys of a model entry that shape its weights (any change retrains it).
_TRAINING_KEYS = ("family", "pretrained", "vectors", "hidden_size", "trust_remote_code",
                  "epochs", "lr", "batch_size", "el2n_epoch", "max_length")
# Keys needed to rebuild and run a trained model.
_INFERENCE_KEYS = ("family", "pretrained", "vectors", "hidden_size", "trust_remote_code",
                   "max_length", "predict_batch_size")


class ConfigError(ValueError):
    """A config value pieflow refuses, with the offending key in the message."""


def check_config(config: dict[str, Any]) -> None:
    """Refuse, before any job runs, what JSON schema cannot catch."""
    definitions = config.get("method_definitions") or {}
    for name, definition in definitions.items():
        if name in (DENSE, CONTROL):
            raise ConfigError(f"method_definitions.{name}: {name!r} names an unpruned "
                              "population")
        try:
            MethodSpec(**definition)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"method_definitions.{name}: {err}") from err
    known = set(BUILTIN_METHODS) | set(definitions)

    def check_methods(methods: list[str], where: str) -> None:
        for method in methods:
            if method not in known:
                raise ConfigError(f"{where}: unknown method {method!r}; known methods: "
                                  f"{', '.join(sorted(known))}")

    def check_sparsities(values: list[Any], where: str) -> None:
        for value in values:
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 100:
                raise ConfigError(f"{where}: sparsity {value!r} must be an integer percent "
                                  "in [0, 100)")

    check_methods(config["methods"], "methods")
    check_sparsities(config["sparsities"], "sparsities")
    seeds = config["seeds"]
    if not isinstance(seeds, int) or seeds < 2:
        raise ConfigError(f"seeds: {seeds!r}; a population needs at least 2 seeds")
    for name, model in config["models"].items():
        for dataset in model.get("per_dataset") or {}:
            if dataset not in config["datasets"]:
                raise ConfigError(f"models.{name}.per_dataset: unknown dataset {dataset!r}")
        check_methods(model.get("methods", []), f"models.{name}.methods")
        check_sparsities(model.get("sparsities", []), f"models.{name}.sparsities")
    if "test" not in config["splits"]:
        raise ConfigError("splits: must include 'test'")


def seeds(config: dict[str, Any]) -> list[int]:
    return list(range(config["seeds"]))


def pruned_cells(config: dict[str, Any]) -> list[Cell]:
    """Every (dataset, model, method, sparsity) pruned cell the config asks for."""
    cells = []
    for dataset in config["datasets"]:
        for model, spec in config["models"].items():
            for method in spec.get("methods", config["methods"]):
                for sparsity in spec.get("sparsities", config["sparsities"]):
                    cells.append(Cell(dataset, model, method, int(sparsity)))
    return cells


def iterative_methods(config: dict[str, Any], model: str | None = None) -> list[str]:
    """The iterative methods configured (for one model, or for any), sorted."""
    models = [model] if model else list(config["models"])
    names = {method for m in models
             for method in config["models"][m].get("methods", config["methods"])}
    return sorted(name for name in names if is_iterative(config, name))


def control_cells(config: dict[str, Any]) -> list[Cell]:
    """The training-budget control of every model with iterative methods (one per model,
    shared by its iterative methods), unless ``training_budget_control`` is off."""
    if not config.get("training_budget_control", True):
        return []
    return [Cell.control(dataset, model) for dataset in config["datasets"]
            for model in config["models"] if iterative_methods(config, model)]


def control_prunes(config: dict[str, Any], model: str) -> int:
    """Prunes of the model's iterative schedules: the control trains (prunes + 1)·E
    epochs. Methods with different numbers of prunes share the longest budget."""
    return max(MethodSpec(**method_params(config, name)).prunes
               for name in iterative_methods(config, model))


def uses_vector_file(config: dict[str, Any], model: str) -> bool:
    """A BiLSTM over a GloVe-format file (prepared per dataset by ``prepare_vectors``)."""
    spec = config["models"][model]
    return spec["family"] == "bilstm" and spec.get("vectors", "embedded") != "embedded"


def model_spec(config: dict[str, Any], dataset: str, model: str) -> dict[str, Any]:
    """A model's entry with its ``per_dataset`` overrides for ``dataset`` applied (the
    study tuned epochs, learning rate and batch size per dataset)."""
    spec = {k: v for k, v in config["models"][model].items() if k != "per_dataset"}
    spec.update((config["models"][model].get("per_dataset") or {}).get(dataset, {}))
    spec.setdefault("max_length", config["datasets"][dataset].get("max_length", 128))
    return spec


def _model_view(config: dict[str, Any], dataset: str, model: str, keys) -> dict[str, Any]:
    spec = model_spec(config, dataset, model)
    view = {key: spec[key] for key in keys if key in spec}
    if uses_vector_file(config, model):
        view["word_vectors"] = fill(VECTORS_DIR, dataset=dataset, model=model)
    return view


def training_params(config: dict[str, Any], dataset: str, model: str) -> dict[str, Any]:
    return _model_view(config, dataset, model, _TRAINING_KEYS)


def inference_params(config: dict[str, Any], dataset: str, model: str) -> dict[str, Any]:
    return _model_view(config, dataset, model, _INFERENCE_KEYS)


def method_params(config: dict[str, Any], method: str) -> dict[str, Any]:
    """The full definition of a method, built-in or user-declared, as plain values."""
    definitions = config.get("method_definitions") or {}
    if method in definitions:
        return dict(definitions[method])
    spec = BUILTIN_METHODS[method]
    return {key: getattr(spec, key) for key in spec.__dataclass_fields__}


def is_iterative(config: dict[str, Any], method: str) -> bool:
    return method_params(config, method)["schedule"] == "iterative"
