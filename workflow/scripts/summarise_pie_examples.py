"""A table of example PIEs of every pruned cell (rule summarise_pie_examples)."""

from pieflow.logs import log_to
from pieflow.summaries import summarise_pie_examples_job

log_to(snakemake.log[0])
summarise_pie_examples_job(list(snakemake.input.pies), snakemake.input.summary,
                           dict(snakemake.output), k=snakemake.params.k)
