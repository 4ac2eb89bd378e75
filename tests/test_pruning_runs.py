import pytest
import torch
from conftest import encoded

import pieflow.prune.schedules as schedules
from pieflow.masks import achieved_sparsity, prunable_parameters
from pieflow.models.classifiers import build_model
from pieflow.prune.methods import BUILTIN_METHODS, MethodSpec
from pieflow.prune.schedules import run_pruning
from pieflow.train.dense import train_dense

CPU = torch.device("cpu")


def spec_of(family, tiny_bert_spec, bilstm_spec):
    return dict(tiny_bert_spec if family == "bert" else bilstm_spec, epochs=1)


@pytest.mark.parametrize("target", [0.9, 0.99])
@pytest.mark.parametrize("family", ["bert", "bilstm"])
@pytest.mark.parametrize("method", [name for name, spec in BUILTIN_METHODS.items()
                                    if spec.schedule != "post_training"])  # the study's 8
def test_every_method_reaches_its_sparsity_and_keeps_zeros(
    family, method, target, tiny_bert_spec, bilstm_spec, tweets
):
    spec = spec_of(family, tiny_bert_spec, bilstm_spec)
    data = encoded(spec, tweets.splits["train"])
    dense = None
    if BUILTIN_METHODS[method].schedule == "iterative":
        run = train_dense(spec, data, 3, 0, CPU)
        dense = (run.model, run.state)
    pruned = run_pruning(spec, BUILTIN_METHODS[method], target, data, 3, 0, CPU, dense=dense)
    params = prunable_parameters(pruned.model)
    # measured after the last optimiser steps, not just after the last prune
    assert achieved_sparsity(params.values()) == pytest.approx(target, abs=0.001)
    for name, mask in pruned.masks.items():
        assert (params[name][~mask] == 0).all()
    expected_epochs = spec["epochs"] * BUILTIN_METHODS[method].total_epoch_multiple
    assert pruned.state.epochs_done == expected_epochs


def test_extreme_sparsity_is_exact(bilstm_spec, tweets):
    spec = spec_of("bilstm", {}, bilstm_spec)
    data = encoded(spec, tweets.splits["train"])
    pruned = run_pruning(spec, BUILTIN_METHODS["rp-ai"], 0.99, data, 3, 0, CPU)
    assert achieved_sparsity(prunable_parameters(pruned.model).values()) == pytest.approx(
        0.99, abs=0.001)


@pytest.mark.parametrize("family", ["bert", "bilstm"])
def test_rewinding_restores_initial_weights_bit_for_bit(
    family, tiny_bert_spec, bilstm_spec, tweets, monkeypatch
):
    spec = spec_of(family, tiny_bert_spec, bilstm_spec)
    data = encoded(spec, tweets.splits["train"])
    run = train_dense(spec, data, 3, 2, CPU)
    initial = dict(build_model(spec, 3, 2).named_parameters())
    snapshots = []
    real_train = schedules.train_epochs

    def snapshot_then_train(model, *args, masks, **kwargs):
        snapshots.append(({n: p.detach().clone() for n, p in model.named_parameters()},
                          {n: m.clone() for n, m in masks.items()}))
        return real_train(model, *args, masks=masks, **kwargs)

    monkeypatch.setattr(schedules, "train_epochs", snapshot_then_train)
    run_pruning(spec, BUILTIN_METHODS["imp-wr"], 0.5, data, 3, 2, CPU,
                dense=(run.model, run.state))
    assert len(snapshots) == 3
    for params, masks in snapshots:
        for name, value in params.items():
            expected = initial[name].detach()
            if name in masks:
                expected = expected * masks[name]
                assert (value[~masks[name]] == 0).all()
            assert torch.equal(value, expected), name


def test_random_pruning_is_reproducible_and_differs_across_seeds(bilstm_spec, tweets):
    spec = spec_of("bilstm", {}, bilstm_spec)
    data = encoded(spec, tweets.splits["train"])
    masks = [run_pruning(spec, BUILTIN_METHODS["rp-ai"], 0.5, data, 3, seed, CPU).masks
             for seed in (0, 0, 1)]
    assert all(torch.equal(masks[0][k], masks[1][k]) for k in masks[0])
    assert any(not torch.equal(masks[0][k], masks[2][k]) for k in masks[0])


def test_at_init_pruning_starts_from_the_dense_seeds_initialisation(bilstm_spec, tweets):
    spec = spec_of("bilstm", {}, bilstm_spec)
    data = encoded(spec, tweets.splits["train"])
    pruned = run_pruning(spec, BUILTIN_METHODS["mp-ai"], 0.5, data, 3, 7, CPU)
    init = dict(build_model(spec, 3, 7).named_parameters())
    # magnitude at init: what survives are exactly the largest initial weights
    for name, mask in pruned.masks.items():
        kept, dropped = init[name].abs()[mask], init[name].abs()[~mask]
        assert kept.min() >= dropped.max()


def test_user_defined_methods_and_unknown_names():
    from pieflow.config import method_params
    from pieflow.prune.scores import SCORES

    config = {"method_definitions": {"g": {"score": "magnitude", "schedule": "at_init",
                                           "scope": "global"}}}
    custom = MethodSpec(**method_params(config, "g"))
    assert custom == MethodSpec("magnitude", "at_init", scope="global")
    assert MethodSpec(**method_params(config, "imp")) == BUILTIN_METHODS["imp"]
    with pytest.raises(ValueError, match="unknown score 'nope'"):
        MethodSpec("nope", "at_init")
    # every built-in method's score is a registered score, a solver, or "none"
    from pieflow.prune.methods import NO_PRUNING
    from pieflow.prune.obs import SOLVERS

    assert {spec.score for spec in BUILTIN_METHODS.values()} <= {*SCORES, *SOLVERS, NO_PRUNING}


def test_late_rewinding_goes_back_to_the_dense_weights_after_that_epoch(bilstm_spec, tweets):
    spec = spec_of("bilstm", {}, bilstm_spec)
    data = encoded(spec, tweets.splits["train"])
    dense_after_one = train_dense(spec, data, 3, 5, CPU).model  # spec epochs = 1
    point = schedules.rewind_point(spec, data, 3, 5, CPU, epoch=1)
    for name, param in dense_after_one.named_parameters():
        assert torch.equal(point[name], param.detach()), name
    late = MethodSpec("magnitude", "iterative", "rewind", rewind_epoch=1)
    run = train_dense(spec, data, 3, 5, CPU)
    pruned = run_pruning(spec, late, 0.5, data, 3, 5, CPU, dense=(run.model, run.state))
    assert achieved_sparsity(prunable_parameters(pruned.model).values()) == pytest.approx(
        0.5, abs=0.001)


@pytest.mark.parametrize("family", ["bert", "bilstm"])
def test_pruned_weights_are_zero_after_every_optimiser_step(family, tiny_bert_spec,
                                                             bilstm_spec, tweets):
    from pieflow.masks import full_masks, next_masks
    from pieflow.train.loop import TrainState, make_optimizer, train_epochs

    spec = spec_of(family, tiny_bert_spec, bilstm_spec)
    data = encoded(spec, tweets.splits["train"])
    model = build_model(spec, 3, 0)
    params = prunable_parameters(model)
    masks = next_masks({n: p.detach().abs() for n, p in params.items()}, full_masks(params),
                       0.7)
    checked = []

    def all_pruned_zero(step):
        checked.append(all((params[n][~m] == 0).all() for n, m in masks.items()))

    train_epochs(model, data, TrainState(make_optimizer(model, 1e-2)), seed=0, epochs=1,
                 batch_size=16, device=CPU, masks=masks, on_step=all_pruned_zero)
    assert len(checked) == 6 and all(checked)  # 96 examples / 16 per batch


def test_pruned_seed_shares_initialisation_and_data_order_with_dense(bilstm_spec, tweets):
    """At sparsity 0 an at-init method removes nothing, so seed i must end up bit-for-bit
    equal to dense seed i: same initial weights, same batches, same dropout."""
    spec = spec_of("bilstm", {}, bilstm_spec)
    data = encoded(spec, tweets.splits["train"])
    dense = dict(train_dense(spec, data, 3, 6, CPU).model.named_parameters())
    pruned = run_pruning(spec, BUILTIN_METHODS["mp-ai"], 0.0, data, 3, 6, CPU)
    for name, param in pruned.model.named_parameters():
        assert torch.equal(param, dense[name]), name
