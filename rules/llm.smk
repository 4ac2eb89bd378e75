# Pretrained LLMs used as they are (config: llms, llm_tasks): each member is one
# lm-evaluation-harness run (few-shot seed i, and calibration seed i for calibrated
# methods); its samples file is read by the lm-eval import (rules/imports.smk), so
# diff, difficulty and analysis run on it unchanged (pieflow.llm.spec).
LLM_NAMES = sorted(llm_spec.llm_specs(config))
LLM_TASK_NAMES = sorted(llm_spec.llm_tasks(config))
LLM_METHODS = sorted(
    {m for llm in llm_spec.llm_specs(config).values() for m in llm.methods}
    | {m for llm in llm_spec.llm_specs(config).values() for m in llm.checkpoints}
)


# A GGUF file, dequantized once into a safetensors folder: later jobs load it in
# seconds instead of dequantizing it again.
rule convert_llm:
    output:
        directory(llm_spec.CONVERTED),
    log:
        layout.log_file("convert_llm", "model"),
    benchmark:
        layout.benchmark_file("convert_llm", "model")
    wildcard_constraints:
        model=_alternatives(LLM_NAMES),
    conda:
        "../envs/pieflow.yaml"
    params:
        pretrained=lambda wildcards: llm_spec.llm_specs(config)[
            wildcards.model
        ].pretrained,
        gguf_file=lambda wildcards: llm_spec.llm_specs(config)[
            wildcards.model
        ].gguf_file,
    script:
        "../workflow/scripts/convert_llm.py"


rule evaluate_llm:
    input:
        unpack(llm_member_inputs),
    output:
        samples=layout.seed_file(llm_spec.SAMPLES),
        results=layout.seed_file(llm_spec.LM_EVAL_RESULTS),
        compression=layout.seed_file(llm_spec.COMPRESSION),
    log:
        layout.log_file(
            "evaluate_llm", "dataset", "model", "method", "sparsity", "seed"
        ),
    benchmark:
        layout.benchmark_file(
            "evaluate_llm", "dataset", "model", "method", "sparsity", "seed"
        )
    wildcard_constraints:
        dataset=_alternatives(LLM_TASK_NAMES),
        model=_alternatives(LLM_NAMES),
        method=_alternatives([layout.DENSE, *LLM_METHODS]),
    conda:
        "../envs/pieflow.yaml"
    params:
        member=llm_member_params,
    script:
        "../workflow/scripts/evaluate_llm.py"


# The compressed model of one member in Hugging Face's format (llms.<name>.export).
rule export_llm:
    input:
        unpack(llm_member_inputs),
    output:
        directory(layout.seed_file(llm_spec.EXPORT)),
    log:
        layout.log_file("export_llm", "dataset", "model", "method", "sparsity", "seed"),
    wildcard_constraints:
        dataset=_alternatives(LLM_TASK_NAMES),
        model=_alternatives(LLM_NAMES),
        method=_alternatives(LLM_METHODS),
    conda:
        "../envs/pieflow.yaml"
    params:
        member=llm_member_params,
    script:
        "../workflow/scripts/export_llm.py"
