"""The analysis stage: summary tables over all cells, their figures and HTML views.

One module per table: ``accuracy``, ``pies`` (PIE summary, EL2N bins), ``classes``,
``text`` (+ ``textstats``, ``tokens``), ``examples``; ``collapse`` holds the collapse rule,
``cells`` stacks per-cell frames with their keys, ``plots`` draws the figures and
``views`` the report's tables. ``job`` is the only module that reads or writes results.
Nothing is re-exported here, so the rules can import a constant without the plotting
stack.
"""
