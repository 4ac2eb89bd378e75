"""Mixed precision: bf16 autocast for forward passes where the hardware runs it fast.

One process-wide setting, like the thread count: a job script calls :func:`use` once
with what its profile asks for (the Snakemake resource ``precision``), and the training
loop and prediction wrap their forward passes in :func:`autocast`. Functions used from a
notebook or a test run in float32 unless :func:`use` says otherwise.

* ``fp32`` — no autocast.
* ``bf16`` — ``torch.autocast(device, torch.bfloat16)`` for forward passes, on any device
  (slow where the hardware has no bf16 units, but the same numbers).
* ``auto`` — bf16 where the hardware runs it fast and the model gains from it, else
  fp32 (the BiLSTM runs fp32: its recurrent matmuls are too small, and ran slower under
  autocast even with AMX; :func:`gains_from_bf16`): CUDA with native bf16
  (compute capability 8.0+, ``torch.cuda.is_bf16_supported``), or a CPU with AMX tiles
  for bf16 (the ``amx_bf16`` flag of ``/proc/cpuinfo`` on Linux). AVX512-BF16 alone
  (``avx512_bf16`` without AMX) is not enough: on such a CPU (a Xeon with avx512_bf16 and
  avx512_fp16 but no AMX, torch 2.13, oneDNN's avx512_core_bf16 kernels) a 2048² bf16
  matmul ran at about half the fp32 rate, a MiniLM training step 0.76× and inference
  0.6× as fast as in fp32 (bench/README.md). The decision depends only on the hardware,
  never on a timing, so every seed of a run on one machine uses the same precision.

Only the forward pass is autocast: the weights, their gradients and Adam's state stay in
float32, masks stay exact zeros (they multiply the float32 weights after each step), and
losses are computed from float32 logits. The environment variable ``PIEFLOW_PRECISION``
gives the setting where no profile does (a shell, a notebook).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from pathlib import Path

import torch

PRECISIONS = ("auto", "bf16", "fp32")
ENV_VAR = "PIEFLOW_PRECISION"
CPU_BF16_FLAGS = ("amx_bf16",)  # AMX; avx512_bf16 alone measured slower than fp32

_requested = "fp32"  # what library calls get until a job (or a user) says otherwise


class PrecisionError(ValueError):
    """Raised for a precision setting other than auto, bf16 or fp32."""


def use(requested: str | None = None) -> str:
    """Set the process-wide precision (``None``: ``$PIEFLOW_PRECISION``, else ``auto``);
    returns the setting, checked."""
    value = requested if requested not in (None, "") else os.environ.get(ENV_VAR, "auto")
    value = str(value).strip().lower()
    if value not in PRECISIONS:
        raise PrecisionError(f"precision {value!r}: expected one of {', '.join(PRECISIONS)} "
                             f"(the Snakemake resource 'precision' or ${ENV_VAR})")
    global _requested
    _requested = value
    return value


def requested() -> str:
    return _requested


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags from ``/proc/cpuinfo`` (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def cpu_runs_bf16_fast(flags: frozenset[str] | None = None) -> bool:
    """True where the CPU has AMX bf16 tiles (see the module docstring for why
    AVX512-BF16 alone does not count)."""
    flags = cpu_flags() if flags is None else flags
    return any(flag in flags for flag in CPU_BF16_FLAGS)


@functools.cache
def cuda_runs_bf16_fast() -> bool:
    """True where the current CUDA device computes in bf16 natively (not emulated)."""
    if not torch.cuda.is_available():
        return False
    try:
        return torch.cuda.is_bf16_supported(including_emulation=False)
    except TypeError:  # torch < 2.3 has no including_emulation
        return torch.cuda.get_device_capability()[0] >= 8


def gains_from_bf16(model: torch.nn.Module | None) -> bool:
    """Whether ``auto`` may autocast this model: false for a model that says it gains
    nothing (``bf16_autocast_gains = False``: the BiLSTM, whose small recurrent matmuls
    ran 0.83× as fast in training and 0.86× in prediction under bf16 autocast on an AMX
    CPU, bench/README.md). ``None`` (no model named): true."""
    return model is None or getattr(model, "bf16_autocast_gains", True)


def resolve(device: torch.device | str, setting: str | None = None,
            model: torch.nn.Module | None = None) -> str:
    """``bf16`` or ``fp32``: what ``setting`` (default: the process-wide one) means on
    ``device`` for ``model`` (an explicit ``bf16`` applies to every model; ``auto`` only
    to models that gain from it)."""
    setting = _requested if setting is None else setting
    if setting != "auto":
        return setting
    if not gains_from_bf16(model):
        return "fp32"
    kind = torch.device(device).type
    fast = cuda_runs_bf16_fast() if kind == "cuda" else kind == "cpu" and cpu_runs_bf16_fast()
    return "bf16" if fast else "fp32"


@contextlib.contextmanager
def autocast(device: torch.device | str, setting: str | None = None,
             model: torch.nn.Module | None = None) -> Iterator[None]:
    """Autocast to bf16 for the forward passes inside (of ``model``, where given), when
    the precision says so."""
    device = torch.device(device)
    if resolve(device, setting, model) == "bf16":
        with torch.autocast(device.type, dtype=torch.bfloat16):
            yield
    else:
        yield
