"""Smoke test: the mask benchmark still runs end to end.

No timing assertions: timings depend on the machine and its load, so the targets are
judged by reading the full benchmark's report, never here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_bench_masks_quick_runs_and_prints_both_tables():
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_masks.py"),
         "--quick", "--repeats", "1", "--threads", "1"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    header = next(line for line in out.splitlines() if line.startswith("scope"))
    for column in ("sparsity", "next_masks s", "torch s", "torch / pieflow", "exact"):
        assert column in header
    assert "step without masks" in out and "apply_masks alone" in out
    assert "all sparsities exact: yes" in out
