"""The config check (schema, then :mod:`pieflow.config_checks`), the per-rule views of
the config, and the command line check ``python -m pieflow.config FILE…``.

Each rule receives only the parameters it uses (``training_params``, ``inference_params``,
…), so Snakemake's params rerun-trigger reruns exactly the cells a change affects: a new
BiLSTM learning rate retrains BiLSTM cells and no encoder cell.

The top of the config modules: :mod:`pieflow.config_errors` (messages, YAML, schema) <
:mod:`pieflow.config_checks` < this module; none of them imports this one.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from pieflow.config_checks import grid_problems, model_spec, problems
from pieflow.config_errors import (
    ConfigError,
    load_yaml,
    schema_problems,
    summary,
    with_schema_defaults,
)
from pieflow.imports.files import locate_samples, table_columns
from pieflow.imports.spec import ImportSpec
from pieflow.imports.spec import import_specs as _entries
from pieflow.layout import CONTROL, DENSE, Cell
from pieflow.llm import spec as llm_spec
from pieflow.prune.methods import MethodSpec, method_definition

# ConfigError lives in config_errors (light to import) and model_spec in config_checks
# (its checks need it); pieflow.config.ConfigError and pieflow.config.model_spec are them.

# Keys of a model entry that shape its weights (any change retrains it).
_TRAINING_KEYS = ("family", "pretrained", "revision", "vectors", "hidden_size", "trust_remote_code",
                  "epochs", "lr", "batch_size", "el2n_epoch", "max_length")
# Keys needed to rebuild and run a trained model.
_INFERENCE_KEYS = ("family", "pretrained", "revision", "vectors", "hidden_size",
                   "trust_remote_code", "max_length", "predict_batch_size")


def check_config(config: dict[str, Any], schema: str | None = None) -> None:
    """Refuse a bad config before any job runs: a :class:`ConfigError` of one to three
    lines, each ``<key path>: <what is wrong>``. First the schema (``schema``: its path;
    default: the repository's ``workflow/schemas/config.schema.yaml``), then what a
    schema cannot express (:mod:`pieflow.config_checks`): names, files and folders,
    keys that do not apply, epochs, on a copy with the schema's defaults filled in.
    Call it before Snakemake's ``validate`` (whose messages are less readable)."""
    found = (schema_problems(config, schema) or grid_problems(config)
             or problems(with_grid_defaults(with_schema_defaults(config, schema))))
    if found:
        raise ConfigError(summary(found)) from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pieflow.config FILE…``: check config files one by one outside
    Snakemake (each as a whole config, as with ``--configfile FILE
    --replace-workflow-config``; e.g. one Snakemake cannot read, since it loads those
    before the Snakefile runs). Exit status 1 if any is refused."""
    status = 0
    for path in argv if argv is not None else sys.argv[1:]:
        try:
            check_config(load_yaml(path))
        except ConfigError as err:
            print(f"{path}: refused\n{err}", file=sys.stderr)
            status = 1
        else:
            print(f"{path}: ok")
    return status


# A config of imported predictions only has no trained grid; these stand in for its keys.
GRID_DEFAULTS: dict[str, Any] = {"datasets": {}, "models": {}, "methods": [],
                                 "sparsities": [], "seeds": 0}


def with_grid_defaults(config: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy with an empty trained grid where the config has none, so every
    view below reads ``config["models"]`` alike."""
    return {**GRID_DEFAULTS, **config}


def seeds(config: dict[str, Any]) -> list[int]:
    return list(range(config["seeds"]))


def method_sparsities(config: dict[str, Any], method: str, sparsities: list[int]) -> list[int]:
    """The sparsities a method runs at: the configured list, or the one its pattern or
    quantization fixes (2:4 → 50, quantization alone → 0) whatever the list says."""
    fixed = MethodSpec(**method_params(config, method)).fixed_sparsity
    return [int(s) for s in sparsities] if fixed is None else [fixed]


def pruned_cells(config: dict[str, Any]) -> list[Cell]:
    """Every (dataset, model, method, sparsity) compressed cell the config asks for."""
    cells = []
    for dataset in config["datasets"]:
        for model, spec in config["models"].items():
            for method in spec.get("methods", config["methods"]):
                wanted = spec.get("sparsities", config["sparsities"])
                for sparsity in method_sparsities(config, method, wanted):
                    cells.append(Cell(dataset, model, method, sparsity))
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


def _model_view(config: dict[str, Any], dataset: str, model: str, keys) -> dict[str, Any]:
    spec = model_spec(config, dataset, model)
    return {key: spec[key] for key in keys if key in spec}


def dataset_params(config: dict[str, Any], dataset: str) -> dict[str, Any]:
    """Rule prepare_dataset: the dataset's entry less ``max_length``, which only the
    models read (a new max_length re-tokenises; it does not re-prepare the data)."""
    return {k: v for k, v in config["datasets"][dataset].items() if k != "max_length"}


def training_params(config: dict[str, Any], dataset: str, model: str) -> dict[str, Any]:
    return _model_view(config, dataset, model, _TRAINING_KEYS)


def inference_params(config: dict[str, Any], dataset: str, model: str) -> dict[str, Any]:
    return _model_view(config, dataset, model, _INFERENCE_KEYS)


def method_params(config: dict[str, Any], method: str) -> dict[str, Any]:
    """The full definition of a method, built-in or user-declared, as plain values."""
    return method_definition(config, method)


def is_iterative(config: dict[str, Any], method: str) -> bool:
    return method_params(config, method)["schedule"] == "iterative"


def compression_kinds(config: dict[str, Any]) -> dict[str, str]:
    """Method → kind of compression (``pruning during training``, ``post-training
    pruning``, ``quantization``, …) for every population of the config, for the tables."""
    methods = {m for spec in config["models"].values()
               for m in spec.get("methods", config["methods"])}
    kinds = {DENSE: "none (dense)", CONTROL: "none (training-budget control)"}
    kinds.update({m: MethodSpec(**method_params(config, m)).compression for m in methods})
    for llm in llm_spec.llm_specs(config).values():  # pretrained LLMs: after training
        kinds.update({m: MethodSpec(**method_params(config, m)).compression
                      for m in llm.methods})
        kinds.update({m: kinds.get(m, LLM_CHECKPOINT_KIND) for m in llm.checkpoints})
    for spec in import_specs(config):  # a pieflow method's name says its kind
        kinds.update({p.method: kinds.get(p.method, IMPORTED_KIND) for p in spec.compressed})
    return dict(sorted(kinds.items()))


# --------------------------------------------------------------------------------------
# Imported predictions (pieflow.imports)
# --------------------------------------------------------------------------------------

IMPORTED_KIND = "imported"
LLM_CHECKPOINT_KIND = "compressed elsewhere"


def imported_cells(config: dict[str, Any]) -> tuple[list[Cell], list[Cell]]:
    """The imported dense cells and the imported compressed cells."""
    specs = import_specs(config)
    return ([s.cell(s.dense) for s in specs],
            [s.cell(p) for s in specs for p in s.compressed])


def imported_spec(config: dict[str, Any], dataset: str, model: str) -> ImportSpec:
    return next(s for s in import_specs(config) if (s.dataset, s.model) == (dataset, model))


def imported_only_datasets(config: dict[str, Any]) -> list[str]:
    """Datasets that only imported entries name: the import writes their data files."""
    return list(dict.fromkeys(s.dataset for s in import_specs(config)
                              if s.dataset not in config["datasets"]))


def datasets_with_texts(config: dict[str, Any]) -> list[str]:
    """Trained datasets, and imported ones whose every entry gives texts."""
    entries: dict[str, list[ImportSpec]] = {}
    for spec in import_specs(config):
        entries.setdefault(spec.dataset, []).append(spec)
    return [*config["datasets"], *(d for d in imported_only_datasets(config)
                                   if all(s.has_texts(table_columns) for s in entries[d]))]


def import_dataset_params(config: dict[str, Any], dataset: str) -> list[dict[str, Any]]:
    """Rule import_dataset: every entry on the dataset, each population's files and seeds
    (the paths are its inputs, in this order)."""
    return [{**spec.reading(), "texts": spec.texts, "populations": [
        {"where": p.where, "paths": p.paths(), "seeds": p.seeds()}
        for p in spec.populations]}
        for spec in import_specs(config) if spec.dataset == dataset]


def import_dataset_files(config: dict[str, Any], dataset: str) -> list[str]:
    return [path for entry in import_dataset_params(config, dataset)
            for population in entry["populations"] for path in population["paths"]
            ] + [s.texts for s in import_specs(config) if s.dataset == dataset and s.texts]


def import_cell_params(config: dict[str, Any], cell: Cell) -> dict[str, Any]:
    """Rule import_predictions: how to read one imported population's files."""
    spec = imported_spec(config, cell.dataset, cell.model)
    population = spec.population(cell.method, cell.sparsity)
    return {**spec.reading(), "where": population.where, "seeds": population.seeds()}


def starts_from_dense(config: dict[str, Any], method: str) -> bool:
    """Iterative and post-training methods continue from the trained dense seed."""
    return method_params(config, method)["schedule"] in ("iterative", "post_training")


if __name__ == "__main__":
    sys.exit(main())


def import_specs(config: dict[str, Any]) -> list[ImportSpec]:
    """The ``imported`` entries, each lm-eval folder or glob resolved to its samples file
    (a folder listing while the DAG is built; the config check refuses ambiguity first),
    then one entry per task × pretrained LLM over its members' samples files
    (:mod:`pieflow.llm.spec`), which rules/llm.smk writes."""
    return [*_entries(config, locate=locate_samples), *llm_spec.import_specs(config)]
