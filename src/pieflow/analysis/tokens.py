"""Model tokens per example: how long each text is for the model that reads it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import polars as pl

TOKENIZER_KEYS = ("family", "pretrained", "revision", "vectors", "trust_remote_code", "max_length",
                  "word_vectors")


def tokenizer_view(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a model's inference spec that decides its tokens (rule count_tokens'
    params: a new learning rate or hidden size recounts nothing)."""
    return {key: spec[key] for key in TOKENIZER_KEYS if key in spec}


def token_counts(tokenizer: Callable[..., Mapping[str, list]], data: pl.DataFrame,
                 max_length: int | None = None) -> pl.DataFrame:
    """Model tokens per example (text + pair, no special tokens, never truncated).

    ``truncated`` marks examples longer than ``max_length`` once the tokenizer's special
    tokens are added: the model read only their beginning.
    """
    texts = data.get_column("text").fill_null("").to_list()
    pairs = (data.get_column("text_pair").to_list() if "text_pair" in data.columns
             else [None] * data.height)
    has_pairs = any(p for p in pairs)
    out = tokenizer(texts, [p or "" for p in pairs] if has_pairs else None,
                    truncation=False, add_special_tokens=False)
    lengths = np.fromiter((len(ids) for ids in out["input_ids"]), dtype=np.int64,
                          count=data.height)
    special = 0
    if hasattr(tokenizer, "num_special_tokens_to_add"):
        special = int(tokenizer.num_special_tokens_to_add(pair=has_pairs))
    frame = data.select("example_id").with_columns(pl.Series("n_tokens", lengths))
    if max_length is None:
        return frame.with_columns(pl.lit(None, dtype=pl.Boolean).alias("truncated"))
    return frame.with_columns((pl.col("n_tokens") + special > max_length).alias("truncated"))
