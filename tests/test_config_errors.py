"""Bad configs are refused before any job runs, in one to three lines naming the key.

The bulk runs :func:`pieflow.config.check_config` in-process on the table of
``tests/bad_configs.py``; a few dry runs check what a user sees from Snakemake: a short
message, no traceback, no schema dump, no ``results/``.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from bad_configs import CASES, DOC, END, ISSUE_CASES, START, base_config, refusal
from workflow_helpers import REPO, snakemake, tiny_config, write_config

from pieflow import config_checks
from pieflow.config import ConfigError, check_config
from pieflow.config import main as check_files
from pieflow.config_errors import schema_problems

SCHEMA_DUMP = ("Traceback", "On instance", "Failed validating", "ValidationError",
               "'additionalProperties'")


@pytest.fixture()
def base(tiny_bert_dir):
    return tiny_config(tiny_bert_dir)


def refused(config) -> str:
    """What pieflow says about ``config`` (it must refuse it)."""
    with pytest.raises(ConfigError) as err:
        check_config(config)
    return str(err.value)


# --------------------------------------------------------------------------------------
# The table, in-process
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_config_is_refused_in_a_few_lines(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    said = refusal(case, tmp_path)
    assert case.message in said, said
    assert 1 <= len(said.splitlines()) <= 3, said
    assert not any(dump in said for dump in SCHEMA_DUMP), said


def test_the_table_covers_the_issue():
    ids = [case.id for case in CASES]
    assert len(ids) >= 40 and len(set(ids)) == len(ids)
    assert set(ISSUE_CASES) <= set(ids)


def test_valid_configs_pass(tmp_path, monkeypatch, base):
    """The shipped configs, the tiny test config and every kind of source, model and
    method definition a check looks at, when right, are accepted as they are."""
    monkeypatch.chdir(tmp_path)
    model = tmp_path / "models" / "bert"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    for name in ("classes.json", "train.parquet", "validation.parquet", "test.parquet"):
        (prepared / name).write_text("")
    (tmp_path / "train.csv").write_text("text,label\n")
    (tmp_path / "hub-copy").mkdir()
    config = base_config()
    config["datasets"].update({
        "news": {"source": "files", "files": {"train": "train.csv", "test": "train.csv"},
                 "format": "csv", "columns": {"text": "body"}, "validation_fraction": 0.2,
                 "drop_labels": [-1]},
        "imdb": {"source": "hub", "hub_id": "stanfordnlp/imdb", "config_name": "plain_text",
                 "revision": "main", "splits": {"test": "test"}, "columns": {"labels": "y"}},
        "local": {"source": "hub", "hub_id": "./hub-copy"},
        "ready": {"source": "parquet", "path": str(prepared)},
        "tweets2": {"source": "embedded-tweets",
                    "split_fractions": {"train": 0.7, "validation": 0.1, "test": 0.2}},
    })
    config["models"].update({
        "hubbert": {"family": "bert", "pretrained": "bert-base-uncased", "epochs": 2,
                    "lr": 1e-4, "batch_size": 8, "trust_remote_code": False},
        "orgbert": {"family": "bert", "pretrained": "google-bert/bert-base-uncased",
                    "epochs": 1, "lr": 1e-4, "batch_size": 8},
        "localbert": {"family": "bert", "pretrained": "./models/bert", "epochs": 1,
                      "lr": 1e-4, "batch_size": 8},
    })
    config["models"]["bilstm"].update(hidden_size=16, el2n_epoch=4, per_dataset={
        "tweets": {"epochs": 2, "el2n_epoch": 0.5}})
    config["method_definitions"] = {
        "late-rewind": {"score": "magnitude", "schedule": "iterative",
                        "after_prune": "rewind", "rewind_epoch": 1},
        "imp.global": {"score": "magnitude", "schedule": "iterative", "scope": "global",
                       "prunes": 2},
        "big-impact": {"score": "impact", "schedule": "at_init", "impact_batches": 2,
                       "impact_batch_size": 4},
    }
    config["methods"] += ["imp.global", "big-impact"]
    config["models"]["minilm"].update(methods=["late-rewind"], epochs=2)  # rewind 1 < 2
    before = copy.deepcopy(config)
    check_config(config)
    assert config == before  # checking fills in nothing
    check_config(yaml.safe_load((REPO / "config.yaml").read_text()))
    check_config(base)


def test_the_study_grid_lacks_only_its_downloads():
    """config/study.yaml is valid but for the AAPD files a user downloads first."""
    study = yaml.safe_load((REPO / "config" / "study.yaml").read_text())
    assert schema_problems(study) == []
    found = config_checks.problems(study)
    assert found and all(line.startswith("datasets.aapd.files.") for line in found), found


def test_schema_keeps_the_data_stage_minimum():
    from pieflow.data.checks import MIN_SPLIT_EXAMPLES  # a rename fails here, not skips

    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    limits = schema["properties"]["datasets"]["additionalProperties"]["properties"][
        "max_examples"]["properties"]
    assert {limit["minimum"] for limit in limits.values()} == {MIN_SPLIT_EXAMPLES}


def test_at_most_three_problems_then_a_count():
    config = base_config()
    config["sparsities"] = [100, 101, 102, 103, 104]
    said = refused(config)
    assert len(said.splitlines()) == 3 and said.endswith("(and 2 more problems)")


def test_command_line_checker(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("seeds: [1, 2\n")
    assert check_files([str(REPO / "config.yaml")]) == 0
    assert check_files([str(bad)]) == 1
    assert re.search(r"bad\.yaml:2:1: ", capsys.readouterr().err)


# --------------------------------------------------------------------------------------
# The earlier cases (the tiny test config: a local BERT folder)
# --------------------------------------------------------------------------------------


def test_unknown_method(base):
    config = copy.deepcopy(base)
    config["methods"] = ["imp", "magic"]
    out = refused(config)
    assert "unknown method 'magic'" in out and "methods" in out


@pytest.mark.parametrize("sparsity", [100, -5])
def test_sparsity_out_of_range(base, sparsity):
    config = copy.deepcopy(base)
    config["sparsities"] = [50, sparsity]
    out = refused(config)
    assert "sparsities" in out and str(sparsity) in out


def test_too_few_seeds(base):
    config = copy.deepcopy(base)
    config["seeds"] = 1
    assert "seeds" in refused(config)


def test_unknown_dataset_source(base):
    config = copy.deepcopy(base)
    config["datasets"]["tweets"]["source"] = "nonexistent"
    out = refused(config)
    assert "nonexistent" in out and "source" in out


def test_unknown_model_family(base):
    config = copy.deepcopy(base)
    config["models"]["bilstm"]["family"] = "gpt"
    out = refused(config)
    assert "gpt" in out and "family" in out


def test_unknown_key_in_a_model(base):
    config = copy.deepcopy(base)
    config["models"]["bilstm"]["learning_rate"] = 0.1
    assert "learning_rate" in refused(config)


# --------------------------------------------------------------------------------------
# What a user sees from Snakemake (a few dry runs)
# --------------------------------------------------------------------------------------


def dry_run_refuses(workdir: Path, *args: str) -> str:
    result = snakemake(workdir, "--dry-run", *args)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert not (workdir / "results").exists()
    assert len(out.strip().splitlines()) < 10, out
    assert not any(dump in out for dump in SCHEMA_DUMP), out
    return out


def test_dry_run_names_the_unknown_key(tmp_path):
    config = base_config()
    config["models"]["minilm"]["epoch"] = config["models"]["minilm"].pop("epochs")
    write_config(tmp_path, config)
    out = dry_run_refuses(tmp_path)
    assert "ConfigError" in out
    assert "models.minilm: unknown key 'epoch' (did you mean 'epochs'?)" in out


def test_dry_run_refuses_a_missing_model_folder(tmp_path):
    config = base_config()
    config["models"]["minilm"]["pretrained"] = "./models/bert-small"
    write_config(tmp_path, config)
    out = dry_run_refuses(tmp_path)
    assert "models.minilm.pretrained: no folder ./models/bert-small" in out
    assert "Repo id" not in out


def test_dry_run_names_file_line_and_column_of_a_yaml_error(tmp_path):
    text = yaml.safe_dump(base_config(), sort_keys=False)
    broken = text.replace("seeds: 5", "seeds: [5")
    (tmp_path / "config.yaml").write_text(broken)
    line = broken.splitlines().index("seeds: [5") + 1
    out = dry_run_refuses(tmp_path)
    assert re.search(rf"config\.yaml:{line + 1}:\d+: ", out), out


def test_dry_run_checks_command_line_overrides(tmp_path):
    """``--configfile`` and ``--config`` still work, and what they set is checked."""
    write_config(tmp_path, base_config())
    more = tmp_path / "more.yaml"  # absolute: --configfile is not read from --directory
    more.write_text("sparsities: [50]\nmethods: [imp]\nmethods: [mp-ai]\n")
    out = dry_run_refuses(tmp_path, "--configfile", str(more))
    assert re.search(r"more\.yaml:3:1: duplicate key 'methods'", out), out
    out = dry_run_refuses(tmp_path, "--config", "seeds=1")
    assert "seeds: 1 is below the minimum 2" in out
    more.write_text("sparsities: [50]\n")
    result = snakemake(tmp_path, "--dry-run", "--configfile", str(more), "--config",
                       "seeds=3")
    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------------------
# The troubleshooting table
# --------------------------------------------------------------------------------------


def test_troubleshooting_page_lists_every_case():
    """docs/troubleshooting.md's config errors table holds every case's message and fix
    (regenerate it with .venv/bin/python tests/bad_configs.py)."""
    page = DOC.read_text(encoding="utf-8")
    assert page.count(START) == 1 and page.count(END) == 1, \
        f"{DOC.name} has no single {START} … {END} block"
    table = page.split(START)[1].split(END)[0]
    missing = [case.id for case in CASES
               if case.message not in table or case.fix not in table]
    assert not missing, (f"{DOC.relative_to(REPO)} lacks: {missing} "
                         "(run .venv/bin/python tests/bad_configs.py)")
