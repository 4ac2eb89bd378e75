"""PIEs of one pruned cell against its dense population (rule find_pies)."""

from pieflow.jobs import pies_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
pies_job(snakemake.input.dense, snakemake.input.pruned, snakemake.input.classes,
         snakemake.output[0])
