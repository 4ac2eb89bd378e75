"""Reruns reproduce a run: after a job is killed mid-epoch, and from scratch."""

from __future__ import annotations

import copy
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from workflow_helpers import (
    failure_report,
    snakemake,
    snakemake_command,
    tiny_config,
    write_config,
)

from pieflow.compare import compare_trees, result_files

pytestmark = pytest.mark.slow

STEP_LINE = re.compile(r"epoch (\d+) step (\d+)/(\d+)")


# What the killed job (train_dense) feeds: the dense population's predictions and the
# influence scores (EL2N from the early checkpoint, forgetting events from the minibatch
# record, final losses). Pruned cells and summaries would add minutes and nothing here.
TARGETS = ("results/tweets/bilstm/dense/0/predictions.parquet",
           "results/tweets/bilstm/influence.parquet")


def killable_config() -> dict:
    """The tiny config cut to one BiLSTM over the embedded vectors and 2 seeds, with
    epochs of 30 steps, so that a kill lands inside one."""
    config = copy.deepcopy(tiny_config(Path("unused-no-bert")))
    del config["models"]["tinybert"]
    config["models"]["bilstm"].update(epochs=2, batch_size=16, el2n_epoch=1, grand=False)
    config["datasets"]["tweets"]["max_examples"] = {"train": 480, "validation": 40,
                                                    "test": 80}
    config.update(methods=["mp-ai"], seeds=2)
    return config


def stale_temporaries(root: Path) -> list[Path]:
    """What pieflow.io writes before its rename (``.{name}.XXXXXXXX.tmp``) and what
    writers such as safetensors make of their own (``.tmpXXXXXX``)."""
    return sorted({*root.rglob("*.tmp"), *root.rglob(".tmp*")})


def start_and_kill_mid_epoch(workdir: Path, timeout: float = 300) -> Path:
    """Start the workflow, SIGKILL Snakemake and all its jobs (one process group) as soon
    as a training job has logged a step; return that job's log."""
    logs = workdir / "results" / "logs" / "train_dense"
    process = subprocess.Popen(snakemake_command(workdir, *TARGETS), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and process.poll() is None:
            stepped = [log for log in logs.rglob("*.log") if STEP_LINE.search(log.read_text())]
            if stepped:
                return stepped[0]
            time.sleep(0.02)
        raise AssertionError(f"no training step logged (snakemake exit {process.poll()})")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_a_job_killed_mid_epoch_reruns_to_the_same_results(tmp_path):
    config = killable_config()
    uninterrupted, killed = tmp_path / "a", tmp_path / "b"
    for workdir in (uninterrupted, killed):
        workdir.mkdir()
        write_config(workdir, config)

    log = start_and_kill_mid_epoch(killed)
    logged = log.read_text()
    time.sleep(1)  # a training job that escaped the kill would log on meanwhile
    assert log.read_text() == logged
    steps = STEP_LINE.findall(logged)
    epoch, step, per_epoch = map(int, steps[-1])
    assert (epoch, step) != (config["models"]["bilstm"]["epochs"], per_epoch), \
        "the kill came after the last step: make the epochs longer"
    assert "done in" not in logged
    seed_dir = (killed / "results" / "tweets" / "bilstm" / "dense" / "0" / "seeds"
                / log.stem)
    assert not (seed_dir / "model.safetensors").exists()
    # What a kill during the checkpoint's write leaves (pieflow.io's scratch folder
    # holding a full-size file and safetensors' own temporary): the rerun must remove it.
    scratch = seed_dir / ".model.safetensors.k1113d0a.tmp"
    scratch.mkdir(parents=True)
    (scratch / "model.safetensors").write_bytes(b"\0" * 65536)
    (scratch / ".tmpAbC123").write_bytes(b"\0" * 65536)

    # Documented recovery (docs/slurm.md): unlock, then the same command again; the
    # workflow profile next to the Snakefile sets rerun-incomplete.
    assert snakemake(killed, "--unlock").returncode == 0
    rerun = snakemake(killed, *TARGETS)
    assert rerun.returncode == 0, failure_report(killed, rerun)
    result = snakemake(uninterrupted, *TARGETS)
    assert result.returncode == 0, failure_report(uninterrupted, result)

    assert compare_trees(uninterrupted / "results", killed / "results") == []
    compared = result_files(killed / "results")
    assert {"tweets/bilstm/dense/0/seeds/0/history.parquet",
            "tweets/bilstm/dense/0/seeds/1/learning.parquet"} <= compared
    assert stale_temporaries(killed / "results") == []
    assert stale_temporaries(uninterrupted / "results") == []


def test_a_second_run_from_scratch_reproduces_every_table(finished_run, tmp_path):
    first, config = finished_run
    second = tmp_path / "again"
    second.mkdir()
    write_config(second, config)
    result = snakemake(second)
    assert result.returncode == 0, failure_report(second, result)
    assert compare_trees(first / "results", second / "results") == []
    assert any(name.endswith(".parquet") for name in result_files(second / "results"))
    assert stale_temporaries(second / "results") == []
