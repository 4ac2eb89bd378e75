"""Prune one seed with one method to one sparsity (rule prune_model)."""

from pieflow.logs import log_to
from pieflow.models.loading import finish_job, set_precision, set_threads
from pieflow.prune.job import prune_job

log_to(snakemake.log[0])
set_threads(snakemake.threads)
set_precision(snakemake.resources.get("precision"))
dense = {key: snakemake.input[key] for key in ("model", "optimizer", "history")
         if key in snakemake.input.keys()}  # noqa: SIM118 (Namedlist: `in` checks values)
prune_job(snakemake.params.spec, snakemake.params.method, int(snakemake.wildcards.sparsity),
          snakemake.params.prunable, int(snakemake.wildcards.seed), snakemake.input.train,
          snakemake.input.classes, snakemake.input.meta, dense or None, dict(snakemake.output))
finish_job()
