rule find_pies:
    input:
        dense="results/{dataset}/{model}/dense/0/predictions.parquet",
        pruned="results/{dataset}/{model}/{method}/{sparsity}/predictions.parquet",
        classes="results/{dataset}/data/classes.json",
    output:
        "results/{dataset}/{model}/{method}/{sparsity}/pies.parquet",
    log:
        "results/logs/find_pies/{dataset}/{model}/{method}/{sparsity}.log",
    wildcard_constraints:
        method=_alternatives(PRUNING_METHODS),
    conda:
        "../envs/pieflow.yaml"
    script:
        "../workflow/scripts/find_pies.py"
