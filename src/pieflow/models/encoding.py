"""Tokenise once, pad per batch: short texts never pay for long ones."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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
