"""One findings row and sentence per cell and split (rule summarise_findings)."""

from pieflow.analysis.job import summarise_findings_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
i, p = snakemake.input, snakemake.params
summarise_findings_job(accuracy=i.accuracy, summary=i.summary, null_rate=i.null_rate,
                       text=i.text, paired=i.paired, cells=p.cells, vs_control=i.vs_control,
                       vs_control_cells=p.vs_control_cells, outputs=dict(snakemake.output),
                       compression=p.compression,
                       no_text_datasets=p.no_text_datasets, predictors=i.predictors,
                       null_meanings=p.null_meanings)
