"""Accuracy table, its report view and figure over all cells (rule summarise_accuracy)."""

from pieflow.analysis.job import summarise_accuracy_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
summarise_accuracy_job(metrics=snakemake.input.metrics, cells=snakemake.params.cells,
                       summary=snakemake.input.summary, outputs=dict(snakemake.output),
                       compression=snakemake.params.compression)
