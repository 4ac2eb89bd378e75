"""EL2N-like difficulty of an imported model's examples (rule score_imported_difficulty)."""

from pieflow.imports.job import imported_difficulty_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
imported_difficulty_job(snakemake.input.dense, snakemake.input.classes, snakemake.input.meta,
                        snakemake.output[0])
