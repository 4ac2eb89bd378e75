rule train_dense:
    input:
        unpack(vector_inputs),
        train=layout.split_file("train"),
        validation=layout.split_file("validation"),  # the training curve
        classes=layout.CLASSES,
        meta=layout.DATA_META,
    output:
        model=layout.dense_seed_file("model.safetensors"),
        early=layout.dense_seed_file("early.safetensors"),
        optimizer=layout.dense_seed_file("optimizer.safetensors"),
        history=layout.dense_seed_file("history.parquet"),
        learning=layout.dense_seed_file("learning.parquet"),
    log:
        layout.log_file("train_dense", "dataset", "model", "seed"),
    benchmark:
        layout.benchmark_file("train_dense", "dataset", "model", "seed")
    conda:
        "../envs/pieflow.yaml"
    params:
        spec=training_params,
    script:
        "../workflow/scripts/train_dense.py"


rule train_control:
    input:
        unpack(vector_inputs),
        train=layout.split_file("train"),
        validation=layout.split_file("validation"),  # the training curve
        classes=layout.CLASSES,
        meta=layout.DATA_META,
        model=layout.dense_seed_file("model.safetensors"),
        optimizer=layout.dense_seed_file("optimizer.safetensors"),
        history=layout.dense_seed_file("history.parquet"),
    output:
        model=layout.control_seed_file("model.safetensors"),
        history=layout.control_seed_file("history.parquet"),
    log:
        layout.log_file("train_control", "dataset", "model", "seed"),
    benchmark:
        layout.benchmark_file("train_control", "dataset", "model", "seed")
    conda:
        "../envs/pieflow.yaml"
    params:
        spec=training_params,
        prunes=lambda wildcards: pieflow_config.control_prunes(config, wildcards.model),
    script:
        "../workflow/scripts/train_control.py"
