"""Seaborn figures of the summary tables, one module per figure group.

Every figure is titled with what the reader sees. Flagged cells are never mixed in
silently: ``collapsed`` (models no better than always answering the majority class) get a
red ✕ in line figures, a red "(collapsed)" column label in heatmaps and are left out of
the class-distribution bars; ``undertrained`` (better than the dense models by more than
seed noise) get an amber ◆ and an amber "(undertrained)" label. The training-budget
control has no sparsity: line figures draw it as a dash-dotted reference line.
"""

import matplotlib

matplotlib.use("Agg")  # headless: jobs run on laptops, CI and cluster nodes alike
