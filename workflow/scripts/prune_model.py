"""Prune one seed with one method to one sparsity (rule prune_model)."""

from pieflow.logs import log_to
from pieflow.models.loading import with_word_vectors
from pieflow.prune.job import prune_job
from pieflow.runtime import finish_job, set_precision, set_threads

log_to(snakemake.log[0])
set_threads(snakemake.threads)
set_precision(snakemake.resources.get("precision"))
spec = with_word_vectors(snakemake.params.spec, snakemake.input.get("vectors"))
dense = {key: snakemake.input[key] for key in ("model", "optimizer", "history")
         if key in snakemake.input.keys()}  # noqa: SIM118 (Namedlist: `in` checks values)
prune_job(spec, snakemake.params.method, int(snakemake.wildcards.sparsity),
          snakemake.params.prunable, int(snakemake.wildcards.seed), snakemake.input.train,
          snakemake.input.classes, snakemake.input.meta, dense or None, dict(snakemake.output))
finish_job()
