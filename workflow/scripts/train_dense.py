"""Fine-tune one dense seed (rule train_dense)."""

from pieflow.jobs import set_threads, train_dense_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
set_threads(snakemake.threads)
train_dense_job(
    snakemake.params.spec,
    int(snakemake.wildcards.seed),
    snakemake.input.train,
    snakemake.input.classes,
    dict(snakemake.output),
)
