"""Post-training compression cells through the whole DAG: compressed once from the
trained dense seeds, then diffed, scored and read out like any other cell."""

from __future__ import annotations

import polars as pl
import pytest
from workflow_helpers import failure_report, snakemake, tiny_config, write_config

from pieflow import io

pytestmark = pytest.mark.slow


def test_post_training_cells_end_to_end(tmp_path, tiny_bert_dir):
    config = tiny_config(tiny_bert_dir)
    config["models"]["tinybert"]["methods"] = ["sparsegpt-2of4", "int4-g128-gptq"]
    config["models"]["bilstm"]["methods"] = ["mag-pt"]
    config["models"]["bilstm"]["sparsities"] = [70]
    config["splits"] = ["test"]
    workdir = tmp_path / "work"
    workdir.mkdir()
    write_config(workdir, config)
    result = snakemake(workdir)
    assert result.returncode == 0, failure_report(workdir, result)
    results = workdir / "results"
    tinybert, bilstm = results / "tweets" / "tinybert", results / "tweets" / "bilstm"
    # 2:4 is planned at 50 % only, quantization alone at 0 %, whatever `sparsities` says
    assert sorted(p.name for p in (tinybert / "sparsegpt-2of4").iterdir() if p.is_dir()) \
        == ["50"]
    rounds = pl.read_parquet(tinybert / "sparsegpt-2of4" / "50" / "seeds" / "0"
                             / "prune_rounds.parquet")
    assert rounds["pattern"].to_list() == ["2:4"] and rounds["calibration_seed"][0] is not None
    mask = io.load_tensors(tinybert / "sparsegpt-2of4" / "50" / "seeds" / "0"
                           / "mask.safetensors")
    for tensor in mask.values():  # exactly 2 of every 4 consecutive input weights kept
        assert (tensor.reshape(tensor.shape[0], -1, 4).sum(-1) == 2).all()
    quantized = pl.read_parquet(tinybert / "int4-g128-gptq" / "0" / "seeds" / "0"
                                / "prune_rounds.parquet")
    assert quantized.filter(pl.col("step") == "quantize")["bits"].to_list() == [4]
    metrics = pl.read_parquet(bilstm / "mag-pt" / "70" / "metrics.parquet")
    assert metrics["sparsity"].to_list() == pytest.approx([0.7] * 3, abs=0.001)
    # No iterative method: no control and no comparison against one
    assert not (tinybert / "control").exists() and not (bilstm / "control").exists()
    findings = pl.read_parquet(results / "analysis" / "findings.parquet")
    kinds = dict(findings.select("method", "compression").unique().iter_rows())
    assert kinds == {"sparsegpt-2of4": "post-training pruning",
                     "int4-g128-gptq": "quantization", "mag-pt": "post-training pruning"}
    assert findings["vs_control_excess_mean"].null_count() == findings.height
    assert findings["finding"].str.len_chars().min() > 40
    for method, sparsity in [("sparsegpt-2of4", 50), ("int4-g128-gptq", 0)]:
        paired = pl.read_parquet(tinybert / method / str(sparsity) / "paired.parquet")
        assert paired["n_pairs"].to_list() == [3]
