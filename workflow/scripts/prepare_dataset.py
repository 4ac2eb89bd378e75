"""Normalise one dataset into train/validation/test Parquet files (rule prepare_dataset)."""

from pieflow.data.job import prepare_dataset
from pieflow.logs import log_to

log_to(snakemake.log[0])
prepare_dataset(snakemake.wildcards.dataset, snakemake.params.spec, dict(snakemake.output))
