"""Smoke test: the default-run benchmark counts FLOPs and prints every line it promises.

No timing assertions (see bench/README.md); ``--quick`` never runs the workflow.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_bench_default_quick_prints_peak_flops_wall_and_mfu():
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_default.py"), "--quick", "--wall", "600",
         "--threads", "1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "matmul peak" in out and "fp32" in out and "bf16" in out
    flops = next(line for line in out.splitlines() if line.startswith("useful model FLOPs"))
    assert float(flops.split(":")[1].split()[0]) > 0
    assert "length-bucketed" in out
    assert "wall time of the run: 600 s" in out
    assert "MFU:" in out and "of the fp32 peak" in out
