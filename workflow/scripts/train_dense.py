"""Fine-tune one dense seed (rule train_dense)."""

from pieflow.logs import log_to
from pieflow.models.loading import with_word_vectors
from pieflow.runtime import finish_job, set_precision, set_threads
from pieflow.train.job import train_dense_job

log_to(snakemake.log[0])
set_threads(snakemake.threads)
set_precision(snakemake.resources.get("precision"))
spec = with_word_vectors(snakemake.params.spec, snakemake.input.get("vectors"))
train_dense_job(spec, int(snakemake.wildcards.seed), snakemake.input.train,
                snakemake.input.classes, snakemake.input.meta, dict(snakemake.output),
                validation_path=snakemake.input.validation)
finish_job()
