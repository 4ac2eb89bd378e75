"""A table of example PIEs of every pruned cell (rule summarise_pie_examples)."""

from pieflow.analysis.job import summarise_pie_examples_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
i, p, o = snakemake.input, snakemake.params, dict(snakemake.output)
summarise_pie_examples_job(pies=i.pies, cells=p.cells, texts=i.texts, text_keys=p.text_keys,
                           classes=i.classes, meta=i.meta, datasets=p.datasets, k=p.k,
                           influence=i.influence, models=p.models, summary=i.summary, outputs=o)
