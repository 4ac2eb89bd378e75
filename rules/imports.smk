# Imported predictions (config: imported): their cells skip train, prune and predict.
# The import writes each cell's predictions and metrics (and, for a dataset no trained
# model uses, its data/ files) into the results layout, so every later rule runs as is.
rule import_dataset:
    input:
        files=lambda wildcards: pieflow_config.import_dataset_files(
            config, wildcards.dataset
        ),
    output:
        train=layout.split_file("train"),
        validation=layout.split_file("validation"),
        test=layout.split_file("test"),
        classes=layout.CLASSES,
        meta=layout.DATA_META,
    log:
        layout.log_file("import_dataset", "dataset"),
    wildcard_constraints:
        dataset=_alternatives(IMPORTED_ONLY_DATASETS),
    conda:
        "../envs/pieflow.yaml"
    params:
        entries=lambda wildcards: pieflow_config.import_dataset_params(
            config, wildcards.dataset
        ),
    script:
        "../workflow/scripts/import_dataset.py"


rule import_predictions:
    input:
        unpack(import_inputs),
    output:
        predictions=layout.cell_file("predictions.parquet"),
        metrics=layout.cell_file("metrics.parquet"),
    log:
        layout.log_file("import_predictions", "dataset", "model", "method", "sparsity"),
    wildcard_constraints:
        dataset=_alternatives(IMPORTED_DATASET_NAMES),
        model=_alternatives(IMPORTED_MODEL_NAMES),
        method=_alternatives([layout.DENSE, *IMPORTED_METHODS]),
    conda:
        "../envs/pieflow.yaml"
    params:
        reading=lambda wildcards: pieflow_config.import_cell_params(
            config, imported_cell(wildcards)
        ),
    script:
        "../workflow/scripts/import_predictions.py"


# No early checkpoint exists: an EL2N-like difficulty from the final probabilities.
rule score_imported_difficulty:
    input:
        dense=layout.dense_file("predictions.parquet"),
        classes=layout.CLASSES,
        meta=layout.DATA_META,
    output:
        layout.INFLUENCE,
    log:
        layout.log_file("score_imported_difficulty", "dataset", "model"),
    wildcard_constraints:
        dataset=_alternatives(IMPORTED_DATASET_NAMES),
        model=_alternatives(IMPORTED_MODEL_NAMES),
    conda:
        "../envs/pieflow.yaml"
    script:
        "../workflow/scripts/import_difficulty.py"
