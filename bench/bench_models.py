"""The random BERT-base (or tiny BERT) the benchmarks share: no download, same init."""

from __future__ import annotations

import torch

from pieflow.models.classifiers import EncoderClassifier


def build_model(quick: bool) -> EncoderClassifier:
    """BERT-base (or a tiny BERT for --quick) at random init, wrapped like the workflow's."""
    from transformers import BertConfig, BertForSequenceClassification

    if quick:
        config = BertConfig(vocab_size=1000, hidden_size=64, num_hidden_layers=2,
                            num_attention_heads=2, intermediate_size=128,
                            max_position_embeddings=128, num_labels=3)
    else:
        config = BertConfig(num_labels=3)
    torch.manual_seed(0)
    return EncoderClassifier(BertForSequenceClassification(config))
