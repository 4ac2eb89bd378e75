"""PIEs and their null rate for one pruned cell (rule diff_cell)."""

from pieflow.diff.job import diff_cell
from pieflow.logs import log_to

log_to(snakemake.log[0])
diff_cell(snakemake.input.dense, snakemake.input.pruned, snakemake.input.classes,
          snakemake.input.meta, snakemake.output.pies, snakemake.output.null_rate,
          **snakemake.params)
