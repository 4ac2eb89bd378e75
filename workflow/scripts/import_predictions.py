"""One imported population as predictions.parquet and metrics.parquet (rule
import_predictions)."""

from pieflow.imports.job import import_predictions_job
from pieflow.imports.reading import SPLITS
from pieflow.logs import log_to

log_to(snakemake.log[0])
i, reading = snakemake.input, snakemake.params.reading
import_predictions_job(reading, reading["where"], list(i.files), reading["seeds"],
                       {split: i[split] for split in SPLITS}, i.classes, i.meta,
                       dict(snakemake.output), dense=i.get("dense"))
