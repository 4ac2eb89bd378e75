rule predict_cell:
    input:
        unpack(vector_inputs),
        unpack(split_inputs),
        checkpoints=cell_checkpoints,
        classes=layout.CLASSES,
        meta=layout.DATA_META,
        tuning=layout.split_file("validation"),
    output:
        predictions=layout.cell_file("predictions.parquet"),
        metrics=layout.cell_file("metrics.parquet"),
    log:
        layout.log_file("predict_cell", "dataset", "model", "method", "sparsity"),
    benchmark:
        layout.benchmark_file("predict_cell", "dataset", "model", "method", "sparsity")
    conda:
        "../envs/pieflow.yaml"
    params:
        spec=inference_params,
        splits=config["splits"],
        seeds=SEEDS,
        prunable=config["prunable"],
    script:
        "../workflow/scripts/predict_cell.py"
