"""Difficulty scores as predictors of PIEs, per cell and split (rule summarise_pie_predictors)."""

from pieflow.analysis.job import summarise_pie_predictors_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
i = snakemake.input
summarise_pie_predictors_job(pies=i.pies, cells=snakemake.params.cells, influence=i.influence,
                             models=snakemake.params.models, summary=i.summary,
                             outputs=dict(snakemake.output))
