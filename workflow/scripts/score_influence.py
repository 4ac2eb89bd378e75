"""EL2N, GraNd, forgetting and final loss of one dense population (rule score_influence)."""

from pieflow.influence.job import influence_job
from pieflow.logs import log_to
from pieflow.models.loading import with_word_vectors
from pieflow.runtime import finish_job, set_precision, set_threads

log_to(snakemake.log[0])
set_threads(snakemake.threads)
set_precision(snakemake.resources.get("precision"))
spec = with_word_vectors(snakemake.params.spec, snakemake.input.get("vectors"))
influence_job(spec, list(snakemake.params.seeds), list(snakemake.input.early),
              {split: snakemake.input[split] for split in snakemake.params.splits},
              snakemake.input.classes, snakemake.input.meta, snakemake.input.dense_predictions,
              list(snakemake.input.learning), snakemake.output[0], grand=snakemake.params.grand)
finish_job()
