"""Tables tell the kinds of compression apart: pruning during training, post-training
pruning, quantization (issue: compare which examples each kind hurts)."""

from __future__ import annotations

import polars as pl

from pieflow.analysis.cells import with_compression
from pieflow.config import compression_kinds, method_sparsities, pruned_cells
from pieflow.prune.methods import BUILTIN_METHODS


def test_every_builtin_has_a_kind():
    kinds = {name: spec.compression for name, spec in BUILTIN_METHODS.items()}
    assert kinds["imp"] == kinds["iibp-wr"] == "pruning during training"
    assert kinds["mp-ai"] == "pruning at init"
    assert kinds["wanda"] == kinds["sparsegpt-2of4"] == "post-training pruning"
    assert kinds["int8"] == kinds["int4-g128-gptq"] == "quantization"


def _config():
    return {"datasets": {"d": {}}, "models": {"m": {"family": "bert"}},
            "methods": ["imp", "wanda-2of4", "int8", "sparsegpt-int4"],
            "method_definitions": {"sparsegpt-int4": {
                "score": "sparsegpt", "schedule": "post_training",
                "quantize": {"bits": 4, "group_size": 128, "scheme": "gptq"}}},
            "sparsities": [50, 90], "seeds": 3}


def test_config_kinds_and_fixed_sparsity_cells():
    config = _config()
    kinds = compression_kinds(config)
    assert kinds["sparsegpt-int4"] == "post-training pruning + quantization"
    assert kinds["dense"].startswith("none") and kinds["control"].startswith("none")
    assert method_sparsities(config, "wanda-2of4", [50, 90]) == [50]  # 2:4 is 50 %
    assert method_sparsities(config, "int8", [50, 90]) == [0]  # quantization prunes nothing
    cells = {(c.method, c.sparsity) for c in pruned_cells(config)}
    assert cells == {("imp", 50), ("imp", 90), ("wanda-2of4", 50), ("int8", 0),
                     ("sparsegpt-int4", 50), ("sparsegpt-int4", 90)}


def test_tables_get_the_kind_after_the_cell_keys():
    table = pl.DataFrame({"dataset": ["d", "d"], "model": ["m", "m"],
                          "method": ["dense", "int8"], "sparsity": [0, 0],
                          "split": ["test", "test"], "accuracy_mean": [0.8, 0.79]})
    out = with_compression(table, compression_kinds(_config()))
    assert out.columns[:5] == ["dataset", "model", "method", "sparsity", "compression"]
    assert out["compression"].to_list() == ["none (dense)", "quantization"]
