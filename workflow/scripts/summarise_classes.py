"""Per-class scores and PIE class distribution over all cells (rule summarise_classes)."""

from pieflow.analysis.job import summarise_classes_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
i, p = snakemake.input, snakemake.params
summarise_classes_job(predictions=i.predictions, cells=p.cells, pies=i.pies,
                      pie_cells=p.pie_cells, train=i.train, classes=i.classes, meta=i.meta,
                      datasets=p.datasets, summary=i.summary, outputs=dict(snakemake.output))
