"""Text features of every example of one dataset (rule score_text_features)."""

from pieflow.logs import log_to
from pieflow.summaries import text_features_job

log_to(snakemake.log[0])
text_features_job({split: snakemake.input[split] for split in snakemake.params.splits},
                  snakemake.output[0])
