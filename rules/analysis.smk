from pieflow.analysis import examples as analysis_examples
from pieflow.analysis import tokens as analysis_tokens
from pieflow.diff import nullrate as diff_nullrate

REPORT = "../workflow/report"
# Every population; those compared with the dense one (PIEs, null rate). Pruned cells
# compared with their model's training-budget control too: VS_CONTROL_CELLS (common.smk).
ALL_CELLS = (
    DENSE_CELLS + CONTROL_CELLS + PRUNED_CELLS + IMPORTED_DENSE_CELLS + IMPORTED_CELLS
)
PIE_CELLS = PRUNED_CELLS + CONTROL_CELLS + IMPORTED_CELLS
# Text analysis: datasets with texts (imported ones may have none: skipped, and said).
TEXT_PIE_CELLS = [cell for cell in PIE_CELLS if cell.dataset in TEXT_DATASETS]
NO_TEXT_DATASETS = [d for d in DATASETS if d not in TEXT_DATASETS]
PIE_SUMMARY = layout.analysis_file("pies.parquet")


rule score_text_features:
    input:
        unpack(split_inputs),
    output:
        layout.TEXT_FEATURES,
    log:
        layout.log_file("score_text_features", "dataset"),
    benchmark:
        layout.benchmark_file("score_text_features", "dataset")
    wildcard_constraints:
        dataset=_alternatives(TEXT_DATASETS),
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
        layout.TOKEN_COUNTS,
    log:
        layout.log_file("count_tokens", "dataset", "model"),
    conda:
        "../envs/pieflow.yaml"
    params:
        spec=lambda wildcards: analysis_tokens.tokenizer_view(
            inference_params(wildcards)
        ),
        splits=config["splits"],
    script:
        "../workflow/scripts/count_tokens.py"


rule summarise_accuracy:
    input:
        metrics=cell_files(ALL_CELLS, "metrics.parquet"),
        summary=PIE_SUMMARY,
    output:
        table=layout.analysis_file("accuracy.parquet"),
        table_view=report(
            layout.view_file("accuracy.html"),
            category="1. Accuracy",
            subcategory="Mean over seeds",
            labels={"view": "table", "shows": "accuracy and macro-F1 per population"},
            caption=f"{REPORT}/accuracy_table.rst",
        ),
        figure=report(
            layout.figure_file("accuracy.png"),
            category="1. Accuracy",
            subcategory="Mean over seeds",
            labels={"view": "figure", "shows": "test accuracy by sparsity"},
            caption=f"{REPORT}/accuracy.rst",
        ),
    log:
        layout.log_file("summarise_accuracy"),
    conda:
        "../envs/pieflow.yaml"
    params:
        cells=cell_keys(ALL_CELLS),
        compression=pieflow_config.compression_kinds(config),
    script:
        "../workflow/scripts/summarise_accuracy.py"


rule summarise_pies:
    input:
        pies=cell_files(PIE_CELLS, "pies.parquet"),
        pruned=cell_files(PIE_CELLS, "predictions.parquet"),
        dense=per_model(layout.dense_file("predictions.parquet")),
        influence=per_model(layout.INFLUENCE),
        meta=per_dataset(layout.DATA_META),
    output:
        summary=PIE_SUMMARY,
        summary_view=report(
            layout.view_file("pies.html"),
            category="2. PIEs",
            subcategory="Count and accuracy",
            labels={"view": "table", "shows": "PIEs and accuracies per cell"},
            caption=f"{REPORT}/pies_table.rst",
        ),
        el2n_bins=layout.analysis_file("el2n_bins.parquet"),
        el2n_bins_view=report(
            layout.view_file("el2n_bins.html"),
            category="4. Difficulty",
            subcategory="Loss by EL2N bin",
            labels={"view": "table", "shows": "loss change per EL2N bin"},
            caption=f"{REPORT}/el2n_bins_table.rst",
        ),
        pie_figure=report(
            layout.figure_file("pie_share.png"),
            category="2. PIEs",
            subcategory="Count and accuracy",
            labels={"view": "figure", "shows": "PIE share by sparsity"},
            caption=f"{REPORT}/pie_share.rst",
        ),
        accuracy_figure=report(
            layout.figure_file("pie_accuracy.png"),
            category="2. PIEs",
            subcategory="Count and accuracy",
            labels={"view": "figure", "shows": "accuracy on PIEs vs. non-PIEs"},
            caption=f"{REPORT}/pie_accuracy.rst",
        ),
        el2n_figure=report(
            layout.figure_file("el2n_loss.png"),
            category="4. Difficulty",
            subcategory="Loss by EL2N bin",
            labels={"view": "figure", "shows": "loss change by EL2N difficulty"},
            caption=f"{REPORT}/el2n_loss.rst",
        ),
    log:
        layout.log_file("summarise_pies"),
    conda:
        "../envs/pieflow.yaml"
    params:
        cells=cell_keys(PIE_CELLS),
        models=model_keys(),
        datasets=DATASETS,
    script:
        "../workflow/scripts/summarise_pies.py"


rule summarise_null_rate:
    input:
        null_rates=cell_files(PIE_CELLS, "null_rate.parquet"),
        summary=PIE_SUMMARY,
    output:
        table=layout.analysis_file("null_rate.parquet"),
        table_view=report(
            layout.view_file("null_rate.html"),
            category="3. Null rate",
            subcategory="PIEs beyond seed noise",
            labels={"view": "table", "shows": "null, PIEs and excess per cell"},
            caption=f"{REPORT}/null_rate_table.rst",
        ),
        figure=report(
            layout.figure_file("null_rate.png"),
            category="3. Null rate",
            subcategory="PIEs beyond seed noise",
            labels={"view": "figure", "shows": "PIE share vs. null share"},
            caption=f"{REPORT}/null_rate.rst",
        ),
    log:
        layout.log_file("summarise_null_rate"),
    conda:
        "../envs/pieflow.yaml"
    params:
        cells=cell_keys(PIE_CELLS),
        # shown in the report's captions
        repeats=diff_nullrate.NULL_REPEATS,
        confidence=diff_nullrate.NULL_CONFIDENCE,
    script:
        "../workflow/scripts/summarise_null_rate.py"


rule summarise_classes:
    input:
        predictions=cell_files(ALL_CELLS, "predictions.parquet"),
        pies=cell_files(PIE_CELLS, "pies.parquet"),
        train=per_dataset(layout.DATA_SPLIT, split="train"),
        classes=per_dataset(layout.CLASSES),
        meta=per_dataset(layout.DATA_META),
        summary=PIE_SUMMARY,
    output:
        class_accuracy=layout.analysis_file("class_accuracy.parquet"),
        class_accuracy_view=report(
            layout.view_file("class_accuracy.html"),
            category="5. Classes",
            subcategory="Per-class accuracy",
            labels={"view": "table", "shows": "per-class accuracy / F1"},
            caption=f"{REPORT}/class_accuracy_table.rst",
        ),
        class_accuracy_figure=report(
            layout.figure_file("class_accuracy.png"),
            category="5. Classes",
            subcategory="Per-class accuracy",
            labels={"view": "figure", "shows": "per-class accuracy heatmap"},
            caption=f"{REPORT}/class_accuracy.rst",
        ),
        pie_classes=layout.analysis_file("pie_classes.parquet"),
        pie_classes_view=report(
            layout.view_file("pie_classes.html"),
            category="5. Classes",
            subcategory="PIE classes",
            labels={"view": "table", "shows": "class shares among PIEs"},
            caption=f"{REPORT}/pie_classes_table.rst",
        ),
        pie_classes_figure=report(
            layout.figure_file("pie_classes.png"),
            category="5. Classes",
            subcategory="PIE classes",
            labels={"view": "figure", "shows": "class shares: data vs. PIEs"},
            caption=f"{REPORT}/pie_classes.rst",
        ),
    log:
        layout.log_file("summarise_classes"),
    conda:
        "../envs/pieflow.yaml"
    params:
        cells=cell_keys(ALL_CELLS),
        pie_cells=cell_keys(PIE_CELLS),
        datasets=DATASETS,
    script:
        "../workflow/scripts/summarise_classes.py"


rule summarise_text:
    input:
        pies=cell_files(TEXT_PIE_CELLS, "pies.parquet"),
        features=per_dataset(layout.TEXT_FEATURES, TEXT_DATASETS),
        tokens=per_model(layout.TOKEN_COUNTS, TRAINED_MODELS),
        summary=PIE_SUMMARY,
    output:
        table=layout.analysis_file("text_comparison.parquet"),
        table_view=report(
            layout.view_file("text_comparison.html"),
            category="6. Text",
            subcategory="PIEs vs. non-PIEs",
            labels={"view": "table", "shows": "tests per text feature"},
            caption=f"{REPORT}/text_comparison_table.rst",
        ),
        figure=report(
            layout.figure_file("text_effects.png"),
            category="6. Text",
            subcategory="PIEs vs. non-PIEs",
            labels={"view": "figure", "shows": "effect sizes per text feature"},
            caption=f"{REPORT}/text_effects.rst",
        ),
    log:
        layout.log_file("summarise_text"),
    conda:
        "../envs/pieflow.yaml"
    params:
        cells=cell_keys(TEXT_PIE_CELLS),
        datasets=TEXT_DATASETS,
        models=model_keys(TRAINED_MODELS),
        skipped=NO_TEXT_DATASETS,
    script:
        "../workflow/scripts/summarise_text.py"


rule summarise_pie_examples:
    input:
        pies=cell_files(PIE_CELLS, "pies.parquet"),
        texts=split_files(),
        classes=per_dataset(layout.CLASSES),
        meta=per_dataset(layout.DATA_META),
        influence=per_model(layout.INFLUENCE),
        summary=PIE_SUMMARY,
    output:
        table=layout.analysis_file("pie_examples.parquet"),
        table_view=report(
            layout.view_file("pie_examples.html"),
            category="7. Example PIEs",
            subcategory="Most agreed-on PIEs",
            labels={"view": "table", "shows": "example PIEs with text and labels"},
            caption=f"{REPORT}/pie_examples.rst",
        ),
    log:
        layout.log_file("summarise_pie_examples"),
    conda:
        "../envs/pieflow.yaml"
    params:
        cells=cell_keys(PIE_CELLS),
        text_keys=split_keys(),
        datasets=DATASETS,
        models=model_keys(),
        k=analysis_examples.EXAMPLES_PER_CELL,
    script:
        "../workflow/scripts/summarise_pie_examples.py"


# Every registered difficulty score (pieflow.influence.scores) as a predictor of PIEs.
rule summarise_pie_predictors:
    input:
        pies=cell_files(PIE_CELLS, "pies.parquet"),
        influence=per_model(layout.INFLUENCE),
        summary=PIE_SUMMARY,
    output:
        table=layout.PIE_PREDICTORS,
        table_view=report(
            layout.view_file("pie_predictors.html"),
            category="4. Difficulty",
            subcategory="Predictors of PIEs",
            labels={"view": "table", "shows": "AUROC of each difficulty score"},
            caption=f"{REPORT}/pie_predictors_table.rst",
        ),
        deciles=layout.PIE_PREDICTOR_DECILES,
        deciles_view=report(
            layout.view_file("pie_predictor_deciles.html"),
            category="4. Difficulty",
            subcategory="Predictors of PIEs",
            labels={"view": "table", "shows": "PIE rate by score decile"},
            caption=f"{REPORT}/pie_predictor_deciles_table.rst",
        ),
        figure=report(
            layout.figure_file("pie_predictors.png"),
            category="4. Difficulty",
            subcategory="Predictors of PIEs",
            labels={"view": "figure", "shows": "AUROC and PIE rate by decile"},
            caption=f"{REPORT}/pie_predictors.rst",
        ),
    log:
        layout.log_file("summarise_pie_predictors"),
    benchmark:
        layout.benchmark_file("summarise_pie_predictors")
    conda:
        "../envs/pieflow.yaml"
    params:
        cells=cell_keys(PIE_CELLS),
        models=model_keys(),
    script:
        "../workflow/scripts/summarise_pie_predictors.py"


rule summarise_findings:
    input:
        accuracy=layout.analysis_file("accuracy.parquet"),
        summary=PIE_SUMMARY,
        null_rate=layout.analysis_file("null_rate.parquet"),
        text=layout.analysis_file("text_comparison.parquet"),
        predictors=layout.PIE_PREDICTORS,
        paired=cell_files(PIE_CELLS, "paired.parquet"),
        vs_control=vs_control_files("null_rate.parquet"),
    output:
        table=layout.analysis_file("findings.parquet"),
        table_view=report(
            layout.view_file("findings.html"),
            category="0. Findings",
            subcategory="Verdict per cell",
            labels={"view": "table", "shows": "verdict and finding per cell"},
            caption=f"{REPORT}/findings_table.rst",
        ),
    log:
        layout.log_file("summarise_findings"),
    conda:
        "../envs/pieflow.yaml"
    params:
        cells=cell_keys(PIE_CELLS),
        vs_control_cells=cell_keys(VS_CONTROL_CELLS),
        compression=pieflow_config.compression_kinds(config),
        no_text_datasets=NO_TEXT_DATASETS,
        null_meanings=llm_spec.null_meaning(config),
    script:
        "../workflow/scripts/summarise_findings.py"


# The training curves: every dense and control seed's history, with its keys.
TRAINING_SEEDS = [
    {**cell.keys(), "seed": seed}
    for cell in DENSE_CELLS + CONTROL_CELLS
    for seed in SEEDS
]
TRAINING_HISTORIES = [
    layout.fill(
        (
            layout.control_seed_file("history.parquet")
            if keys["method"] == layout.CONTROL
            else layout.dense_seed_file("history.parquet")
        ),
        **keys,
    )
    for keys in TRAINING_SEEDS
]


rule summarise_training:
    input:
        histories=TRAINING_HISTORIES,
        validation=per_dataset(
            layout.DATA_SPLIT, config["datasets"], split="validation"
        ),
        meta=per_dataset(layout.DATA_META, config["datasets"]),
    output:
        table=layout.analysis_file("training.parquet"),
        table_view=report(
            layout.view_file("training.html"),
            category="1. Accuracy",
            subcategory="Training curves",
            labels={"view": "table", "shows": "validation accuracy per epoch"},
            caption=f"{REPORT}/training_table.rst",
        ),
        figure=report(
            layout.figure_file("training_curve.png"),
            category="1. Accuracy",
            subcategory="Training curves",
            labels={"view": "figure", "shows": "training curves of the dense seeds"},
            caption=f"{REPORT}/training_curve.rst",
        ),
    log:
        layout.log_file("summarise_training"),
    conda:
        "../envs/pieflow.yaml"
    params:
        seeds=TRAINING_SEEDS,
        datasets=list(config["datasets"]),
    script:
        "../workflow/scripts/summarise_training.py"
