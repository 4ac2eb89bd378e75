"""One compressed member of a pretrained LLM in Hugging Face's format (rule export_llm)."""

from pieflow.llm.job import export_job
from pieflow.logs import log_to
from pieflow.runtime import finish_job, set_precision, set_threads

log_to(snakemake.log[0])
set_threads(snakemake.threads)
set_precision(snakemake.resources.get("precision"))
member, w = snakemake.params.member, snakemake.wildcards
export_job(member["model"], member["task"], member["method"], int(w.sparsity), int(w.seed),
           member["calibration"], dict(snakemake.input), snakemake.output[0])
finish_job()
