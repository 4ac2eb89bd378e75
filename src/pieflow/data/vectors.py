"""Static word vectors from a GloVe-format text file, restricted to a dataset's words (a
reader module: it streams the GloVe file its rule names).

GloVe 840B is 5.6 GB of text for 2.2M words; no job should hold all of it. The
``prepare_vectors`` rule streams the file once per dataset and model, keeps the vectors
of the words the dataset uses, and writes them next to the model's results — that file
is the cache every later job reads.

Lower-casing: GloVe 840B is cased. A word is looked up as written, then lower-cased;
words found neither way share the ``<unk>`` vector (zeros), and padding is row 0.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)

PAD, UNK = "<pad>", "<unk>"
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def word_tokens(text: str) -> list[str]:
    """Words and punctuation marks, as GloVe's tokenisation roughly splits them."""
    return _TOKEN.findall(text or "")


def dataset_words(texts: Iterable[str | None]) -> set[str]:
    """Every token of the texts, as written and lower-cased (both may be looked up)."""
    words: set[str] = set()
    for text in texts:
        for token in word_tokens(text or ""):
            words.add(token)
            words.add(token.lower())
    return words


def read_glove(path: str | Path, wanted: set[str]) -> tuple[list[str], np.ndarray]:
    """Stream a GloVe text file, keeping only ``wanted`` words (first occurrence wins).

    A few 840B lines hold words with spaces; the vector is always the last ``dim``
    fields, so such lines are parsed from the right.
    """
    words: list[str] = []
    rows: list[np.ndarray] = []
    wanted = set(wanted)  # shrinks as words are found; the caller's set is left alone
    dim = None
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            word, _, rest = line.rstrip("\n").partition(" ")
            if dim is None:
                dim = len(rest.split(" "))
            if word not in wanted:
                if rest.count(" ") < dim:  # an ordinary line: dim fields, dim - 1 spaces
                    continue
                fields = line.rstrip("\n").split(" ")  # a word with spaces
                word = " ".join(fields[:-dim])
                if word not in wanted:
                    continue
                rest = " ".join(fields[-dim:])
            wanted.discard(word)
            words.append(word)
            rows.append(np.asarray(rest.split(" ")[-dim:], dtype=np.float32))
            if number % 200_000 == 0:
                log.info("read %d lines, kept %d words", number, len(words))
    if dim is None:
        raise ValueError(f"{path}: no vectors in the file")
    matrix = np.stack(rows) if rows else np.zeros((0, dim), dtype=np.float32)
    return words, matrix


def vocabulary_and_matrix(words: list[str], matrix: np.ndarray) -> tuple[list[str], torch.Tensor]:
    """Prepend ``<pad>`` and ``<unk>`` (both zero vectors) to the kept vectors."""
    itos = [PAD, UNK, *words]
    full = np.zeros((len(itos), matrix.shape[1]), dtype=np.float32)
    full[2:] = matrix
    return itos, torch.from_numpy(full)


class WordTokenizer:
    """Word-level tokenizer over a fixed vocabulary, called like a Hugging Face one."""

    pad_token_id = 0
    unk_token_id = 1

    def __init__(self, itos: Sequence[str]) -> None:
        self.stoi = {word: i for i, word in enumerate(itos)}

    def ids(self, text: str | None) -> list[int]:
        lookup = self.stoi
        return [lookup.get(t, lookup.get(t.lower(), self.unk_token_id))
                for t in word_tokens(text or "")]

    def __call__(self, texts, pairs=None, *, truncation=True, max_length=None, **_) -> dict:
        """``input_ids`` per text (a pair is appended to its text); no special tokens."""
        out_ids, out_types = [], []
        for i, text in enumerate(texts):
            first = self.ids(text)
            second = self.ids(pairs[i]) if pairs is not None else []
            ids = first + second
            types = [0] * len(first) + [1] * len(second)
            if truncation and max_length:
                ids, types = ids[:max_length], types[:max_length]
            out_ids.append(ids)
            out_types.append(types)
        return {"input_ids": out_ids, "token_type_ids": out_types}
