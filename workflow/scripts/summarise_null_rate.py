"""Null-rate table and figure over all pruned cells (rule summarise_null_rate)."""

from pieflow.logs import log_to
from pieflow.summaries import summarise_null_rate_job

log_to(snakemake.log[0])
summarise_null_rate_job(list(snakemake.input.null_rates), snakemake.input.summary,
                        dict(snakemake.output))
