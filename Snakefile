from snakemake.utils import min_version

from pieflow.config_errors import check_yaml_files

min_version("9.0")

# file:line:column for a YAML error (Snakemake names neither), before it reads the file.
check_yaml_files("config.yaml", *workflow.config_settings.configfiles)


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/prune.smk"
include: "rules/predict.smk"
include: "rules/imports.smk"
include: "rules/llm.smk"
include: "rules/diff.smk"
include: "rules/influence.smk"
include: "rules/analysis.smk"


rule all:
    input:
        get_final_output(),
