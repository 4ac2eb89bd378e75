"""Every results path, once: the templates the rules fill with wildcards and the jobs
receive as explicit inputs. Nothing else spells a results path or parses one.

A *cell* is one population of models: (dataset, model, method, sparsity); the dense
population is method ``dense`` at sparsity 0. Templates keep Snakemake's ``{wildcard}``
syntax so a rule can use them as they are; :func:`fill` and :meth:`Cell.path` give the
concrete path of one cell.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

RESULTS = "results"
DENSE = "dense"
# The training-budget control: dense seeds trained as long as the iterative schedules,
# unpruned; one population per model, at sparsity 0 (``results/{d}/{m}/control/0``).
CONTROL = "control"

# Per dataset
DATA_SPLIT = f"{RESULTS}/{{dataset}}/data/{{split}}.parquet"
CLASSES = f"{RESULTS}/{{dataset}}/data/classes.json"
DATA_META = f"{RESULTS}/{{dataset}}/data/meta.json"
DATA_CHECKS = f"{RESULTS}/{{dataset}}/data/checks.html"
TEXT_FEATURES = f"{RESULTS}/{{dataset}}/text_features.parquet"

# Per dataset × model
MODEL_DIR = f"{RESULTS}/{{dataset}}/{{model}}"
VECTORS_DIR = f"{MODEL_DIR}/vectors"
VECTORS_NAME, VOCAB_NAME = "vectors.safetensors", "vocab.json"
VECTORS = f"{VECTORS_DIR}/{VECTORS_NAME}"
VOCAB = f"{VECTORS_DIR}/{VOCAB_NAME}"
INFLUENCE = f"{MODEL_DIR}/influence.parquet"
TOKEN_COUNTS = f"{MODEL_DIR}/token_counts.parquet"

# Per cell, and per seed of a cell
CELL_DIR = f"{MODEL_DIR}/{{method}}/{{sparsity}}"
SEED_DIR = f"{CELL_DIR}/seeds/{{seed}}"
DENSE_CELL_DIR = f"{MODEL_DIR}/{DENSE}/0"
DENSE_SEED_DIR = f"{DENSE_CELL_DIR}/seeds/{{seed}}"

# Over all cells
ANALYSIS = f"{RESULTS}/analysis"
FIGURES = f"{ANALYSIS}/figures"
VIEWS = f"{ANALYSIS}/tables"
# Difficulty scores as predictors of PIEs (rule summarise_pie_predictors)
PIE_PREDICTORS = f"{ANALYSIS}/pie_predictors.parquet"
PIE_PREDICTOR_DECILES = f"{ANALYSIS}/pie_predictor_deciles.parquet"
LOGS = f"{RESULTS}/logs"
BENCHMARKS = f"{RESULTS}/benchmarks"


def split_file(split: str) -> str:
    """Template (``{dataset}`` left open) of one prepared split."""
    return DATA_SPLIT.replace("{split}", split)


def cell_file(name: str) -> str:
    """Template of a file of a cell (``predictions.parquet``, ``pies.parquet``, …)."""
    return f"{CELL_DIR}/{name}"


def vs_control_file(name: str) -> str:
    """Template of a pruned cell's comparison with its model's control population."""
    return f"{CELL_DIR}/vs_control/{name}"


def control_file(name: str) -> str:
    """Template of a file of the control cell of ``{dataset}``/``{model}``."""
    return f"{MODEL_DIR}/{CONTROL}/0/{name}"


def control_seed_file(name: str) -> str:
    """Template of a file of one control seed of ``{dataset}``/``{model}``."""
    return f"{MODEL_DIR}/{CONTROL}/0/seeds/{{seed}}/{name}"


def dense_file(name: str) -> str:
    """Template of a file of the dense cell of ``{dataset}``/``{model}``."""
    return f"{DENSE_CELL_DIR}/{name}"


def seed_file(name: str) -> str:
    """Template of a file of one seed of a cell (``model.safetensors``, …)."""
    return f"{SEED_DIR}/{name}"


def dense_seed_file(name: str) -> str:
    """Template of a file of one dense seed of ``{dataset}``/``{model}``."""
    return f"{DENSE_SEED_DIR}/{name}"


def analysis_file(name: str) -> str:
    return f"{ANALYSIS}/{name}"


def figure_file(name: str) -> str:
    return f"{FIGURES}/{name}"


def view_file(name: str) -> str:
    """An HTML table view for the report."""
    return f"{VIEWS}/{name}"


def log_file(rule: str, *wildcards: str) -> str:
    """``results/logs/<rule>/{w1}/{w2}….log``: one log per job."""
    return "/".join([LOGS, rule, *(f"{{{w}}}" for w in wildcards)]) + ".log"


def benchmark_file(rule: str, *wildcards: str) -> str:
    return "/".join([BENCHMARKS, rule, *(f"{{{w}}}" for w in wildcards)]) + ".tsv"


def fill(template: str, **keys: object) -> str:
    """A template with its wildcards filled in."""
    return template.format(**keys)


@dataclass(frozen=True)
class Cell:
    """One population: a dataset, a model, a method and a nominal sparsity (percent)."""

    dataset: str
    model: str
    method: str
    sparsity: int

    @classmethod
    def dense(cls, dataset: str, model: str) -> Cell:
        return cls(dataset, model, DENSE, 0)

    @classmethod
    def control(cls, dataset: str, model: str) -> Cell:
        return cls(dataset, model, CONTROL, 0)

    @property
    def is_dense(self) -> bool:
        return self.method == DENSE

    @property
    def is_control(self) -> bool:
        return self.method == CONTROL

    def keys(self) -> dict[str, str | int]:
        """The cell's columns in every table: dataset, model, method, sparsity."""
        return asdict(self)

    def path(self, name: str) -> str:
        return fill(cell_file(name), **self.keys())

    def seed_path(self, name: str, seed: int) -> str:
        return fill(seed_file(name), seed=seed, **self.keys())


CELL_KEYS = ("dataset", "model", "method", "sparsity")
