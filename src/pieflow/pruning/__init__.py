"""Unstructured pruning: masks as artifacts, methods as score × schedule × after-prune."""
