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


rule prepare_vectors:
    input:
        splits=expand(
            "results/{{dataset}}/data/{split}.parquet",
            split=["train", "validation", "test"],
        ),
    output:
        vectors="results/{dataset}/{model}/vectors/vectors.safetensors",
        vocab="results/{dataset}/{model}/vectors/vocab.json",
    log:
        "results/logs/prepare_vectors/{dataset}/{model}.log",
    benchmark:
        "results/benchmarks/prepare_vectors/{dataset}/{model}.tsv"
    conda:
        "../envs/pieflow.yaml"
    params:
        # A path, not an input: a multi-GB file users keep anywhere (a dry run of the
        # study's grid must not need it); its name is part of the BiLSTM's params.
        glove=lambda wildcards: config["models"][wildcards.model]["vectors"],
    script:
        "../workflow/scripts/prepare_vectors.py"
