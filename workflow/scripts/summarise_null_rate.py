"""Null-rate table and figure over all pruned cells (rule summarise_null_rate)."""

from pieflow.analysis.job import summarise_null_rate_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
summarise_null_rate_job(null_rates=snakemake.input.null_rates, cells=snakemake.params.cells,
                        summary=snakemake.input.summary, outputs=dict(snakemake.output))
