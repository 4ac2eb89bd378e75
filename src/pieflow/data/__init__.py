"""Data stage: datasets from hub, files or the embedded tweets, normalised and split."""
