rule train_dense:
    input:
        unpack(vector_inputs),
        train=layout.split_file("train"),
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
