rule score_influence:
    input:
        unpack(vector_inputs),
        unpack(split_inputs),
        early=early_checkpoints,
        learning=learning_records,
        classes="results/{dataset}/data/classes.json",
        dense_predictions="results/{dataset}/{model}/dense/0/predictions.parquet",
    output:
        "results/{dataset}/{model}/influence.parquet",
    log:
        "results/logs/score_influence/{dataset}/{model}.log",
    benchmark:
        "results/benchmarks/score_influence/{dataset}/{model}.tsv"
    conda:
        "../envs/pieflow.yaml"
    params:
        spec=inference_params,
        splits=config["splits"],
        grand=lambda wildcards: config["models"][wildcards.model].get("grand", True),
    script:
        "../workflow/scripts/score_influence.py"
