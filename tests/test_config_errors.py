"""Bad configs are refused before any job runs, naming the offending key."""

from __future__ import annotations

import copy

import pytest
from workflow_helpers import snakemake, tiny_config, write_config


@pytest.fixture()
def base(tiny_bert_dir):
    return tiny_config(tiny_bert_dir)


def refused(tmp_path, config) -> str:
    write_config(tmp_path, config)
    result = snakemake(tmp_path, "--dry-run")
    assert result.returncode != 0
    assert not (tmp_path / "results").exists()
    return result.stdout + result.stderr


def test_unknown_method(tmp_path, base):
    config = copy.deepcopy(base)
    config["methods"] = ["imp", "magic"]
    out = refused(tmp_path, config)
    assert "unknown method 'magic'" in out and "methods" in out


@pytest.mark.parametrize("sparsity", [100, -5])
def test_sparsity_out_of_range(tmp_path, base, sparsity):
    config = copy.deepcopy(base)
    config["sparsities"] = [50, sparsity]
    out = refused(tmp_path, config)
    assert "sparsities" in out and str(sparsity) in out


def test_too_few_seeds(tmp_path, base):
    config = copy.deepcopy(base)
    config["seeds"] = 1
    out = refused(tmp_path, config)
    assert "seeds" in out


def test_unknown_dataset_source(tmp_path, base):
    config = copy.deepcopy(base)
    config["datasets"]["tweets"]["source"] = "nonexistent"
    out = refused(tmp_path, config)
    assert "nonexistent" in out and "source" in out


def test_unknown_model_family(tmp_path, base):
    config = copy.deepcopy(base)
    config["models"]["bilstm"]["family"] = "gpt"
    out = refused(tmp_path, config)
    assert "gpt" in out and "family" in out


def test_unknown_key_in_a_model(tmp_path, base):
    config = copy.deepcopy(base)
    config["models"]["bilstm"]["learning_rate"] = 0.1
    out = refused(tmp_path, config)
    assert "learning_rate" in out
