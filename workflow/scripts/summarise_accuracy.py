"""Accuracy table and figure over all cells (rule summarise_accuracy)."""

from pieflow.jobs import summarise_accuracy_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
summarise_accuracy_job(list(snakemake.input.metrics), dict(snakemake.output))
