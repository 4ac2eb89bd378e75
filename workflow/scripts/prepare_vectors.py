"""Keep the vectors of one dataset's words from a GloVe file (rule prepare_vectors)."""

from pieflow.data.job import prepare_vectors
from pieflow.logs import log_to

log_to(snakemake.log[0])
prepare_vectors(snakemake.params.glove, list(snakemake.input.splits), dict(snakemake.output))
