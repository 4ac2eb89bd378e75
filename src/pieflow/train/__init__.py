"""Train stage: the training loop and the dense runs."""
