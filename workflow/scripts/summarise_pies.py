"""PIE summary, EL2N bins and their figures over all pruned cells (rule summarise_pies)."""

from pieflow.analysis.job import summarise_pies_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
i, p = snakemake.input, snakemake.params
summarise_pies_job(pies=i.pies, pruned=i.pruned, cells=p.cells, dense=i.dense,
                   influence=i.influence, models=p.models, meta=i.meta, datasets=p.datasets,
                   outputs=dict(snakemake.output))
