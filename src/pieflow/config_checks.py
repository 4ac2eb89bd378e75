"""What the schema cannot express, checked before any job runs.

Each check yields one line per problem, ``<key path>: <what is wrong>``. They assume a
config the schema accepts (:func:`pieflow.config.check_config` runs the schema first).
Relative paths are read from the working directory, as the jobs read them.

Layering: :mod:`pieflow.config_errors` (messages, YAML, schema) < this module (which
also asks ``pieflow.prune.methods`` and ``pieflow.imports.checks``) <
:mod:`pieflow.config` (the check as a whole, and the per-rule views); nothing here
imports :mod:`pieflow.config`. A method definition's rules are ``MethodSpec``'s own
(:func:`pieflow.prune.methods.definition_problems`): this module only says where.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pieflow.config_errors import did_you_mean
from pieflow.imports import checks as import_checks
from pieflow.layout import CONTROL, DENSE
from pieflow.llm import checks as llm_checks
from pieflow.prune.methods import BUILTIN_METHODS, MethodSpec, definition_problems

# Keys each dataset source reads (pieflow.data.prepare / pieflow.data.sources); every
# source also reads source, max_examples and max_length.
SOURCE_KEYS = {
    "embedded-tweets": {"split_fractions"},
    "hub": {"hub_id", "config_name", "revision", "columns", "splits", "drop_labels",
            "validation_fraction"},
    "files": {"files", "format", "columns", "drop_labels", "validation_fraction"},
    "parquet": {"path"},
}
_COMMON_SOURCE_KEYS = {"source", "max_examples", "max_length"}
# Keys of a model entry that only some families read (the Hugging Face ones: bert, any
# encoder; decoder, any causal LM).
FAMILY_KEYS: dict[str, tuple[str, ...]] = {
    "pretrained": ("bert", "decoder"), "trust_remote_code": ("bert", "decoder"),
    "revision": ("bert", "decoder"), "vectors": ("bilstm",), "hidden_size": ("bilstm",)}
# A Hugging Face repository id: ``name`` or ``org/name``.
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")


def problems(config: dict[str, Any]) -> list[str]:
    """Every problem of a config the schema accepts, its grid keys filled in
    (:func:`pieflow.config.with_grid_defaults`)."""
    found: list[str] = []
    for check in (_method_definitions, _method_lists, _calibrated_methods, _splits,
                  _datasets, _models, _epochs, import_checks.problems,
                  llm_checks.problems):
        found.extend(check(config))
    return found


GRID_KEYS = ("datasets", "models", "methods", "sparsities", "seeds")


def grid_problems(config: dict[str, Any]) -> list[str]:
    """A trained grid needs all its keys; a config without one needs imported
    predictions or pretrained LLMs (which may use ``datasets`` alone, as tasks)."""
    present = [key for key in GRID_KEYS if key in config]
    if config.get("llms") and present == ["datasets"]:
        return []
    if present or not (config.get("imported") or config.get("llms")):
        return [f"top level: missing key {key!r} (a trained grid needs datasets, models, "
                "methods, sparsities and seeds; a config without one needs imported "
                "predictions or llms)" for key in GRID_KEYS if key not in present]
    return []


# --------------------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------------------


def _method_definitions(config: dict[str, Any]) -> Iterator[str]:
    for name, definition in (config.get("method_definitions") or {}).items():
        where = f"method_definitions.{name}"
        if name in BUILTIN_METHODS:
            yield (f"{where}: {name!r} is a built-in method; give your definition another "
                   f"name (e.g. {name}-mine)")
        elif name in (DENSE, CONTROL):
            yield f"{where}: {name!r} names an unpruned population; choose another name"
        else:
            for problem in definition_problems(definition):
                yield f"{where}.{problem}" if problem.key else f"{where}: {problem}"


def _method_lists(config: dict[str, Any]) -> Iterator[str]:
    known = list(BUILTIN_METHODS) + list(config.get("method_definitions") or {})
    lists = [("methods", config["methods"])] + [
        (f"models.{model}.methods", spec["methods"])
        for model, spec in config["models"].items() if "methods" in spec]
    for where, methods in lists:
        for index, method in enumerate(methods):
            if method not in known:
                yield (f"{where}[{index}]: unknown method {method!r}" + (
                    did_you_mean(method, known) or f"; known methods: "
                    f"{', '.join(sorted(known))} (declare new ones under method_definitions)"))


def _calibrated_methods(config: dict[str, Any]) -> Iterator[str]:
    """Wanda, SparseGPT and GPTQ read the inputs of Linear layers: a BiLSTM's LSTM
    matrices and the study's LayerNorm gains have none."""
    definitions = config.get("method_definitions") or {}
    for model, spec in config["models"].items():
        for method in spec.get("methods", config["methods"]):
            definition = definitions.get(method)
            try:
                method_spec = (MethodSpec(**definition) if definition is not None
                               else BUILTIN_METHODS.get(method))
            except (TypeError, ValueError):
                continue  # reported by _method_definitions
            if method_spec is None or not method_spec.needs_calibration:
                continue
            if spec["family"] == "bilstm":
                yield (f"models.{model}: method {method!r} reads the inputs of Linear "
                       "layers, which a BiLSTM's LSTM weights have none of; use a "
                       "magnitude method (e.g. mag-pt, mag-pt-2of4, int8) for it")
            elif config["prunable"] == "study":
                yield (f"prunable: study holds LayerNorm gains, which method {method!r} "
                       "(it reads the inputs of Linear layers) cannot prune; use "
                       "prunable: default for it")


def _splits(config: dict[str, Any]) -> Iterator[str]:
    if "test" not in config["splits"]:
        yield (f"splits: {config['splits']!r} must include 'test' (the PIEs are found on "
               "it)")


# --------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------


def _datasets(config: dict[str, Any]) -> Iterator[str]:
    for name, spec in config["datasets"].items():
        where = f"datasets.{name}"
        source = spec["source"]
        for key in spec:
            if key not in _COMMON_SOURCE_KEYS | SOURCE_KEYS[source]:
                users = [s for s, keys in SOURCE_KEYS.items() if key in keys]
                yield (f"{where}.{key}: does not apply to source: {source} (only to "
                       f"source: {' / '.join(users)})")
        if "split_fractions" in spec:
            total = math.fsum(spec["split_fractions"].values())
            if abs(total - 1) > 1e-9:
                yield f"{where}.split_fractions: sum to {total:g}, not 1"
        columns = spec.get("columns") or {}
        if "label" in columns and "labels" in columns:
            yield (f"{where}.columns: set 'label' (single-label) or 'labels' (multi-label), "
                   "not both")
        if source == "files":
            for split, path in spec["files"].items():
                if not Path(path).is_file():
                    yield f"{where}.files.{split}: no file {path}{_looked_in(path)}"
        elif source == "parquet":
            yield from _prepared_folder(f"{where}.path", spec["path"])
        elif source == "hub":
            yield from _hub_reference(f"{where}.hub_id", spec["hub_id"], "dataset")


def _prepared_folder(where: str, folder: str) -> Iterator[str]:
    if not Path(folder).is_dir():
        yield f"{where}: no folder {folder}{_looked_in(folder)}"
        return
    missing = [name for name in ("classes.json", "train.parquet", "validation.parquet",
                                 "test.parquet") if not (Path(folder) / name).is_file()]
    if missing:
        yield (f"{where}: {folder} has no {', '.join(missing)} (a prepared folder holds "
               "classes.json and {train,validation,test}.parquet)")


def _looks_like_path(ref: str) -> bool:
    return ref.startswith(("/", "./", "../", "~", ".\\")) or os.path.isdir(ref)


def _looked_in(path: str) -> str:
    """Where a relative path was looked for, and that ``~`` is not expanded."""
    if path.startswith("~"):
        return " ('~' is not expanded: write the full path)"
    if not os.path.isabs(path):
        return f" (looked for {os.path.abspath(path)})"
    return ""


def _hub_reference(where: str, ref: str, kind: str) -> Iterator[str]:
    """A local folder that exists, or something shaped like a hub id."""
    if _looks_like_path(ref):
        if not os.path.isdir(ref):
            yield f"{where}: no folder {ref}{_looked_in(ref)}"
        elif kind == "model" and not (Path(ref) / "config.json").is_file():
            yield (f"{where}: {ref} has no config.json (a local model folder is what "
                   "save_pretrained writes)")
    elif not _HUB_ID.match(ref) or ".." in ref or "--" in ref:
        yield (f"{where}: {ref!r} is neither a hub id ('name' or 'org/name') nor an "
               "existing folder")


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------


def model_spec(config: dict[str, Any], dataset: str, model: str) -> dict[str, Any]:
    """A model's entry with its ``per_dataset`` overrides for ``dataset`` applied (the
    study tuned epochs, learning rate and batch size per dataset); also
    ``pieflow.config.model_spec``, the view the jobs get."""
    spec = {k: v for k, v in config["models"][model].items() if k != "per_dataset"}
    spec.update((config["models"][model].get("per_dataset") or {}).get(dataset, {}))
    if "max_length" in config["datasets"][dataset]:  # always, once validate() filled it
        spec.setdefault("max_length", config["datasets"][dataset]["max_length"])
    return spec


def _models(config: dict[str, Any]) -> Iterator[str]:
    for name, spec in config["models"].items():
        where = f"models.{name}"
        for key, families in FAMILY_KEYS.items():
            if key in spec and spec["family"] not in families:
                yield (f"{where}.{key}: applies only to family: {' / '.join(families)} "
                       f"(this model is family: {spec['family']})")
        if "pretrained" in spec and spec["family"] in FAMILY_KEYS["pretrained"]:
            yield from _pretrained(where, spec)
        for dataset in spec.get("per_dataset") or {}:
            if dataset not in config["datasets"]:
                yield (f"{where}.per_dataset: unknown dataset {dataset!r}"
                       f"{did_you_mean(dataset, config['datasets'])}; datasets: "
                       f"{', '.join(config['datasets'])}")


def _pretrained(where: str, spec: dict[str, Any]) -> Iterator[str]:
    """``pretrained``: a hub id or a model folder (``embedded``, MiniLM, is an encoder);
    ``revision`` pins a hub id only."""
    ref = spec["pretrained"]
    if ref == "embedded":
        if spec["family"] == "decoder":
            yield (f"{where}.pretrained: 'embedded' is the MiniLM encoder; family: decoder "
                   "needs a causal LM (a hub id such as Qwen/Qwen2.5-0.5B, or a local "
                   "folder)")
    else:
        yield from _hub_reference(f"{where}.pretrained", ref, "model")
    if "revision" in spec and (ref == "embedded" or _looks_like_path(ref)):
        yield (f"{where}.revision: pins a hub id, but pretrained {ref!r} is "
               f"{'the shipped MiniLM' if ref == 'embedded' else 'a local folder'}; "
               "remove it")


def _epochs(config: dict[str, Any]) -> Iterator[str]:
    """``el2n_epoch`` within the model's epochs, ``rewind_epoch`` before them, for every
    dataset (``per_dataset`` may change either)."""
    definitions = config.get("method_definitions") or {}
    for model, entry in config["models"].items():
        overrides = entry.get("per_dataset") or {}
        methods = entry.get("methods", config["methods"])
        for dataset in config["datasets"]:
            spec = model_spec(config, dataset, model)
            epochs = spec["epochs"]
            on = (f" on dataset {dataset} (per_dataset)"
                  if "epochs" in overrides.get(dataset, {}) else "")
            el2n = spec.get("el2n_epoch")
            if el2n is not None and el2n > epochs:
                key = (f"models.{model}.per_dataset.{dataset}.el2n_epoch"
                       if "el2n_epoch" in overrides.get(dataset, {})
                       else f"models.{model}.el2n_epoch")
                yield (f"{key}: {el2n} is beyond the model's {epochs} epoch"
                       f"{'s' * (epochs != 1)}{on}")
            for method in methods:
                rewind = (definitions.get(method) or {}).get("rewind_epoch", 0)
                if rewind and rewind >= epochs:
                    yield (f"method_definitions.{method}.rewind_epoch: {rewind} is not "
                           f"below the {epochs} epoch{'s' * (epochs != 1)} of model "
                           f"{model}{on} (it rewinds to the dense run after that epoch)")
