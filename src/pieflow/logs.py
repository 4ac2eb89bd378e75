"""Send a job's log to its Snakemake ``log:`` file (and stderr)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def log_to(path: str | Path) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handlers = [logging.FileHandler(path, mode="w"), logging.StreamHandler(sys.stderr)]
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught


def _log_uncaught(kind, value, traceback) -> None:
    """Put a job's fatal error in its log file, where docs/troubleshooting.md says to look."""
    logging.getLogger("pieflow").critical("job failed", exc_info=(kind, value, traceback))

