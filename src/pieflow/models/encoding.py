"""Tokenise once, pad per batch: short texts never pay for long ones.

Training batches are length-bucketed (:func:`bucketed_batches`): shuffled, sorted by
length within windows of a few dozen batches, then taken in a shuffled order, so a batch
holds texts of similar length and pads little, while every epoch still sees a new,
seeded order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import torch
from torch.nn.utils.rnn import pad_sequence

from pieflow.labels import LabelKind


@dataclass
class Encoded:
    """A tokenised split: one id tensor per example, plus labels and ids."""

    input_ids: list[torch.Tensor]
    token_type_ids: list[torch.Tensor]
    labels: torch.Tensor
    example_ids: torch.Tensor
    pad_id: int
    kind: LabelKind

    def __len__(self) -> int:
        return len(self.input_ids)

    def lengths(self) -> torch.Tensor:
        """Tokens per example (before padding)."""
        return torch.tensor([len(ids) for ids in self.input_ids], dtype=torch.long)

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """Pad the chosen examples on the right to the longest among them.

        Right padding keeps each text at positions 0…n−1 whatever the batch, and a
        decoder's last real token is the rightmost non-pad one, which is how Hugging
        Face's decoder classifiers pool (``config.pad_token_id`` is ``pad_id``).
        """
        ids = [self.input_ids[i] for i in indices.tolist()]
        types = [self.token_type_ids[i] for i in indices.tolist()]
        input_ids = pad_sequence(ids, batch_first=True, padding_value=self.pad_id)
        lengths = torch.tensor([len(x) for x in ids])
        attention_mask = (torch.arange(input_ids.shape[1])[None, :] < lengths[:, None]).long()
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "token_type_ids": pad_sequence(types, batch_first=True, padding_value=0),
            "labels": self.labels[indices],
        }

    def batches(self, batch_size: int, order: torch.Tensor | None = None) -> Iterator[dict]:
        order = torch.arange(len(self)) if order is None else order
        for start in range(0, len(order), batch_size):
            yield self.batch(order[start : start + batch_size])


class BackendTokenizer:
    """A Hugging Face ``tokenizer.json`` read with the ``tokenizers`` library alone and
    called like a ``transformers`` fast tokenizer (the subset :func:`encode` uses).

    For the BiLSTM over MiniLM's word pieces: the same ids as ``AutoTokenizer`` (checked
    on all 38,158 embedded tweets, with and without special tokens) without importing
    ``transformers``, which costs a job about a second of start-up.
    """

    def __init__(self, path: str | Path) -> None:
        from tokenizers import Tokenizer

        self.backend = Tokenizer.from_file(str(path))
        padding = self.backend.padding or {}
        pad = self.backend.token_to_id("[PAD]")
        self.pad_token_id = padding.get("pad_id", pad if pad is not None else 0)
        self.backend.no_padding()  # padding is per batch (Encoded.batch)

    def __call__(self, texts, pairs=None, *, truncation=True, max_length=None,
                 add_special_tokens=True, **_) -> dict:
        if truncation and max_length:
            self.backend.enable_truncation(max_length)
        else:
            self.backend.no_truncation()
        inputs = list(texts) if pairs is None else list(zip(texts, pairs, strict=True))
        out = self.backend.encode_batch(inputs, add_special_tokens=add_special_tokens)
        return {"input_ids": [e.ids for e in out], "token_type_ids": [e.type_ids for e in out]}


BUCKET_WINDOW = 50  # batches per window sorted by length


def bucketed_batches(lengths: torch.Tensor, batch_size: int, generator: torch.Generator,
                     window: int = BUCKET_WINDOW) -> list[torch.Tensor]:
    """The example positions of each batch of one epoch, in the order to train them.

    Shuffle the examples with ``generator``, sort each run of ``window`` batches' worth
    of them by length (stable), cut them into batches and shuffle the batches' order with
    the same generator: deterministic for a given generator state, little padding, and a
    different mix every epoch. Only the last batch of the epoch can be short.
    """
    order = torch.randperm(len(lengths), generator=generator)
    span = max(1, window) * batch_size
    batches: list[torch.Tensor] = []
    for start in range(0, len(order), span):
        chunk = order[start : start + span]
        chunk = chunk[torch.argsort(lengths[chunk], stable=True)]
        batches.extend(chunk.split(batch_size))
    shuffled = torch.randperm(len(batches), generator=generator).tolist()
    return [batches[i] for i in shuffled]


def padded_tokens(lengths: torch.Tensor, batches: list[torch.Tensor]) -> int:
    """Token positions the batches compute on, padding included (batch × longest)."""
    return sum(len(b) * int(lengths[b].max()) for b in batches if len(b))


def multi_hot(frame: pl.DataFrame, num_classes: int) -> torch.Tensor:
    """The ``labels`` list column as an (examples × classes) 0/1 float tensor."""
    lists = frame.get_column("labels")
    rows = torch.repeat_interleave(torch.arange(frame.height),
                                   torch.tensor(lists.list.len().fill_null(0).to_list()))
    cols = torch.tensor(lists.explode().drop_nulls().to_list(), dtype=torch.long)
    target = torch.zeros(frame.height, num_classes)
    target[rows, cols] = 1.0
    return target


def encode(
    tokenizer,
    frame: pl.DataFrame,
    max_length: int,
    kind: LabelKind,
    num_classes: int,
    special_tokens: bool = True,
) -> Encoded:
    """Tokenise a split in one call of the fast tokenizer (truncating to ``max_length``).

    Single-label frames give class indices; multi-label frames (a ``labels`` list column)
    give multi-hot float targets.
    """
    texts = frame.get_column("text").to_list()
    pairs = frame.get_column("text_pair").to_list() if "text_pair" in frame.columns else None
    has_pairs = pairs is not None and any(p is not None for p in pairs)
    out = tokenizer(
        texts,
        [p or "" for p in pairs] if has_pairs else None,
        truncation=True,
        max_length=max_length,
        add_special_tokens=special_tokens,
        return_token_type_ids=True,
        return_attention_mask=False,
    )
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    # An empty text must still give one token, or a packed LSTM has nothing to read.
    input_ids = [torch.tensor(ids or [pad_id], dtype=torch.long) for ids in out["input_ids"]]
    token_types = [
        torch.tensor(types or [0], dtype=torch.long) for types in out["token_type_ids"]
    ]
    if kind is LabelKind.MULTI:
        labels = multi_hot(frame, num_classes)
    else:
        labels = torch.tensor(frame.get_column("label").to_list(), dtype=torch.long)
    return Encoded(
        input_ids=input_ids,
        token_type_ids=token_types,
        labels=labels,
        example_ids=torch.tensor(frame.get_column("example_id").to_list(), dtype=torch.long),
        pad_id=pad_id,
        kind=kind,
    )
