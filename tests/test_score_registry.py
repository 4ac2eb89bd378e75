"""A new pruning score is one function and one ``register_score`` line: registered here,
from the test file alone, a Wanda-like score is a valid ``score`` of a method
definition, is refused where it cannot run, prunes through the post-training path, and
is gone afterwards."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch
from bad_configs import base_config
from conftest import encoded

from pieflow.config import ConfigError, check_config
from pieflow.masks import prunable_parameters
from pieflow.prune.methods import BUILTIN_METHODS, MethodSpec
from pieflow.prune.schedules import run_pruning
from pieflow.prune.scores import SCORES, ScoreContext, register_score, unregister_score
from pieflow.train.dense import train_dense

CPU = torch.device("cpu")
TOY = "toy-wanda-sq"


def toy_scores(context: ScoreContext) -> dict[str, torch.Tensor]:
    """|W_ij| · ‖X_j‖²: Wanda with the squared input norm (another ranking than both
    magnitude and Wanda)."""
    return {name: p.detach().abs() * context.calibration.inputs[name].sq_norms[None, :]
            for name, p in context.params.items()}


@contextmanager
def registered() -> Iterator[str]:
    register_score(TOY, calibrated=True, per_row=True)(toy_scores)
    try:
        yield TOY
    finally:
        unregister_score(TOY)


@pytest.fixture()
def toy():
    with registered() as name:
        yield name


def with_method(definition: dict) -> dict:
    """The base config with ``toy`` defined and run by the MiniLM model (a BiLSTM has no
    Linear inputs to calibrate)."""
    config = base_config()
    config["method_definitions"] = {"toy": definition}
    config["models"]["minilm"]["methods"] = ["imp", "toy"]
    return config


def refused(config) -> str:
    with pytest.raises(ConfigError) as err:
        check_config(config)
    return str(err.value)


def test_the_registry_says_what_the_toy_needs(toy):
    entry = SCORES[toy]
    assert (entry.calibrated, entry.per_row, entry.solver, entry.hessians) == (
        True, True, False, False)
    assert entry.layer_only and entry.function is toy_scores
    method = MethodSpec(toy, "post_training")
    assert method.needs_calibration and method.prunes == 1
    with pytest.raises(ValueError, match="registered already"):
        register_score(toy)(toy_scores)


def test_a_config_may_use_the_toy_only_where_it_can_run(toy, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check_config(with_method({"score": toy, "schedule": "post_training"}))
    check_config(with_method({"score": toy, "schedule": "post_training", "pattern": "2:4",
                              "calibration_examples": 16}))
    said = refused(with_method({"score": toy, "schedule": "iterative"}))
    assert said == (f"method_definitions.toy: score {toy!r} needs schedule 'post_training' "
                    "(it reads calibration activations of a trained model)")
    said = refused(with_method({"score": toy, "schedule": "post_training",
                                "scope": "global"}))
    assert said == (f"method_definitions.toy: score {toy!r} compares weights within a "
                    "layer: use scope 'layer'")
    said = refused(with_method({"score": toy, "schedule": "post_training",
                                "impact_batches": 2}))
    assert said == "method_definitions.toy.impact_batches: applies only to score: impact"
    config = with_method({"score": toy, "schedule": "post_training"})
    config["models"]["bilstm"]["methods"] = ["toy"]
    assert "models.bilstm: method 'toy' reads the inputs of Linear layers" in refused(config)


@pytest.fixture(scope="module")
def dense_bert(tiny_bert_spec, tweets):
    data = encoded(tiny_bert_spec, tweets.splits["train"])
    run = train_dense(tiny_bert_spec, data, 3, 0, CPU)
    return data, (run.model, run.state)


def test_the_toy_prunes_every_row_by_the_same_count(toy, tiny_bert_spec, dense_bert):
    data, dense = dense_bert
    target = 0.5
    run = run_pruning(tiny_bert_spec, MethodSpec(toy, "post_training",
                                                 calibration_examples=32),
                      target, data, 3, 0, CPU, dense=copy.deepcopy(dense))
    magnitude = run_pruning(tiny_bert_spec, BUILTIN_METHODS["mag-pt"], target, data, 3, 0,
                            CPU, dense=copy.deepcopy(dense))
    params = prunable_parameters(run.model)
    assert run.masks.keys() == params.keys()
    for name, mask in run.masks.items():
        rows, inputs = mask.shape
        assert ((~mask).sum(1) == round(target * inputs)).all(), name  # exact, per row
        assert int((~mask).sum()) == rows * round(target * inputs)
        assert (params[name][~mask] == 0).all()
    assert any(not torch.equal(run.masks[n], magnitude.masks[n]) for n in run.masks)
    (prune,) = run.rounds
    assert prune["step"] == "prune" and len(prune["calibration_example_ids"]) == 32
    assert prune["achieved_sparsity"] == pytest.approx(target, abs=0.01)


def test_the_toy_is_gone_afterwards(tmp_path, monkeypatch):
    before = dict(SCORES)
    with registered():
        assert TOY in SCORES
    assert before == SCORES and TOY not in SCORES
    with pytest.raises(ValueError, match=f"unknown score {TOY!r}"):
        MethodSpec(TOY, "post_training")
    monkeypatch.chdir(tmp_path)
    said = refused(with_method({"score": TOY, "schedule": "post_training"}))
    assert said.startswith(f"method_definitions.toy.score: unknown score {TOY!r}")
