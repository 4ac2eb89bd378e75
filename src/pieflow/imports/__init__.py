"""Imported predictions: populations evaluated elsewhere (pieflow's own predictions files,
a generic table, lm-evaluation-harness samples), brought into the results layout so the
diff, the null rate, the difficulty scores and the analysis run on them unchanged."""
