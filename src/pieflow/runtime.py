"""Process control for a job, once: the threads and precision its profile gives it, the
device it runs on, and how it exits. Job scripts call these; library functions take a
device and never change process-wide settings themselves."""

from __future__ import annotations

import logging
import os
import sys

import torch

from pieflow import precision


def set_threads(threads: int) -> None:
    """Use the threads Snakemake gave the job (one per job by default: jobs run side by side)."""
    torch.set_num_threads(max(1, int(threads)))


def set_precision(requested: str | None) -> str:
    """Use the precision the job's profile asks for (the Snakemake resource ``precision``:
    auto, bf16 or fp32; unset: ``$PIEFLOW_PRECISION``, else auto) for every forward pass
    of this process; returns what it means on this job's device."""
    setting = precision.use(requested)
    device = pick_device()
    resolved = precision.resolve(device)
    logging.getLogger(__name__).info(
        "precision %s: %s on %s%s", setting, resolved, device,
        " (for models that gain from it; models declaring no bf16 gain run fp32)"
        if setting == "auto" and resolved == "bf16" else "")
    return resolved


def finish_job() -> None:
    """End a job's process once its outputs are written, skipping the interpreter's
    teardown of torch's modules (about 0.45 s of CPU per job, paid by every training,
    pruning and prediction job); logs and standard streams are flushed first. Called
    last by the job scripts, never on an error path (a failing job exits as usual)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def pick_device() -> torch.device:
    """CUDA when the job was given a GPU, else CPU: no edit needed between laptop and cluster."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
