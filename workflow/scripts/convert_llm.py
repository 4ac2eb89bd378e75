"""Dequantize a GGUF once into a safetensors folder (rule convert_llm)."""

from pieflow.llm.job import convert_job
from pieflow.logs import log_to
from pieflow.runtime import finish_job, set_threads

log_to(snakemake.log[0])
set_threads(snakemake.threads)
convert_job(snakemake.params.pretrained, snakemake.params.gguf_file, snakemake.output[0])
finish_job()
