"""A multi-label toy dataset (shaped like Reuters on the hub) through the whole DAG."""

from __future__ import annotations

import polars as pl
import pytest
from hub_fixtures import make_reuters
from workflow_helpers import failure_report, snakemake, write_config

pytestmark = pytest.mark.slow


def test_multi_label_end_to_end(tmp_path):
    fixture = make_reuters(tmp_path / "reuters-fixture", n=120)
    config = {
        "datasets": {"reuters": {"source": "hub", "hub_id": str(fixture),
                                 "config_name": "ModApte", "columns": {"labels": "topics"},
                                 "validation_fraction": 0.25, "max_length": 24}},
        "models": {"bilstm": {"family": "bilstm", "vectors": "embedded", "hidden_size": 8,
                              "epochs": 2, "lr": 5e-3, "batch_size": 16}},
        "methods": ["mp-ai"],
        "sparsities": [50],
        "seeds": 3,
        "splits": ["test"],
    }
    workdir = tmp_path / "work"
    workdir.mkdir()
    write_config(workdir, config)
    result = snakemake(workdir)
    assert result.returncode == 0, failure_report(workdir, result)
    cell = workdir / "results" / "reuters" / "bilstm"
    predictions = pl.read_parquet(cell / "dense" / "0" / "predictions.parquet")
    assert {"labels", "preds", "logits", "loss", "threshold"} <= set(predictions.columns)
    assert predictions["preds"].list.len().unique().to_list() == [5]
    assert predictions["threshold"].is_between(0, 0.99).all()
    metrics = pl.read_parquet(cell / "mp-ai" / "50" / "metrics.parquet")
    assert {"accuracy", "macro_f1", "micro_f1", "sparsity"} <= set(metrics.columns)
    pies = pl.read_parquet(cell / "mp-ai" / "50" / "pies.parquet")
    flipped = pies.filter(pl.col("is_pie"))["flipped_classes"].list.len()
    assert (flipped >= 1).all()
    assert pies.filter(~pl.col("is_pie"))["flipped_classes"].list.len().max() in (0, None)
    influence = pl.read_parquet(cell / "influence.parquet")
    assert influence["el2n"].is_between(0, 5**0.5).all()
    assert (workdir / "results" / "analysis" / "pies.parquet").exists()
