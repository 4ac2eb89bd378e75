"""Pretrained causal LMs used as they are: loading (GGUF too), compression, export."""
