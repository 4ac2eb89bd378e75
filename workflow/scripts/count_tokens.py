"""Model tokens per example of one dataset under one model's tokenizer (rule count_tokens)."""

from pieflow.analysis.job import token_counts_job
from pieflow.logs import log_to
from pieflow.models.loading import with_word_vectors

log_to(snakemake.log[0])
token_counts_job(with_word_vectors(dict(snakemake.params.spec), snakemake.input.get("vectors")),
                 {split: snakemake.input[split] for split in snakemake.params.splits},
                 snakemake.output[0])
