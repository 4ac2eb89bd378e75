rule prune_model:
    input:
        unpack(vector_inputs),
        unpack(dense_checkpoint_inputs),
        train=layout.split_file("train"),
        classes=layout.CLASSES,
        meta=layout.DATA_META,
    output:
        model=layout.seed_file("model.safetensors"),
        mask=layout.seed_file("mask.safetensors"),
        history=layout.seed_file("history.parquet"),
        rounds=layout.seed_file("prune_rounds.parquet"),
    log:
        layout.log_file("prune_model", "dataset", "model", "method", "sparsity", "seed"),
    benchmark:
        layout.benchmark_file(
            "prune_model", "dataset", "model", "method", "sparsity", "seed"
        )
    wildcard_constraints:
        method=_alternatives(PRUNING_METHODS),
    conda:
        "../envs/pieflow.yaml"
    params:
        spec=training_params,
        method=method_params,
        prunable=config["prunable"],
    script:
        "../workflow/scripts/prune_model.py"
