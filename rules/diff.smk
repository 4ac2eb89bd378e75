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
        paired=layout.cell_file("paired.parquet"),
    log:
        layout.log_file("diff_cell", "dataset", "model", "method", "sparsity"),
    wildcard_constraints:
        method=_alternatives(DIFFED_METHODS),
    conda:
        "../envs/pieflow.yaml"
    params:
        repeats=diff_nullrate.NULL_REPEATS,
        seed=diff_nullrate.NULL_SEED,
        confidence=diff_nullrate.NULL_CONFIDENCE,
    script:
        "../workflow/scripts/diff_cell.py"


# Pruning at a matched training budget: the control (dense seeds trained as long as the
# iterative schedule, unpruned) takes the dense population's place; control seed i is the
# twin of pruned seed i (both continue from dense seed i), so the fair null applies as is.
rule diff_vs_control:
    input:
        dense=layout.control_file("predictions.parquet"),
        pruned=layout.cell_file("predictions.parquet"),
        classes=layout.CLASSES,
        meta=layout.DATA_META,
    output:
        pies=layout.vs_control_file("pies.parquet"),
        null_rate=layout.vs_control_file("null_rate.parquet"),
        paired=layout.vs_control_file("paired.parquet"),
    log:
        layout.log_file("diff_vs_control", "dataset", "model", "method", "sparsity"),
    wildcard_constraints:
        method=_alternatives(ITERATIVE_METHODS),
    conda:
        "../envs/pieflow.yaml"
    params:
        repeats=diff_nullrate.NULL_REPEATS,
        seed=diff_nullrate.NULL_SEED,
        confidence=diff_nullrate.NULL_CONFIDENCE,
    script:
        "../workflow/scripts/diff_cell.py"


# Imported populations: the same job; a null rate only from IMPORTED_MIN_SEEDS dense
# members (and seeds shared with them) on, else flips and McNemar only, said in the rows.
rule diff_imported_cell:
    input:
        dense=layout.dense_file("predictions.parquet"),
        pruned=layout.cell_file("predictions.parquet"),
        classes=layout.CLASSES,
        meta=layout.DATA_META,
    output:
        pies=layout.cell_file("pies.parquet"),
        null_rate=layout.cell_file("null_rate.parquet"),
        paired=layout.cell_file("paired.parquet"),
    log:
        layout.log_file("diff_imported_cell", "dataset", "model", "method", "sparsity"),
    wildcard_constraints:
        dataset=_alternatives(IMPORTED_DATASET_NAMES),
        model=_alternatives(IMPORTED_MODEL_NAMES),
        method=_alternatives(IMPORTED_METHODS),
    conda:
        "../envs/pieflow.yaml"
    params:
        repeats=diff_nullrate.NULL_REPEATS,
        seed=diff_nullrate.NULL_SEED,
        confidence=diff_nullrate.NULL_CONFIDENCE,
        min_seeds=diff_nullrate.IMPORTED_MIN_SEEDS,
    script:
        "../workflow/scripts/diff_cell.py"
