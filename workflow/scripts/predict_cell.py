"""Predict every configured split with every seed of one cell (rule predict_cell)."""

from pieflow.logs import log_to
from pieflow.models.loading import with_word_vectors
from pieflow.predict.job import predict_job
from pieflow.runtime import finish_job, set_precision, set_threads

log_to(snakemake.log[0])
set_threads(snakemake.threads)
set_precision(snakemake.resources.get("precision"))
spec = with_word_vectors(snakemake.params.spec, snakemake.input.get("vectors"))
predict_job(spec, snakemake.params.prunable, list(snakemake.params.seeds),
            list(snakemake.input.checkpoints),
            {split: snakemake.input[split] for split in snakemake.params.splits},
            snakemake.input.classes, snakemake.input.meta, snakemake.input.tuning,
            dict(snakemake.output))
finish_job()
