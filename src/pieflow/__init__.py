"""pieflow: find and explain Pruning Identified Exemplars (PIEs) of text classifiers."""

__version__ = "0.1.0"
