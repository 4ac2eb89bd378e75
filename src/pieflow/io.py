"""Writes that never leave a half-written file behind.

Each write happens in a private hidden folder next to the target, ``.{name}.XXXXXXXX.tmp/``
(writers such as safetensors make temporary files of their own: they land there too),
and the finished file is renamed over the target, so readers see the old file or the new
one. The final file gets the permissions a plain ``open(path, "w")`` would give it (0666
less the umask), so the rest of a cluster group can read it. A job killed mid-write
(SIGKILL, an out-of-memory kill, a time limit) cannot clean up after itself: the next
write of the same target removes what it left.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import torch
from safetensors.torch import load_file, save_file

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Eight characters from this alphabet, as ``tempfile.mkstemp`` names them, so the temporary
# files earlier versions (which used mkstemp) left are recognised and removed as well.
_TOKEN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_"
_TOKEN_LENGTH = 8


def _temp_pattern(name: str) -> re.Pattern[str]:
    """Names of our temporaries for target ``name``, and only those (the token holds no
    dot, so the temporaries of a target ``name.x`` never match)."""
    return re.compile(rf"\.{re.escape(name)}\.[a-z0-9_]{{{_TOKEN_LENGTH}}}\.tmp")


def _remove_stale_temporaries(path: Path) -> None:
    """Remove what interrupted writes of ``path`` left next to it.

    Snakemake runs one job per output at a time, so any such sibling is stale."""
    pattern = _temp_pattern(path.name)
    with os.scandir(path.parent) as siblings:
        stale = [entry for entry in siblings if pattern.fullmatch(entry.name)]
    for entry in stale:
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        elif entry.is_file(follow_symlinks=False):
            Path(entry.path).unlink(missing_ok=True)


def _make_scratch(path: Path) -> Path:
    for _ in range(100):
        token = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(_TOKEN_LENGTH))
        scratch = path.parent / f".{path.name}.{token}.tmp"
        try:
            scratch.mkdir()
        except FileExistsError:
            continue
        return scratch
    raise FileExistsError(f"no free temporary name next to {path}")


def _atomic(path: str | os.PathLike, write: Callable[[str], None]) -> None:
    """Write in a scratch folder next to ``path``, then rename the file onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(path)
    scratch = _make_scratch(path)
    try:
        tmp = scratch / path.name
        # Created as open(path, "w") would: mode 0666 less what the umask (or the folder's
        # default ACL) takes away. tempfile.mkstemp would force 0600.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        os.close(fd)
        write(str(tmp))
        # Writers that rename a file of their own over ours (safetensors: 0600) lose it.
        if stat.S_IMODE(os.stat(tmp).st_mode) != mode:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def write_parquet(frame: pl.DataFrame, path: str | os.PathLike) -> None:
    _atomic(path, lambda tmp: frame.write_parquet(tmp))


def write_json(obj: Any, path: str | os.PathLike) -> None:
    def write(tmp: str) -> None:
        Path(tmp).write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")

    _atomic(path, write)


def write_text(text: str, path: str | os.PathLike, encoding: str = "utf-8") -> None:
    """Write ``text`` (an HTML page, a report) as ``Path.write_text`` would."""
    _atomic(path, lambda tmp: Path(tmp).write_text(text, encoding=encoding))


def write_figure(figure: Figure, path: str | os.PathLike) -> None:
    """Save a matplotlib figure (its format from the suffix of ``path``: PNG, PDF, SVG)
    at 120 dpi, cropped to what it draws, then close it so a job drawing many figures
    does not keep them all in memory."""
    import matplotlib.pyplot as plt  # only the jobs that draw pay for matplotlib

    try:
        _atomic(path, lambda tmp: figure.savefig(tmp, dpi=120, bbox_inches="tight"))
    finally:
        plt.close(figure)


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text())


def save_tensors(tensors: dict[str, torch.Tensor], path: str | os.PathLike) -> None:
    """Save tensors as safetensors (no pickle: checkpoints are safe to share)."""
    contiguous = {name: t.detach().contiguous().cpu() for name, t in tensors.items()}
    _atomic(path, lambda tmp: save_file(contiguous, tmp))


def load_tensors(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    return load_file(str(path))
