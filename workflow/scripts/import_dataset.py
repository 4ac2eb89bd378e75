"""A dataset's data/ files from the imported predictions on it (rule import_dataset)."""

from pieflow.imports.job import import_dataset_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
import_dataset_job(snakemake.params.entries, dict(snakemake.output))
