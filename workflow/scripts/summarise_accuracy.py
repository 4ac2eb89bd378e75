"""Accuracy table, its report view and figure over all cells (rule summarise_accuracy)."""

from pieflow.logs import log_to
from pieflow.summaries import summarise_accuracy_job

log_to(snakemake.log[0])
summarise_accuracy_job(list(snakemake.input.metrics), dict(snakemake.output),
                       pie_summary_path=snakemake.input.summary)
