"""The tiny workflow on CUDA gives the CPU run's predictions.

Marked ``gpu`` and skipped where torch sees no CUDA device (CI, laptops): run it on a
GPU machine with ``pytest -m gpu``. Both runs train from the same seeds; they are not
bit-for-bit equal (different kernels, and bf16 autocast where each device runs it fast),
so the check is that the two runs' predicted labels agree on nearly every example and
that the GPU run really trained on the GPU.
"""

from __future__ import annotations

import os
import subprocess

import polars as pl
import pytest
import torch
from workflow_helpers import REPO, failure_report, snakemake_command, tiny_config, write_config

from pieflow import layout

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(),
                       reason="no CUDA device: torch.cuda.is_available() is False"),
]

CELLS = [("tinybert", "dense", 0), ("bilstm", "dense", 0), ("tinybert", "imp", 50),
         ("bilstm", "mp-ai", 50)]
MIN_AGREEMENT = 0.95


def _run(workdir, config, env) -> dict[tuple[str, str, int], pl.DataFrame]:
    write_config(workdir, config)
    targets = [layout.fill(layout.cell_file("predictions.parquet"), dataset="tweets",
                           model=m, method=method, sparsity=s) for m, method, s in CELLS]
    result = subprocess.run(snakemake_command(workdir, *targets), capture_output=True,
                            text=True, timeout=1800, env=env, cwd=REPO)
    assert result.returncode == 0, failure_report(workdir, result)
    return {cell: pl.read_parquet(workdir / target) for cell, target in
            zip(CELLS, targets, strict=True)}


def test_tiny_workflow_on_cuda_predicts_like_the_cpu_run(tmp_path, tiny_bert_dir):
    config = tiny_config(tiny_bert_dir)
    gpu = _run(tmp_path / "gpu", config, dict(os.environ))
    cpu = _run(tmp_path / "cpu", config, {**os.environ, "CUDA_VISIBLE_DEVICES": ""})

    log = (tmp_path / "gpu" / layout.fill(layout.log_file("train_dense", "dataset", "model",
                                                           "seed"),
                                           dataset="tweets", model="tinybert", seed=0))
    assert "(cuda" in log.read_text(), "the GPU run did not train on CUDA"
    for cell in CELLS:
        keys = ["seed", "split", "example_id"]
        joined = gpu[cell].select(*keys, "pred").join(
            cpu[cell].select(*keys, pl.col("pred").alias("cpu_pred")), on=keys)
        assert joined.height == gpu[cell].height == cpu[cell].height, cell
        agreement = (joined["pred"] == joined["cpu_pred"]).mean()
        assert agreement >= MIN_AGREEMENT, f"{cell}: GPU and CPU agree on {agreement:.1%}"
