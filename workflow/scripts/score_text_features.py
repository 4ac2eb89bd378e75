"""Text features of every example of one dataset (rule score_text_features)."""

from pieflow.analysis.job import text_features_job
from pieflow.logs import log_to

log_to(snakemake.log[0])
text_features_job({split: snakemake.input[split] for split in snakemake.params.splits},
                  snakemake.output[0])
