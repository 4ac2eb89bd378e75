"""Seaborn figures of the summary tables, one module per figure group.

Every figure is titled with what the reader sees. Cells flagged ``collapsed`` (pruned
models no better than always answering the majority class) are never mixed in
silently: line figures overlay them with a red ✕, heatmaps mark their column label
"(collapsed)" in red, and the class-distribution bars leave them out and say how many.
"""

import matplotlib

matplotlib.use("Agg")  # headless: jobs run on laptops, CI and cluster nodes alike
