"""Weight quantization: the grid's exact scale, the round-trip bound, zeros kept, and
GPTQ's fidelity against round-to-nearest."""

from __future__ import annotations

import pytest
import torch

from pieflow.prune.quantize import (
    QuantizeSpec,
    fake_quantize,
    gptq_quantize,
    grid_params,
    rtn_quantize,
)


def weights(rows=24, cols=96, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(rows, cols, generator=gen) * torch.rand(rows, 1, generator=gen) * 3


def correlated_hessian(features, seed=0, tokens=1024):
    gen = torch.Generator().manual_seed(seed)
    latent = torch.randn(tokens, features // 4, generator=gen)
    x = latent @ torch.randn(features // 4, features, generator=gen)
    x = x + 0.3 * torch.randn(tokens, features, generator=gen)
    return x.T @ x / tokens


def error(before, after, hessian):
    diff = (before - after).double()
    return float(torch.einsum("ij,jk,ik->", diff, hessian.double(), diff))


def test_int8_per_channel_scale_is_max_abs_over_127_exactly():
    w = weights()
    scale, zero = grid_params(w, 8, symmetric=True)
    assert torch.equal(scale[:, 0], w.abs().amax(dim=1) / 127)
    assert (zero == 0).all()
    out = rtn_quantize(w, QuantizeSpec(8))
    levels = out / scale
    assert torch.allclose(levels, levels.round(), atol=1e-3)  # on the grid
    assert levels.abs().max() <= 127 + 1e-3


@pytest.mark.parametrize("spec", [QuantizeSpec(8), QuantizeSpec(8, symmetric=False),
                                  QuantizeSpec(4, 32), QuantizeSpec(4, 32, symmetric=False),
                                  QuantizeSpec(4, 40)])  # 96 = 2·40 + a group of 16
def test_rtn_error_is_within_half_a_step(spec):
    w = weights(seed=1)
    out = rtn_quantize(w, spec)
    group = spec.group_size or w.shape[1]
    for start in range(0, w.shape[1], group):
        piece = w[:, start:start + group]
        scale, _ = grid_params(piece, spec.bits, spec.symmetric)
        diff = (piece - out[:, start:start + group]).abs()
        assert (diff <= scale / 2 * (1 + 1e-5) + 1e-7).all()
        distinct = max(len(torch.unique(row)) for row in out[:, start:start + group])
        assert distinct <= 2**spec.bits


@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("scheme", ["rtn", "gptq"])
def test_pruned_zeros_stay_exactly_zero(symmetric, scheme):
    w = weights(seed=2)
    keep = torch.rand(w.shape, generator=torch.Generator().manual_seed(2)) > 0.6
    w = w * keep
    spec = QuantizeSpec(4, 32, scheme, symmetric)
    if scheme == "gptq":
        out = gptq_quantize(w, correlated_hessian(w.shape[1]), spec, keep)
    else:
        out = rtn_quantize(w, spec, keep)
    assert (out[~keep] == 0).all()
    # 0 is on every grid: fake-quantizing zeros gives exact zeros
    scale, zero = grid_params(w, 4, symmetric)
    assert (fake_quantize(torch.zeros_like(w), scale, zero, 4, symmetric) == 0).all()


@pytest.mark.parametrize("spec", [QuantizeSpec(4, 32, "gptq"), QuantizeSpec(8, None, "gptq"),
                                  QuantizeSpec(4, None, "gptq", symmetric=False)])
def test_gptq_reconstructs_better_than_rtn_on_correlated_inputs(spec):
    w = weights(32, 128, seed=3)
    hessian = correlated_hessian(128, 3)
    gptq = gptq_quantize(w, hessian, spec)
    rtn = rtn_quantize(w, spec)
    assert error(w, gptq, hessian) < error(w, rtn, hessian)


def test_gptq_with_an_identity_hessian_is_rtn():
    """No correlation between inputs: nothing to compensate, so GPTQ rounds like RTN."""
    w = weights(seed=4)
    for spec in (QuantizeSpec(4, 32, "gptq"), QuantizeSpec(8, None, "gptq")):
        assert torch.allclose(gptq_quantize(w, torch.eye(w.shape[1]), spec),
                              rtn_quantize(w, spec), atol=1e-6)


def test_study_layernorm_gains_quantize_as_one_row():
    gain = torch.linspace(0.5, 1.5, 64)
    out = rtn_quantize(gain, QuantizeSpec(8))
    assert out.shape == gain.shape
    assert (out - gain).abs().max() <= 1.5 / 127 / 2 + 1e-7


def test_quantize_spec_refuses_bad_values():
    for kwargs, message in [({"bits": 3}, "bits"), ({"bits": 8, "group_size": 0}, "group"),
                            ({"bits": 8, "scheme": "awq"}, "scheme"),
                            ({"bits": 8, "symmetric": "yes"}, "symmetric")]:
        with pytest.raises(ValueError, match=message):
            QuantizeSpec(**kwargs)


def test_int8_quant_only_on_a_bilstm_keeps_all_weights(bilstm_spec, tweets):
    from conftest import encoded

    from pieflow.masks import prunable_parameters
    from pieflow.prune.methods import BUILTIN_METHODS
    from pieflow.prune.schedules import run_pruning
    from pieflow.train.dense import train_dense

    cpu = torch.device("cpu")
    spec = dict(bilstm_spec, epochs=1)
    data = encoded(spec, tweets.splits["train"])
    run = train_dense(spec, data, 3, 0, cpu)
    dense = {n: p.detach().clone() for n, p in prunable_parameters(run.model).items()}
    quant = run_pruning(spec, BUILTIN_METHODS["int8"], 0.0, data, 3, 0, cpu,
                        dense=(run.model, run.state))
    assert all(m.all() for m in quant.masks.values())
    assert [r["step"] for r in quant.rounds] == ["quantize"]
    for name, param in prunable_parameters(quant.model).items():
        step = dense[name].abs().amax(dim=1, keepdim=True) / 127
        assert ((param - dense[name]).abs() <= step / 2 * (1 + 1e-5)).all(), name
    with pytest.raises(ValueError, match="Linear"):  # GPTQ reads Linear inputs
        run_pruning(spec, BUILTIN_METHODS["int4-g128-gptq"], 0.0, data, 3, 0, cpu,
                    dense=(quant.model, quant.state))


def test_quantization_follows_the_last_training_of_a_study_schedule(bilstm_spec, tweets):
    from conftest import encoded

    from pieflow.masks import prunable_parameters
    from pieflow.prune.methods import MethodSpec
    from pieflow.prune.schedules import run_pruning

    spec = dict(bilstm_spec, epochs=1)
    data = encoded(spec, tweets.splits["train"])
    method = MethodSpec("magnitude", "at_init", quantize={"bits": 4, "group_size": 16,
                                                          "symmetric": False})
    run = run_pruning(spec, method, 0.5, data, 3, 0, torch.device("cpu"))
    assert [(r["step"], r["epoch"]) for r in run.rounds] == [("prune", 0), ("quantize", 1)]
    for name, param in prunable_parameters(run.model).items():
        assert (param[~run.masks[name]] == 0).all(), name
        groups = param.reshape(param.shape[0], -1, 16)  # at most 16 levels per group
        assert max(len(torch.unique(g)) for g in groups.reshape(-1, 16)[:50]) <= 16
