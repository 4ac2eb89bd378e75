rule prune_model:
    input:
        unpack(vector_inputs),
        unpack(dense_checkpoint_inputs),
        train=data_file("train"),
        classes="results/{dataset}/data/classes.json",
    output:
        model="results/{dataset}/{model}/{method}/{sparsity}/seeds/{seed}/model.safetensors",
        mask="results/{dataset}/{model}/{method}/{sparsity}/seeds/{seed}/mask.safetensors",
        history="results/{dataset}/{model}/{method}/{sparsity}/seeds/{seed}/history.parquet",
        rounds="results/{dataset}/{model}/{method}/{sparsity}/seeds/{seed}/prune_rounds.parquet",
    log:
        "results/logs/prune_model/{dataset}/{model}/{method}/{sparsity}/{seed}.log",
    benchmark:
        "results/benchmarks/prune_model/{dataset}/{model}/{method}/{sparsity}/{seed}.tsv"
    wildcard_constraints:
        method=_alternatives(PRUNING_METHODS),
    conda:
        "../envs/pieflow.yaml"
    params:
        spec=training_params,
        method=method_params,
        prunable=config.get("prunable", "default"),
    script:
        "../workflow/scripts/prune_model.py"
