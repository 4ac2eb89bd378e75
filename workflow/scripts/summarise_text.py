"""PIEs vs. non-PIEs on text features over all pruned cells (rule summarise_text)."""

from pieflow.analysis.job import summarise_text_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
i, p = snakemake.input, snakemake.params
summarise_text_job(pies=i.pies, cells=p.cells, features=i.features, datasets=p.datasets,
                   tokens=i.tokens, models=p.models, summary=i.summary,
                   outputs=dict(snakemake.output), skipped=p.skipped)
