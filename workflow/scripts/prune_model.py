"""Prune one seed with one method to one sparsity (rule prune_model)."""

from pieflow.jobs import prune_job, set_threads
from pieflow.logs import log_to

log_to(snakemake.log[0])
set_threads(snakemake.threads)
dense_keys = ("model", "optimizer", "history")
dense = {key: snakemake.input[key] for key in dense_keys if key in snakemake.input.keys()}  # noqa: SIM118 (Namedlist: `in` checks values)
prune_job(
    snakemake.params.spec,
    snakemake.params.method,
    int(snakemake.wildcards.sparsity),
    snakemake.params.prunable,
    int(snakemake.wildcards.seed),
    snakemake.input.train,
    snakemake.input.classes,
    dense or None,
    dict(snakemake.output),
)
