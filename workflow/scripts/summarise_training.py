"""Training curves of the dense and control populations (rule summarise_training)."""

from pieflow.analysis.job import summarise_training_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
summarise_training_job(histories=snakemake.input.histories, seeds=snakemake.params.seeds,
                       validation=snakemake.input.validation, meta=snakemake.input.meta,
                       datasets=snakemake.params.datasets, outputs=dict(snakemake.output))
