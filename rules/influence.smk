rule score_influence:
    input:
        unpack(vector_inputs),
        unpack(split_inputs),
        early=dense_seed_files("early.safetensors"),
        learning=dense_seed_files("learning.parquet"),
        classes=layout.CLASSES,
        meta=layout.DATA_META,
        dense_predictions=layout.dense_file("predictions.parquet"),
    output:
        layout.INFLUENCE,
    log:
        layout.log_file("score_influence", "dataset", "model"),
    benchmark:
        layout.benchmark_file("score_influence", "dataset", "model")
    conda:
        "../envs/pieflow.yaml"
    params:
        spec=inference_params,
        splits=config["splits"],
        seeds=SEEDS,
        grand=lambda wildcards: config["models"][wildcards.model]["grand"],
    script:
        "../workflow/scripts/score_influence.py"
