"""PIEs, their null rate and the paired statistics of one cell against a reference
population (rules diff_cell and diff_vs_control)."""

from pieflow.diff.job import diff_cell
from pieflow.logs import log_to

log_to(snakemake.log[0])
diff_cell(snakemake.input.dense, snakemake.input.pruned, snakemake.input.classes,
          snakemake.input.meta, snakemake.output.pies, snakemake.output.null_rate,
          snakemake.output.paired, **snakemake.params)
