"""Load, compress and evaluate one member of a pretrained LLM (rule evaluate_llm)."""

from pieflow.llm.job import evaluate_job
from pieflow.logs import log_to
from pieflow.runtime import finish_job, set_precision, set_threads

log_to(snakemake.log[0])
set_threads(snakemake.threads)
set_precision(snakemake.resources.get("precision"))
member, w = snakemake.params.member, snakemake.wildcards
evaluate_job(member["model"], member["task"], member["method"], member["checkpoint"],
             int(w.sparsity), int(w.seed), member["calibration"], dict(snakemake.input),
             dict(snakemake.output))
finish_job()
