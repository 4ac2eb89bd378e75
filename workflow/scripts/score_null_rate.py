"""PIEs in excess of the dense-vs-dense null for one pruned cell (rule score_null_rate)."""

from pieflow.logs import log_to
from pieflow.summaries import null_rate_job

log_to(snakemake.log[0])
null_rate_job(snakemake.input.dense, snakemake.input.pruned, snakemake.input.classes,
              snakemake.output[0], repeats=snakemake.params.repeats,
              seed=snakemake.params.seed, confidence=snakemake.params.confidence)
