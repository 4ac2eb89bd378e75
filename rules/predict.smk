rule predict_cell:
    input:
        unpack(vector_inputs),
        unpack(split_inputs),
        checkpoints=cell_checkpoints,
        classes="results/{dataset}/data/classes.json",
        tuning="results/{dataset}/data/validation.parquet",
    output:
        predictions="results/{dataset}/{model}/{method}/{sparsity}/predictions.parquet",
        metrics="results/{dataset}/{model}/{method}/{sparsity}/metrics.parquet",
    log:
        "results/logs/predict_cell/{dataset}/{model}/{method}/{sparsity}.log",
    benchmark:
        "results/benchmarks/predict_cell/{dataset}/{model}/{method}/{sparsity}.tsv"
    conda:
        "../envs/pieflow.yaml"
    params:
        spec=inference_params,
        splits=config["splits"],
        prunable=config.get("prunable", "default"),
    script:
        "../workflow/scripts/predict_cell.py"
