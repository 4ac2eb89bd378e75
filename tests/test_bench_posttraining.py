"""Smoke test: the post-training benchmark still runs end to end.

No timing assertions: timings depend on the machine and its load, so they are judged by
reading the full benchmark's report (bench/README.md), never here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_bench_posttraining_quick_runs_and_prints_both_tables():
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_posttraining.py"), "--quick",
         "--threads", "1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    header = next(line for line in out.splitlines() if line.startswith("method"))
    for column in ("calibrate s", "compress s", "x magnitude", "zeros"):
        assert column in header
    for method in ("wanda", "sparsegpt", "sparsegpt 2:4", "int4-g128 gptq"):
        assert any(line.startswith(f"{method} ") for line in out.splitlines()), method
    assert "IMP cell / post-training cell" in out
    # every pruning row reaches its 50 % exactly
    for line in out.splitlines():
        if line.split()[:1] and line.split()[0] in ("magnitude", "wanda", "sparsegpt"):
            assert line.split()[-1] == "0.5000", line
