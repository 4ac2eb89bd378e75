import re

from snakemake.utils import validate

from pieflow import config as pieflow_config
from pieflow import layout
from pieflow.layout import Cell

# pieflow's check first (one line per problem), then validate() for the defaults.
pieflow_config.check_config(
    config, f"{workflow.basedir}/workflow/schemas/config.schema.yaml"
)
validate(config, schema="../workflow/schemas/config.schema.yaml")

SEEDS = pieflow_config.seeds(config)
PRUNED_CELLS = pieflow_config.pruned_cells(config)
DENSE_CELLS = [Cell.dense(d, m) for d in config["datasets"] for m in config["models"]]
CONTROL_CELLS = pieflow_config.control_cells(config)
PRUNING_METHODS = sorted({cell.method for cell in PRUNED_CELLS})
ITERATIVE_METHODS = pieflow_config.iterative_methods(config)
# Populations compared with the dense one (diff): pruned cells and the controls.
DIFFED_METHODS = PRUNING_METHODS + ([layout.CONTROL] if CONTROL_CELLS else [])
# Pruned cells compared with their model's control too (pruning at a matched budget).
VS_CONTROL_CELLS = [
    cell for cell in PRUNED_CELLS if CONTROL_CELLS and cell.method in ITERATIVE_METHODS
]


def _alternatives(names):
    return "|".join(re.escape(name) for name in sorted(names)) or "(?!)"


wildcard_constraints:
    dataset=_alternatives(config["datasets"]),
    model=_alternatives(config["models"]),
    method=_alternatives([layout.DENSE, *DIFFED_METHODS]),
    sparsity=r"\d+",
    seed=r"\d+",


# --------------------------------------------------------------------------------------
# Per-job inputs and params
# --------------------------------------------------------------------------------------


def dataset_inputs():
    """The prepared dataset's class names and metadata (label kind)."""
    return {"classes": layout.CLASSES, "meta": layout.DATA_META}


def split_inputs(wildcards):
    return {
        split: layout.fill(layout.DATA_SPLIT, dataset=wildcards.dataset, split=split)
        for split in config["splits"]
    }


def training_params(wildcards):
    return pieflow_config.training_params(config, wildcards.dataset, wildcards.model)


def inference_params(wildcards):
    return pieflow_config.inference_params(config, wildcards.dataset, wildcards.model)


def method_params(wildcards):
    return pieflow_config.method_params(config, wildcards.method)


def vector_inputs(wildcards):
    """A BiLSTM over a GloVe file reads the dataset's prepared vectors; others nothing."""
    if not pieflow_config.uses_vector_file(config, wildcards.model):
        return {}
    keys = {"dataset": wildcards.dataset, "model": wildcards.model}
    return {
        "vectors": layout.fill(layout.VECTORS, **keys),
        "vocab": layout.fill(layout.VOCAB, **keys),
    }


def dense_checkpoint_inputs(wildcards):
    """Iterative and post-training methods continue from the trained dense seed;
    at-init methods need nothing of it."""
    if not pieflow_config.starts_from_dense(config, wildcards.method):
        return {}
    keys = {
        "dataset": wildcards.dataset,
        "model": wildcards.model,
        "seed": wildcards.seed,
    }
    return {
        name: layout.fill(layout.dense_seed_file(f"{name}.{ext}"), **keys)
        for name, ext in [
            ("model", "safetensors"),
            ("optimizer", "safetensors"),
            ("history", "parquet"),
        ]
    }


def cell_checkpoints(wildcards):
    return [
        layout.fill(layout.seed_file("model.safetensors"), seed=seed, **wildcards)
        for seed in SEEDS
    ]


def dense_seed_files(name):
    """Input function: one file of every dense seed of {dataset}/{model}."""

    def files(wildcards):
        return [
            layout.fill(
                layout.dense_seed_file(name),
                dataset=wildcards.dataset,
                model=wildcards.model,
                seed=seed,
            )
            for seed in SEEDS
        ]

    return files


# --------------------------------------------------------------------------------------
# Over all cells (analysis): paths and the cell keys that go with them, in one order
# --------------------------------------------------------------------------------------


def cell_files(cells, name):
    return [cell.path(name) for cell in cells]


def cell_keys(cells):
    """Params: the keys of each cell, aligned with ``cell_files(cells, …)``."""
    return [cell.keys() for cell in cells]


def per_dataset(template, **extra):
    return [layout.fill(template, dataset=d, **extra) for d in config["datasets"]]


def per_model(template):
    return [
        layout.fill(template, dataset=d, model=m)
        for d in config["datasets"]
        for m in config["models"]
    ]


def model_keys():
    """Params: (dataset, model) of each entry of ``per_model(…)``."""
    return [
        {"dataset": d, "model": m} for d in config["datasets"] for m in config["models"]
    ]


def split_keys():
    """Params: (dataset, split) of each entry of ``split_files()``."""
    return [
        {"dataset": d, "split": s} for d in config["datasets"] for s in config["splits"]
    ]


def split_files():
    return [layout.fill(layout.DATA_SPLIT, **keys) for keys in split_keys()]


def vs_control_files(name):
    return [
        layout.fill(layout.vs_control_file(name), **c.keys()) for c in VS_CONTROL_CELLS
    ]


def get_final_output():
    return [
        *cell_files(PRUNED_CELLS + CONTROL_CELLS, "pies.parquet"),
        *cell_files(PRUNED_CELLS + CONTROL_CELLS, "paired.parquet"),
        *vs_control_files("null_rate.parquet"),
        *vs_control_files("paired.parquet"),
        *per_model(layout.INFLUENCE),
        *(
            layout.analysis_file(name)
            for name in (
                "accuracy.parquet",
                "pies.parquet",
                "el2n_bins.parquet",
                "null_rate.parquet",
                "class_accuracy.parquet",
                "pie_classes.parquet",
                "text_comparison.parquet",
                "pie_examples.parquet",
                "findings.parquet",
            )
        ),
    ]
