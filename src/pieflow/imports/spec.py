"""An ``imported`` entry of the config as a value: which files hold which population.

Each entry names a dataset, a model, the files' format, the dense population's files and
one or more compressed populations' files (a method name, and a sparsity: 0 unless
given). A file is a path, or ``{path, seed}``. The seed of a row is, in this order: the
``seed`` given with its file, the file's own ``seed`` column (formats ``pieflow`` and
``table``), or the file's position in its list (0, 1, …). Compressed seed *i* is the twin
of dense seed *i*, as for trained populations. Light on purpose (the config check and
the rules read it): no polars, no torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pieflow.layout import DENSE, Cell

FORMATS = ("pieflow", "table", "lm-eval")
# How an lm-evaluation-harness multiple-choice answer is chosen: lm-eval's ``acc``
# (argmax of the log-likelihoods) or ``acc_norm`` (per character of the choice).
LM_EVAL_SCORES = {"loglikelihood": "acc", "loglikelihood_per_char": "acc_norm"}
DEFAULT_SPLIT = "test"
# (a file entry's path, the entry's task) -> the samples file it names
Locate = Callable[[str, "str | None"], str]
# Keys of an entry that only some formats read.
FORMAT_KEYS = {"score": ("lm-eval",), "text_field": ("lm-eval",), "task": ("lm-eval",),
               "filter": ("lm-eval",), "metric": ("lm-eval",),
               "split": ("lm-eval", "table")}


@dataclass(frozen=True)
class SourceFile:
    path: str
    seed: int | None = None  # given with the file; else its seed column or position


@dataclass(frozen=True)
class ImportedPopulation:
    """One population's files: the dense one (method ``dense``) or a compressed one."""

    method: str
    sparsity: int
    files: tuple[SourceFile, ...]
    where: str  # its key path in the config, for messages

    def seeds(self) -> list[int | None]:
        return [f.seed for f in self.files]

    def paths(self) -> list[str]:
        return [f.path for f in self.files]


@dataclass(frozen=True)
class ImportSpec:
    name: str
    dataset: str
    model: str
    format: str
    dense: ImportedPopulation
    compressed: tuple[ImportedPopulation, ...]
    split: str = DEFAULT_SPLIT
    classes: tuple[str, ...] | None = None
    texts: str | None = None
    text_field: str | None = None
    score: str = "loglikelihood"
    task: str | None = None
    filter: str | None = None
    metric: str | None = None

    @classmethod
    def from_config(cls, name: str, entry: Mapping[str, Any],
                    locate: Locate | None = None) -> ImportSpec:
        """The entry as the schema and :mod:`pieflow.imports.checks` accept it; ``locate``
        turns an lm-eval entry's folder or glob into its samples file (the import
        formats' :func:`pieflow.imports.files.locate_samples`; without it, paths as given)."""
        where = f"imported.{name}"
        task = entry.get("task")

        def _files(items: list[Any]) -> tuple[SourceFile, ...]:
            files = _source_files(items)
            if locate is None or entry["format"] != "lm-eval":
                return files
            return tuple(SourceFile(locate(f.path, task), f.seed) for f in files)

        compressed = []
        for method, value in entry["compressed"].items():
            files, sparsity = (value, 0) if isinstance(value, list) else (
                value["files"], value.get("sparsity", 0))
            compressed.append(ImportedPopulation(method, int(sparsity), _files(files),
                                                 f"{where}.compressed.{method}"))
        classes = entry.get("classes")
        return cls(name=name, dataset=entry["dataset"], model=entry["model"],
                   format=entry["format"],
                   dense=ImportedPopulation(DENSE, 0, _files(entry["dense"]), f"{where}.dense"),
                   compressed=tuple(compressed), split=entry.get("split", DEFAULT_SPLIT),
                   classes=tuple(classes) if classes else None, texts=entry.get("texts"),
                   text_field=entry.get("text_field"),
                   score=entry.get("score", "loglikelihood"), task=task,
                   filter=entry.get("filter"), metric=entry.get("metric"))

    @property
    def populations(self) -> tuple[ImportedPopulation, ...]:
        return (self.dense, *self.compressed)

    def cell(self, population: ImportedPopulation) -> Cell:
        return Cell(self.dataset, self.model, population.method, population.sparsity)

    def population(self, method: str, sparsity: int) -> ImportedPopulation:
        for population in self.populations:
            if (population.method, population.sparsity) == (method, int(sparsity)):
                return population
        raise KeyError(f"{self.name}: no population {method}/{sparsity}")

    def reading(self) -> dict[str, Any]:
        """What a reader of this entry's files needs (plain values: a rule's params;
        ``filter`` and ``metric`` only where set, so entries without them keep their
        params, and their cells stay fresh)."""
        chosen = {key: value for key, value in (("filter", self.filter),
                                                ("metric", self.metric)) if value}
        return {"name": self.name, "format": self.format, "split": self.split,
                "text_field": self.text_field, "score": self.score,
                "classes": list(self.classes) if self.classes else None, **chosen}

    def has_texts(self, columns_of: Callable[[str], list[str]]) -> bool:
        """Whether the examples' texts can be read: lm-eval samples carry each document;
        a ``texts`` file gives them for any format; a table may have a ``text`` column
        (its first dense file's header says: ``columns_of`` reads it, the import formats'
        reader :func:`pieflow.imports.files.table_columns`, so this module reads nothing)."""
        if self.format == "lm-eval" or self.texts:
            return True
        if self.format == "table":
            try:
                return "text" in columns_of(self.dense.files[0].path)
            except Exception:  # noqa: BLE001 (an unreadable file: import_dataset says why)
                return False
        return False


def _source_files(items: list[Any]) -> tuple[SourceFile, ...]:
    return tuple(SourceFile(item) if isinstance(item, str)
                 else SourceFile(item["path"], item.get("seed")) for item in items)


def import_specs(config: Mapping[str, Any], locate: Locate | None = None
                 ) -> list[ImportSpec]:
    return [ImportSpec.from_config(name, entry, locate)
            for name, entry in (config.get("imported") or {}).items()]
