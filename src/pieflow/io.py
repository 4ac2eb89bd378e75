"""Writes that never leave a half-written file behind."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import torch
from safetensors.torch import load_file, save_file


def _atomic(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Write to a temporary sibling, then rename: readers see the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(frame: pl.DataFrame, path: str | os.PathLike) -> None:
    _atomic(path, lambda tmp: frame.write_parquet(tmp))


def write_json(obj: Any, path: str | os.PathLike) -> None:
    def write(tmp: str) -> None:
        Path(tmp).write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")

    _atomic(path, write)


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text())


def save_tensors(tensors: dict[str, torch.Tensor], path: str | os.PathLike) -> None:
    """Save tensors as safetensors (no pickle: checkpoints are safe to share)."""
    contiguous = {name: t.detach().contiguous().cpu() for name, t in tensors.items()}
    _atomic(path, lambda tmp: save_file(contiguous, tmp))


def load_tensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    return load_file(str(path))
