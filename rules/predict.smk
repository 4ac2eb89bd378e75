rule predict_cell:
    input:
        unpack(split_inputs),
        checkpoints=cell_checkpoints,
        classes="results/{dataset}/data/classes.json",
    output:
        predictions=CELL + "/predictions.parquet",
        metrics=CELL + "/metrics.parquet",
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
