"""EL2N of every example from the dense early checkpoints (rule score_influence)."""

from pieflow.jobs import influence_job, set_threads
from pieflow.logs import log_to

log_to(snakemake.log[0])
set_threads(snakemake.threads)
influence_job(
    snakemake.params.spec,
    list(snakemake.input.early),
    {split: snakemake.input[split] for split in snakemake.params.splits},
    snakemake.input.classes,
    snakemake.input.dense_predictions,
    snakemake.output[0],
    learning=list(snakemake.input.learning),
    grand=snakemake.params.grand,
)
