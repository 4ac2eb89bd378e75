"""The analysis stage: summary tables over all cells, their figures and HTML views.

One module per table: ``accuracy``, ``pies`` (PIE summary, EL2N bins), ``classes``,
``text`` (+ ``textstats``, ``tokens``), ``examples``, ``training`` (training curves),
``findings`` (one verdict per cell, read out by ``sentences``); ``flags`` holds the
collapsed and undertrained rules and the findings' warnings, ``cells`` stacks per-cell
frames with their keys, ``plots`` draws the figures and ``views`` the report's tables
(both return them and write nothing). ``job`` is the only module that reads or writes
results. Nothing is re-exported here, so the rules can import a constant without the
plotting stack.
"""
