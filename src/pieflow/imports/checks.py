"""Config checks of the ``imported`` entries that the schema cannot express.

One line per problem, ``<key path>: <what is wrong>``, as every config check: names that
clash with trained models, keys that do not apply to a format, file lists that are not
lists of paths (or ``{path, seed}``), files that do not exist or have the wrong suffix,
seeds given twice.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pieflow.imports.files import PredictionsError, locate_samples
from pieflow.imports.spec import FORMAT_KEYS
from pieflow.layout import CONTROL, DENSE

SUFFIXES = {"pieflow": (".parquet",), "table": (".csv", ".parquet"),
            "lm-eval": (".jsonl",)}
_FILE_KEYS = ("path", "seed")
_GLOB = frozenset("*?[")
_POPULATION_KEYS = ("sparsity", "files")


def problems(config: Mapping[str, Any]) -> Iterator[str]:
    trained_models = config.get("models") or {}
    owners: dict[tuple[str, str], str] = {}
    for name, entry in (config.get("imported") or {}).items():
        where = f"imported.{name}"
        model, fmt = entry["model"], entry["format"]
        if model in trained_models:
            yield (f"{where}.model: {model!r} is also a trained model (models.{model}); "
                   "give the imported model a name of its own")
        pair = (entry["dataset"], model)
        if pair in owners:
            yield (f"{where}: dataset {pair[0]!r} and model {model!r} are imported by "
                   f"imported.{owners[pair]} already; list every compressed population of "
                   "a model under one entry")
        owners.setdefault(pair, name)
        for key, formats in FORMAT_KEYS.items():
            if key in entry and fmt not in formats:
                yield (f"{where}.{key}: applies only to format: {' / '.join(formats)} "
                       f"(this entry is format: {fmt})")
        if "texts" in entry and entry["dataset"] in (config.get("datasets") or {}):
            yield (f"{where}.texts: dataset {entry['dataset']!r} is a trained one, whose "
                   "prepared data holds the texts; remove it")
        elif "texts" in entry and not Path(entry["texts"]).is_file():
            yield f"{where}.texts: no file {entry['texts']}{_looked_in(entry['texts'])}"
        task = entry.get("task")
        yield from _files(f"{where}.dense", entry["dense"], fmt, task)
        for method, value in entry["compressed"].items():
            yield from _population(f"{where}.compressed.{method}", method, value, fmt, task)


def _population(where: str, method: str, value: Any, fmt: str,
                task: str | None) -> Iterator[str]:
    if method in (DENSE, CONTROL):
        yield (f"{where}: {method!r} names a population pieflow keeps for its own (the "
               "dense one is the entry's dense files); choose another name")
        return
    if isinstance(value, list):
        yield from _files(where, value, fmt, task)
        return
    unknown = [key for key in value if key not in _POPULATION_KEYS]
    if unknown:
        yield (f"{where}: unknown key {unknown[0]!r}; a compressed population is a list of "
               "files, or {sparsity: <percent>, files: [...]}")
    elif "files" not in value:
        yield f"{where}: missing key 'files'"
    else:
        sparsity = value.get("sparsity", 0)
        if not isinstance(sparsity, int) or isinstance(sparsity, bool) or not (
                0 <= sparsity < 100):
            yield (f"{where}.sparsity: {sparsity!r} is not an integer percent from 0 to 99 "
                   "(it names the cell's folder)")
        yield from _files(f"{where}.files", value["files"], fmt, task)


def _files(where: str, files: Any, fmt: str, task: str | None = None) -> Iterator[str]:
    if not isinstance(files, list) or not files:
        yield (f"{where}: expected a non-empty list of files (one per model or seed), got "
               f"{files!r}")
        return
    seeds: dict[int, int] = {}
    explicit = 0
    for index, item in enumerate(files):
        at = f"{where}[{index}]"
        if isinstance(item, Mapping):
            unknown = [key for key in item if key not in _FILE_KEYS]
            if unknown or "path" not in item:
                yield (f"{at}: a file is a path, or {{path: <file>, seed: <int>}}; got "
                       f"{dict(item)!r}")
                continue
            path, seed = item["path"], item.get("seed")
        else:
            path, seed = item, None
        if not isinstance(path, str):
            yield f"{at}: expected a path, got {path!r}"
            continue
        if seed is not None:
            explicit += 1
            if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
                yield f"{at}.seed: {seed!r} is not a whole number ≥ 0"
            elif seed in seeds:
                yield f"{at}.seed: seed {seed} is given to {where}[{seeds[seed]}] already"
            else:
                seeds[seed] = index
        if fmt == "lm-eval" and (Path(path).is_dir() or not _GLOB.isdisjoint(path)):
            try:  # lm_eval's output folder, or a glob: the one samples file it holds
                path = locate_samples(path, task)
            except PredictionsError as err:
                yield f"{at}: {err}"
                continue
        if not Path(path).is_file():
            yield f"{at}: no file {path}{_looked_in(path)}"
        elif not path.lower().endswith(SUFFIXES[fmt]):
            yield (f"{at}: {path} is not a {' or '.join(SUFFIXES[fmt])} file, which format: "
                   f"{fmt} reads")
    if fmt == "lm-eval" and 0 < explicit < len(files):
        yield (f"{where}: give every file a seed, or none (then seeds are the files' "
               "positions 0, 1, …)")


def _looked_in(path: str) -> str:
    if path.startswith("~"):
        return " ('~' is not expanded: write the full path)"
    return "" if os.path.isabs(path) else f" (looked for {os.path.abspath(path)})"
