"""Rebuild a trained model from its weights, and tokenise a prepared split for it: the
two steps every stage after training starts with. Pure: the stage's job reads the
checkpoint and the split and hands them over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import torch
from torch import nn

from pieflow.labels import LabelKind
from pieflow.models.classifiers import build_model, load_trainable_state
from pieflow.models.encoding import Encoded, encode


def restore_model(spec: dict[str, Any], num_classes: int, seed: int,
                  state: dict[str, torch.Tensor], device: torch.device) -> nn.Module:
    """Seed ``seed``'s model with the trained weights ``state`` (a checkpoint's tensors)."""
    model = build_model(spec, num_classes, seed)
    load_trainable_state(model, state)
    return model.to(device)


def encode_frame(spec: dict[str, Any], tokenizer, frame: pl.DataFrame, kind: LabelKind,
                 num_classes: int) -> Encoded:
    """A prepared split tokenised for the model, in training and prediction alike."""
    return encode(tokenizer, frame, spec["max_length"], kind, num_classes,
                  special_tokens=adds_special_tokens(spec))


def adds_special_tokens(spec: dict[str, Any]) -> bool:
    """The tokenizer's own special tokens for Hugging Face models — [CLS]/[SEP] for an
    encoder, whatever a decoder's tokenizer adds by default (Llama: BOS; GPT-2, Qwen2:
    none) — and none for the BiLSTM."""
    return spec["family"] != "bilstm"


def with_word_vectors(spec: dict[str, Any], vectors_file: str | None) -> dict[str, Any]:
    """The model spec with the folder of the prepared word vectors its rule declared as an
    input (a BiLSTM over a GloVe file); unchanged where the rule declares none."""
    return {**spec, "word_vectors": str(Path(vectors_file).parent)} if vectors_file else spec
