import re

from snakemake.utils import validate

from pieflow import config as pieflow_config
from pieflow import layout
from pieflow.layout import Cell
from pieflow.llm import spec as llm_spec

# pieflow's check first (one line per problem), then validate() for the defaults.
pieflow_config.check_config(
    config, f"{workflow.current_basedir}/../workflow/schemas/config.schema.yaml"
)
validate(config, schema="../workflow/schemas/config.schema.yaml")
# A config of imported predictions only: an empty trained grid.
config.update(pieflow_config.with_grid_defaults(config))

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
# Imported predictions (rules/imports.smk): their dense and compressed populations, the
# datasets only they name (the import writes their data/ files), every dataset × model.
IMPORTED_DENSE_CELLS, IMPORTED_CELLS = pieflow_config.imported_cells(config)
IMPORTED_ONLY_DATASETS = pieflow_config.imported_only_datasets(config)
DATASETS = [*config["datasets"], *IMPORTED_ONLY_DATASETS]
TRAINED_MODELS = [(d, m) for d in config["datasets"] for m in config["models"]]
MODELS = TRAINED_MODELS + [(c.dataset, c.model) for c in IMPORTED_DENSE_CELLS]
TEXT_DATASETS = pieflow_config.datasets_with_texts(config)
IMPORTED_DATASET_NAMES = sorted({cell.dataset for cell in IMPORTED_DENSE_CELLS})
IMPORTED_MODEL_NAMES = sorted({cell.model for cell in IMPORTED_DENSE_CELLS})
IMPORTED_METHODS = sorted({cell.method for cell in IMPORTED_CELLS})


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


def imported_cell(wildcards):
    return Cell(
        wildcards.dataset, wildcards.model, wildcards.method, int(wildcards.sparsity)
    )


def import_inputs(wildcards):
    """A population's files, the dataset's prepared data and, for a compressed
    population, the imported dense one (its examples and labels are checked against)."""
    cell = imported_cell(wildcards)
    spec = pieflow_config.imported_spec(config, cell.dataset, cell.model)
    keys = {"dataset": cell.dataset, "model": cell.model}
    inputs = {
        "files": spec.population(cell.method, cell.sparsity).paths(),
        "classes": layout.fill(layout.CLASSES, **keys),
        "meta": layout.fill(layout.DATA_META, **keys),
        **{
            split: layout.fill(layout.DATA_SPLIT, split=split, **keys)
            for split in ("train", "validation", "test")
        },
    }
    if not cell.is_dense:
        inputs["dense"] = layout.fill(layout.dense_file("predictions.parquet"), **keys)
    return inputs


def llm_member_inputs(wildcards):
    return llm_spec.member_inputs(
        config, wildcards.dataset, wildcards.model, wildcards.method
    )


def llm_member_params(wildcards):
    return llm_spec.member_params(
        config, wildcards.dataset, wildcards.model, wildcards.method
    )


# --------------------------------------------------------------------------------------
# Over all cells (analysis): paths and the cell keys that go with them, in one order
# --------------------------------------------------------------------------------------


def cell_files(cells, name):
    return [cell.path(name) for cell in cells]


def cell_keys(cells):
    """Params: the keys of each cell, aligned with ``cell_files(cells, …)``."""
    return [cell.keys() for cell in cells]


def per_dataset(template, datasets=None, **extra):
    """``template`` for each dataset (trained and imported, or ``datasets``)."""
    return [
        layout.fill(template, dataset=d, **extra)
        for d in (DATASETS if datasets is None else datasets)
    ]


def per_model(template, models=None):
    """``template`` for each dataset × model (trained and imported, or ``models``)."""
    return [
        layout.fill(template, dataset=d, model=m)
        for d, m in (MODELS if models is None else models)
    ]


def model_keys(models=None):
    """Params: (dataset, model) of each entry of ``per_model(…)``."""
    return [
        {"dataset": d, "model": m} for d, m in (MODELS if models is None else models)
    ]


def split_keys():
    """Params: (dataset, split) of each entry of ``split_files()``."""
    return [{"dataset": d, "split": s} for d in DATASETS for s in config["splits"]]


def split_files():
    return [layout.fill(layout.DATA_SPLIT, **keys) for keys in split_keys()]


def vs_control_files(name):
    return [
        layout.fill(layout.vs_control_file(name), **c.keys()) for c in VS_CONTROL_CELLS
    ]


def get_final_output():
    return [
        *cell_files(PRUNED_CELLS + CONTROL_CELLS + IMPORTED_CELLS, "pies.parquet"),
        *cell_files(PRUNED_CELLS + CONTROL_CELLS + IMPORTED_CELLS, "paired.parquet"),
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
        layout.PIE_PREDICTORS,
        layout.PIE_PREDICTOR_DECILES,
        *([layout.analysis_file("training.parquet")] if TRAINED_MODELS else []),
        *llm_spec.export_dirs(config),
    ]
