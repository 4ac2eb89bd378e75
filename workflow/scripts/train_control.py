"""Train one dense seed as long as the iterative schedules, unpruned (rule train_control)."""

from pieflow.logs import log_to
from pieflow.models.loading import with_word_vectors
from pieflow.runtime import finish_job, set_precision, set_threads
from pieflow.train.job import train_control_job

log_to(snakemake.log[0])
set_threads(snakemake.threads)
set_precision(snakemake.resources.get("precision"))
spec = with_word_vectors(snakemake.params.spec, snakemake.input.get("vectors"))
dense = {key: snakemake.input[key] for key in ("model", "optimizer", "history")}
train_control_job(spec, snakemake.params.prunes, int(snakemake.wildcards.seed),
                  snakemake.input.train, snakemake.input.classes, snakemake.input.meta, dense,
                  dict(snakemake.output), validation_path=snakemake.input.validation)
finish_job()
