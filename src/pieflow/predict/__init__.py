"""Predict stage: logits, prediction rows and metrics of every seed of a cell."""
