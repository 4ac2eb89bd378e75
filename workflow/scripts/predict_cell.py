"""Predict every configured split with every seed of one cell (rule predict_cell)."""

from pieflow.jobs import predict_job, set_threads
from pieflow.logs import log_to

log_to(snakemake.log[0])
set_threads(snakemake.threads)
predict_job(
    snakemake.params.spec,
    snakemake.params.prunable,
    list(snakemake.input.checkpoints),
    {split: snakemake.input[split] for split in snakemake.params.splits},
    snakemake.input.classes,
    dict(snakemake.output),
    validation_path=snakemake.input.tuning,
)
