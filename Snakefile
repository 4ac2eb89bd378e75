from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/prune.smk"
include: "rules/predict.smk"
include: "rules/diff.smk"
include: "rules/influence.smk"
include: "rules/analysis.smk"


rule all:
    input:
        get_final_output(),
