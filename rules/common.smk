import re

from snakemake.utils import validate

from pieflow import config as pieflow_config

validate(config, schema="../workflow/schemas/config.schema.yaml")
pieflow_config.check_config(config)

SEEDS = pieflow_config.seeds(config)
CELLS = pieflow_config.pruned_cells(config)
DENSE = pieflow_config.DENSE
PRUNING_METHODS = sorted({method for _, _, method, _ in CELLS})
CELL = "results/{dataset}/{model}/{method}/{sparsity}"
SEED_DIR = "results/{dataset}/{model}/{method}/{sparsity}/seeds/{seed}"


def _alternatives(names):
    return "|".join(re.escape(name) for name in sorted(names)) or "(?!)"


wildcard_constraints:
    dataset=_alternatives(config["datasets"]),
    model=_alternatives(config["models"]),
    method=_alternatives([DENSE, *PRUNING_METHODS]),
    sparsity=r"\d+",
    seed=r"\d+",


def data_file(split):
    return f"results/{{dataset}}/data/{split}.parquet"


def split_inputs(wildcards):
    return {split: data_file(split).format(**wildcards) for split in config["splits"]}


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
    folder = pieflow_config.vectors_dir(wildcards.dataset, wildcards.model)
    return {"vectors": f"{folder}/vectors.safetensors", "vocab": f"{folder}/vocab.json"}


def dense_checkpoint_inputs(wildcards):
    """Iterative methods continue from the dense seed; at-init methods need nothing of it."""
    if not pieflow_config.is_iterative(config, wildcards.method):
        return {}
    seed_dir = SEED_DIR.format(
        dataset=wildcards.dataset,
        model=wildcards.model,
        method=DENSE,
        sparsity=0,
        seed=wildcards.seed,
    )
    return {
        name: f"{seed_dir}/{name}.{ext}"
        for name, ext in [
            ("model", "safetensors"),
            ("optimizer", "safetensors"),
            ("history", "parquet"),
        ]
    }


def cell_checkpoints(wildcards):
    return expand(
        "results/{dataset}/{model}/{method}/{sparsity}/seeds/{seed}/model.safetensors",
        seed=SEEDS,
        **{
            k: getattr(wildcards, k) for k in ("dataset", "model", "method", "sparsity")
        },
    )


def early_checkpoints(wildcards):
    return expand(
        "results/{dataset}/{model}/{method}/{sparsity}/seeds/{seed}/early.safetensors",
        dataset=wildcards.dataset,
        model=wildcards.model,
        method=DENSE,
        sparsity=0,
        seed=SEEDS,
    )


def learning_records(wildcards):
    return expand(
        "results/{dataset}/{model}/dense/0/seeds/{seed}/learning.parquet",
        dataset=wildcards.dataset,
        model=wildcards.model,
        seed=SEEDS,
    )


def pruned_cell_files(name):
    return [
        f"{CELL}/{name}".format(dataset=d, model=m, method=meth, sparsity=s)
        for d, m, meth, s in CELLS
    ]


def dense_cell_files(name):
    return [
        f"{CELL}/{name}".format(dataset=d, model=m, method=DENSE, sparsity=0)
        for d in config["datasets"]
        for m in config["models"]
    ]


def get_final_output():
    return [
        *pruned_cell_files("pies.parquet"),
        *expand(
            "results/{dataset}/{model}/influence.parquet",
            dataset=config["datasets"],
            model=config["models"],
        ),
        "results/analysis/accuracy.parquet",
        "results/analysis/pies.parquet",
        "results/analysis/el2n_bins.parquet",
        "results/analysis/null_rate.parquet",
        "results/analysis/class_accuracy.parquet",
        "results/analysis/pie_classes.parquet",
        "results/analysis/text_comparison.parquet",
        "results/analysis/pie_examples.parquet",
    ]
