rule prepare_dataset:
    output:
        train="results/{dataset}/data/train.parquet",
        validation="results/{dataset}/data/validation.parquet",
        test="results/{dataset}/data/test.parquet",
        classes="results/{dataset}/data/classes.json",
    log:
        "results/logs/prepare_dataset/{dataset}.log",
    conda:
        "../envs/pieflow.yaml"
    params:
        spec=lambda wildcards: config["datasets"][wildcards.dataset],
    script:
        "../workflow/scripts/prepare_dataset.py"
