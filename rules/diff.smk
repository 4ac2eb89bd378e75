from pieflow.diff import nullrate as diff_nullrate


rule diff_cell:
    input:
        dense=layout.dense_file("predictions.parquet"),
        pruned=layout.cell_file("predictions.parquet"),
        classes=layout.CLASSES,
        meta=layout.DATA_META,
    output:
        pies=layout.cell_file("pies.parquet"),
        null_rate=layout.cell_file("null_rate.parquet"),
    log:
        layout.log_file("diff_cell", "dataset", "model", "method", "sparsity"),
    wildcard_constraints:
        method=_alternatives(PRUNING_METHODS),
    conda:
        "../envs/pieflow.yaml"
    params:
        repeats=diff_nullrate.NULL_REPEATS,
        seed=diff_nullrate.NULL_SEED,
        confidence=diff_nullrate.NULL_CONFIDENCE,
    script:
        "../workflow/scripts/diff_cell.py"
