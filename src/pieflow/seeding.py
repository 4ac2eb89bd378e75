"""Deterministic seeds derived from a run seed and a purpose.

Every random choice (head initialisation, data order per epoch, dropout, random pruning
scores, impact batches) draws from its own generator seeded here, so a pruned model that
resumes from dense seed *i* sees exactly the data order and dropout masks it would have
seen training from scratch, and adding a purpose never shifts another purpose's stream.
"""

from __future__ import annotations

import hashlib

import torch


def derive_seed(seed: int, *purpose: object) -> int:
    """Return a 63-bit seed that depends only on ``seed`` and ``purpose``."""
    key = "/".join(str(part) for part in (seed, *purpose)).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little") >> 1


def generator(seed: int, *purpose: object) -> torch.Generator:
    """A CPU generator for one purpose of one run seed."""
    return torch.Generator().manual_seed(derive_seed(seed, *purpose))
