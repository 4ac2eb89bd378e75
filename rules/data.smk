rule prepare_dataset:
    output:
        train=layout.split_file("train"),
        validation=layout.split_file("validation"),
        test=layout.split_file("test"),
        classes=layout.CLASSES,
        meta=layout.DATA_META,
        checks=report(
            layout.DATA_CHECKS,
            category="8. Data",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "view": "data checks"},
            caption="../workflow/report/data_checks.rst",
        ),
    log:
        layout.log_file("prepare_dataset", "dataset"),
    conda:
        "../envs/pieflow.yaml"
    params:
        spec=lambda wildcards: pieflow_config.dataset_params(config, wildcards.dataset),
    script:
        "../workflow/scripts/prepare_dataset.py"


rule prepare_vectors:
    input:
        splits=[layout.split_file(split) for split in ("train", "validation", "test")],
    output:
        vectors=layout.VECTORS,
        vocab=layout.VOCAB,
    log:
        layout.log_file("prepare_vectors", "dataset", "model"),
    benchmark:
        layout.benchmark_file("prepare_vectors", "dataset", "model")
    conda:
        "../envs/pieflow.yaml"
    params:
        # A path, not an input: a multi-GB file users keep anywhere (a dry run of the
        # study's grid must not need it); its name is part of the BiLSTM's params.
        glove=lambda wildcards: config["models"][wildcards.model]["vectors"],
    script:
        "../workflow/scripts/prepare_vectors.py"
