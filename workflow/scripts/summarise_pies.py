"""PIE summary, EL2N bins and their figures over all pruned cells (rule summarise_pies)."""

from pieflow.logs import log_to
from pieflow.summaries import summarise_pies_job

log_to(snakemake.log[0])
summarise_pies_job(list(snakemake.input.pies), dict(snakemake.output))
