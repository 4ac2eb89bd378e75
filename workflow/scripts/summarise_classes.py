"""Per-class scores and PIE class distribution over all cells (rule summarise_classes)."""

from pieflow.logs import log_to
from pieflow.summaries import summarise_classes_job

log_to(snakemake.log[0])
summarise_classes_job(list(snakemake.input.predictions), list(snakemake.input.pies),
                      snakemake.input.summary, dict(snakemake.output))
