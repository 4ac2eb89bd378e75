from pieflow import analysis as pieflow_analysis

ANALYSIS = "results/analysis"
FIGURES = "results/analysis/figures"
VIEWS = "results/analysis/tables"
REPORT = "../workflow/report"


rule score_null_rate:
    input:
        dense="results/{dataset}/{model}/dense/0/predictions.parquet",
        pruned="results/{dataset}/{model}/{method}/{sparsity}/predictions.parquet",
        classes="results/{dataset}/data/classes.json",
    output:
        "results/{dataset}/{model}/{method}/{sparsity}/null_rate.parquet",
    log:
        "results/logs/score_null_rate/{dataset}/{model}/{method}/{sparsity}.log",
    wildcard_constraints:
        method=_alternatives(PRUNING_METHODS),
    conda:
        "../envs/pieflow.yaml"
    params:
        repeats=pieflow_analysis.NULL_REPEATS,
        seed=pieflow_analysis.NULL_SEED,
        confidence=pieflow_analysis.NULL_CONFIDENCE,
    script:
        "../workflow/scripts/score_null_rate.py"


rule score_text_features:
    input:
        unpack(split_inputs),
    output:
        "results/{dataset}/text_features.parquet",
    log:
        "results/logs/score_text_features/{dataset}.log",
    benchmark:
        "results/benchmarks/score_text_features/{dataset}.tsv"
    conda:
        "../envs/pieflow.yaml"
    params:
        splits=config["splits"],
    script:
        "../workflow/scripts/score_text_features.py"


rule count_tokens:
    input:
        unpack(vector_inputs),
        unpack(split_inputs),
    output:
        "results/{dataset}/{model}/token_counts.parquet",
    log:
        "results/logs/count_tokens/{dataset}/{model}.log",
    conda:
        "../envs/pieflow.yaml"
    params:
        spec=lambda wildcards: pieflow_analysis.tokenizer_view(
            inference_params(wildcards)
        ),
        splits=config["splits"],
    script:
        "../workflow/scripts/count_tokens.py"


rule summarise_accuracy:
    input:
        metrics=[
            *dense_cell_files("metrics.parquet"),
            *pruned_cell_files("metrics.parquet"),
        ],
        summary=f"{ANALYSIS}/pies.parquet",
    output:
        table=f"{ANALYSIS}/accuracy.parquet",
        table_view=report(
            f"{VIEWS}/accuracy.html",
            category="1. Accuracy",
            subcategory="Mean over seeds",
            labels={"view": "table", "shows": "accuracy and macro-F1 per population"},
            caption=f"{REPORT}/accuracy_table.rst",
        ),
        figure=report(
            f"{FIGURES}/accuracy.png",
            category="1. Accuracy",
            subcategory="Mean over seeds",
            labels={"view": "figure", "shows": "test accuracy by sparsity"},
            caption=f"{REPORT}/accuracy.rst",
        ),
    log:
        "results/logs/summarise_accuracy.log",
    conda:
        "../envs/pieflow.yaml"
    script:
        "../workflow/scripts/summarise_accuracy.py"


rule summarise_pies:
    input:
        pies=pruned_cell_files("pies.parquet"),
        predictions=[
            *dense_cell_files("predictions.parquet"),
            *pruned_cell_files("predictions.parquet"),
        ],
        influence=expand(
            "results/{dataset}/{model}/influence.parquet",
            dataset=config["datasets"],
            model=config["models"],
        ),
    output:
        summary=f"{ANALYSIS}/pies.parquet",
        summary_view=report(
            f"{VIEWS}/pies.html",
            category="2. PIEs",
            subcategory="Count and accuracy",
            labels={"view": "table", "shows": "PIEs and accuracies per cell"},
            caption=f"{REPORT}/pies_table.rst",
        ),
        el2n_bins=f"{ANALYSIS}/el2n_bins.parquet",
        el2n_bins_view=report(
            f"{VIEWS}/el2n_bins.html",
            category="4. Difficulty (EL2N)",
            subcategory="Loss by EL2N bin",
            labels={"view": "table", "shows": "loss change per EL2N bin"},
            caption=f"{REPORT}/el2n_bins_table.rst",
        ),
        pie_figure=report(
            f"{FIGURES}/pie_share.png",
            category="2. PIEs",
            subcategory="Count and accuracy",
            labels={"view": "figure", "shows": "PIE share by sparsity"},
            caption=f"{REPORT}/pie_share.rst",
        ),
        accuracy_figure=report(
            f"{FIGURES}/pie_accuracy.png",
            category="2. PIEs",
            subcategory="Count and accuracy",
            labels={"view": "figure", "shows": "accuracy on PIEs vs. non-PIEs"},
            caption=f"{REPORT}/pie_accuracy.rst",
        ),
        el2n_figure=report(
            f"{FIGURES}/el2n_loss.png",
            category="4. Difficulty (EL2N)",
            subcategory="Loss by EL2N bin",
            labels={"view": "figure", "shows": "loss change by EL2N difficulty"},
            caption=f"{REPORT}/el2n_loss.rst",
        ),
    log:
        "results/logs/summarise_pies.log",
    conda:
        "../envs/pieflow.yaml"
    script:
        "../workflow/scripts/summarise_pies.py"


rule summarise_null_rate:
    input:
        null_rates=pruned_cell_files("null_rate.parquet"),
        summary=f"{ANALYSIS}/pies.parquet",
    output:
        table=f"{ANALYSIS}/null_rate.parquet",
        table_view=report(
            f"{VIEWS}/null_rate.html",
            category="3. Null rate",
            subcategory="PIEs beyond seed noise",
            labels={"view": "table", "shows": "null, PIEs and excess per cell"},
            caption=f"{REPORT}/null_rate_table.rst",
        ),
        figure=report(
            f"{FIGURES}/null_rate.png",
            category="3. Null rate",
            subcategory="PIEs beyond seed noise",
            labels={"view": "figure", "shows": "PIE share vs. null share"},
            caption=f"{REPORT}/null_rate.rst",
        ),
    log:
        "results/logs/summarise_null_rate.log",
    conda:
        "../envs/pieflow.yaml"
    params:
        # shown in the report's captions
        repeats=pieflow_analysis.NULL_REPEATS,
        confidence=pieflow_analysis.NULL_CONFIDENCE,
    script:
        "../workflow/scripts/summarise_null_rate.py"


rule summarise_classes:
    input:
        predictions=[
            *dense_cell_files("predictions.parquet"),
            *pruned_cell_files("predictions.parquet"),
        ],
        pies=pruned_cell_files("pies.parquet"),
        train=expand("results/{dataset}/data/train.parquet", dataset=config["datasets"]),
        classes=expand(
            "results/{dataset}/data/classes.json", dataset=config["datasets"]
        ),
        summary=f"{ANALYSIS}/pies.parquet",
    output:
        class_accuracy=f"{ANALYSIS}/class_accuracy.parquet",
        class_accuracy_view=report(
            f"{VIEWS}/class_accuracy.html",
            category="5. Classes",
            subcategory="Per-class accuracy",
            labels={"view": "table", "shows": "per-class accuracy / F1"},
            caption=f"{REPORT}/class_accuracy_table.rst",
        ),
        class_accuracy_figure=report(
            f"{FIGURES}/class_accuracy.png",
            category="5. Classes",
            subcategory="Per-class accuracy",
            labels={"view": "figure", "shows": "per-class accuracy heatmap"},
            caption=f"{REPORT}/class_accuracy.rst",
        ),
        pie_classes=f"{ANALYSIS}/pie_classes.parquet",
        pie_classes_view=report(
            f"{VIEWS}/pie_classes.html",
            category="5. Classes",
            subcategory="PIE classes",
            labels={"view": "table", "shows": "class shares among PIEs"},
            caption=f"{REPORT}/pie_classes_table.rst",
        ),
        pie_classes_figure=report(
            f"{FIGURES}/pie_classes.png",
            category="5. Classes",
            subcategory="PIE classes",
            labels={"view": "figure", "shows": "class shares: data vs. PIEs"},
            caption=f"{REPORT}/pie_classes.rst",
        ),
    log:
        "results/logs/summarise_classes.log",
    conda:
        "../envs/pieflow.yaml"
    script:
        "../workflow/scripts/summarise_classes.py"


rule summarise_text:
    input:
        pies=pruned_cell_files("pies.parquet"),
        features=expand(
            "results/{dataset}/text_features.parquet", dataset=config["datasets"]
        ),
        tokens=expand(
            "results/{dataset}/{model}/token_counts.parquet",
            dataset=config["datasets"],
            model=config["models"],
        ),
        summary=f"{ANALYSIS}/pies.parquet",
    output:
        table=f"{ANALYSIS}/text_comparison.parquet",
        table_view=report(
            f"{VIEWS}/text_comparison.html",
            category="6. Text",
            subcategory="PIEs vs. non-PIEs",
            labels={"view": "table", "shows": "tests per text feature"},
            caption=f"{REPORT}/text_comparison_table.rst",
        ),
        figure=report(
            f"{FIGURES}/text_effects.png",
            category="6. Text",
            subcategory="PIEs vs. non-PIEs",
            labels={"view": "figure", "shows": "effect sizes per text feature"},
            caption=f"{REPORT}/text_effects.rst",
        ),
    log:
        "results/logs/summarise_text.log",
    conda:
        "../envs/pieflow.yaml"
    script:
        "../workflow/scripts/summarise_text.py"


rule summarise_pie_examples:
    input:
        pies=pruned_cell_files("pies.parquet"),
        texts=expand(
            "results/{dataset}/data/{split}.parquet",
            dataset=config["datasets"],
            split=config["splits"],
        ),
        classes=expand(
            "results/{dataset}/data/classes.json", dataset=config["datasets"]
        ),
        influence=expand(
            "results/{dataset}/{model}/influence.parquet",
            dataset=config["datasets"],
            model=config["models"],
        ),
        summary=f"{ANALYSIS}/pies.parquet",
    output:
        table=f"{ANALYSIS}/pie_examples.parquet",
        table_view=report(
            f"{VIEWS}/pie_examples.html",
            category="7. Example PIEs",
            subcategory="Most agreed-on PIEs",
            labels={"view": "table", "shows": "example PIEs with text and labels"},
            caption=f"{REPORT}/pie_examples.rst",
        ),
    log:
        "results/logs/summarise_pie_examples.log",
    conda:
        "../envs/pieflow.yaml"
    params:
        k=pieflow_analysis.EXAMPLES_PER_CELL,
    script:
        "../workflow/scripts/summarise_pie_examples.py"
