"""PIEs vs. non-PIEs on text features over all pruned cells (rule summarise_text)."""

from pieflow.logs import log_to
from pieflow.summaries import summarise_text_job

log_to(snakemake.log[0])
summarise_text_job(list(snakemake.input.pies), snakemake.input.summary,
                   dict(snakemake.output))
