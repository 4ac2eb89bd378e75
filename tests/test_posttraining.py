"""Post-training pruning: exact counts and patterns, Wanda by hand, SparseGPT's fidelity,
calibration, the schedule's records, and what is refused."""

from __future__ import annotations

import copy

import pytest
import torch
from conftest import encoded
from torch import nn

from pieflow.masks import achieved_sparsity, full_masks, next_masks, prunable_parameters
from pieflow.patterns import NMPattern, parse_pattern
from pieflow.prune.calibration import Calibration, LayerInputs, calibrate, linear_modules
from pieflow.prune.methods import BUILTIN_METHODS, MethodSpec
from pieflow.prune.obs import obs_sweep, sparsegpt_prune
from pieflow.prune.posttraining import prune_trained
from pieflow.prune.schedules import run_pruning
from pieflow.seeding import derive_seed
from pieflow.train.dense import train_dense

CPU = torch.device("cpu")
POST_TRAINING = [name for name, spec in BUILTIN_METHODS.items()
                 if spec.schedule == "post_training"]


def correlated_inputs(tokens: int, features: int, seed: int = 0) -> torch.Tensor:
    """Inputs with correlated features and uneven scales, like real activations."""
    gen = torch.Generator().manual_seed(seed)
    latent = torch.randn(tokens, features // 4, generator=gen)
    mix = torch.randn(features // 4, features, generator=gen)
    scales = torch.rand(features, generator=gen) * 3 + 0.1
    return (latent @ mix + 0.3 * torch.randn(tokens, features, generator=gen)) * scales


def stats_of(inputs: dict[str, torch.Tensor]) -> Calibration:
    return Calibration(seed=0, example_ids=[], inputs={
        name: LayerInputs(sq_norms=x.square().sum(0), hessian=x.T @ x / len(x),
                          tokens=len(x)) for name, x in inputs.items()})


class Stack(nn.Module):
    """Random Linear layers (the exactness tests need no tokenizer)."""

    def __init__(self, sizes=((48, 64), (40, 48)), seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.layers = nn.ModuleList(nn.Linear(i, o) for o, i in sizes)


def stack_and_stats(seed=0):
    model = Stack(seed=seed)
    params = prunable_parameters(model)
    calib = stats_of({n: correlated_inputs(512, p.shape[1], seed) for n, p in params.items()})
    return model, params, calib


def reconstruction_error(before, after, hessian):
    """‖(W − Ŵ) Xᵀ‖² / tokens = tr((W − Ŵ) H (W − Ŵ)ᵀ)."""
    diff = (before - after).detach().double()
    return float(torch.einsum("ij,jk,ik->", diff, hessian.double(), diff))


@pytest.mark.parametrize("score", ["magnitude", "wanda", "sparsegpt"])
@pytest.mark.parametrize("pattern", ["2:4", "4:8", "1:4"])
def test_nm_pattern_is_exact_in_every_group(score, pattern):
    model, params, calib = stack_and_stats()
    nm = parse_pattern(pattern)
    method = MethodSpec(score, "post_training", pattern=pattern)
    masks = prune_trained(model, params, method, nm.sparsity, None, 0, CPU, calib)
    for name, param in params.items():
        kept = (param != 0).reshape(param.shape[0], -1, nm.m).sum(-1)
        assert (kept == nm.n).all(), name
        assert torch.equal(masks[name], param != 0)


@pytest.mark.parametrize("score", ["magnitude", "sparsegpt"])
@pytest.mark.parametrize("target", [0.2, 0.5, 0.9])
def test_unstructured_counts_are_exact_per_tensor(score, target):
    model, params, calib = stack_and_stats(1)
    masks = prune_trained(model, params, MethodSpec(score, "post_training"), target, None,
                          0, CPU, calib)
    for name, param in params.items():
        assert int((param == 0).sum()) == round(target * param.numel()), name
        assert int((~masks[name]).sum()) == round(target * param.numel())


def test_wanda_prunes_the_same_share_of_every_row():
    model, params, calib = stack_and_stats(2)
    prune_trained(model, params, MethodSpec("wanda", "post_training"), 0.3, None, 0, CPU,
                  calib)
    for param in params.values():
        assert ((param == 0).sum(1) == round(0.3 * param.shape[1])).all()


def test_wanda_matches_a_hand_computed_case():
    linear = nn.Linear(4, 2, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[1.0, -2.0, 3.0, -4.0], [0.5, 3.0, -2.0, 4.0]]))
    params = {"weight": linear.weight}
    # input norms ‖X_j‖ = 4, 1, 2, 0.25 → scores row 0: 4, 2, 6, 1; row 1: 2, 3, 4, 1
    calib = Calibration(0, [], {"weight": LayerInputs(
        sq_norms=torch.tensor([16.0, 1.0, 4.0, 0.0625]), hessian=None)})
    masks = prune_trained(linear, params, MethodSpec("wanda", "post_training"), 0.5, None,
                          0, CPU, calib)
    assert masks["weight"].tolist() == [[True, False, True, False], [False, True, True, False]]
    assert linear.weight.tolist() == [[1.0, 0.0, 3.0, 0.0], [0.0, 3.0, -2.0, 0.0]]
    # plain magnitude would have kept columns 2, 3 of row 0: the inputs changed the choice


@pytest.mark.parametrize("pattern", [None, NMPattern(2, 4)])
def test_sparsegpt_reconstructs_better_than_magnitude(pattern):
    gen = torch.Generator().manual_seed(3)
    weight = torch.randn(64, 128, generator=gen)
    hessian = stats_of({"w": correlated_inputs(1024, 128, 3)}).inputs["w"].hessian
    pruned, keep = sparsegpt_prune(weight, hessian, 0.5, pattern)
    magnitude = next_masks({"w": weight.abs()}, full_masks({"w": weight}), 0.5,
                           pattern=str(pattern) if pattern else "unstructured")["w"]
    assert int((~keep).sum()) == int((~magnitude).sum()) == 64 * 64
    assert (reconstruction_error(weight, pruned, hessian)
            < 0.8 * reconstruction_error(weight, weight * magnitude, hessian))


def test_sparsegpt_beats_magnitude_on_real_calibration_activations(tiny_bert_spec, tweets):
    from pieflow.models.classifiers import build_model

    data = encoded(tiny_bert_spec, tweets.splits["train"])
    model = build_model(tiny_bert_spec, 3, 0)
    params = prunable_parameters(model)
    calib = calibrate(model, params, data, 64, 0, CPU, hessians=True)
    better = 0
    for name, param in params.items():
        hessian = calib.inputs[name].hessian
        pruned, _ = sparsegpt_prune(param, hessian, 0.5)
        magnitude = next_masks({name: param.abs()}, full_masks({name: param}), 0.5)[name]
        better += (reconstruction_error(param, pruned, hessian)
                   < reconstruction_error(param, param * magnitude, hessian))
    assert better == len(params)


def test_the_obs_update_is_the_least_squares_optimum_for_a_fixed_mask():
    """Pruned columns first, kept after: sequential OBS equals the closed-form optimum
    ŵ_K = w_K + w_P H_PK H_KK⁻¹ (no damping)."""
    gen = torch.Generator().manual_seed(4)
    weight = torch.randn(5, 8, generator=gen, dtype=torch.float64)
    x = correlated_inputs(256, 8, 4).double()
    hessian = x.T @ x / len(x)
    keep = torch.tensor([False, False, False, True, True, True, True, True]).expand(5, 8)
    new, _ = obs_sweep(weight, hessian, keep=keep, damp=0.0)
    pruned, kept = slice(0, 3), slice(3, 8)
    optimum = weight[:, kept] + weight[:, pruned] @ hessian[pruned, kept] @ torch.linalg.inv(
        hessian[kept, kept])
    assert (new[:, pruned] == 0).all()
    assert torch.allclose(new[:, kept], optimum, atol=1e-4)


def test_nothing_to_prune_leaves_weights_unchanged():
    gen = torch.Generator().manual_seed(5)
    weight = torch.randn(6, 16, generator=gen)
    new, keep = obs_sweep(weight, torch.eye(16))
    assert keep.all() and torch.equal(new, weight)


@pytest.fixture(scope="module")
def dense_bert(tiny_bert_spec, tweets):
    data = encoded(tiny_bert_spec, tweets.splits["train"])
    run = train_dense(tiny_bert_spec, data, 3, 0, CPU)
    return data, (run.model, run.state)


def fresh(dense):
    return copy.deepcopy(dense)  # model and its optimiser together


@pytest.mark.parametrize("method", POST_TRAINING)
def test_every_post_training_builtin_runs_on_bert(method, tiny_bert_spec, dense_bert):
    data, dense = dense_bert
    spec = BUILTIN_METHODS[method]
    target = (spec.fixed_sparsity if spec.fixed_sparsity is not None else 75) / 100
    run = run_pruning(tiny_bert_spec, spec, target, data, 3, 0, CPU, dense=fresh(dense))
    params = prunable_parameters(run.model)
    for name, mask in run.masks.items():
        assert (params[name][~mask] == 0).all()
    masked = sum(int((~m).sum()) for m in run.masks.values())
    assert masked / sum(m.numel() for m in run.masks.values()) == pytest.approx(target,
                                                                                abs=0.005)
    assert run.state.epochs_done == tiny_bert_spec["epochs"]  # no retraining
    if spec.quantize is not None:
        assert run.rounds[-1]["step"] == "quantize"
        assert run.rounds[-1]["bits"] == spec.quantize.bits


def test_the_rounds_record_pattern_quantization_and_calibration(tiny_bert_spec, dense_bert):
    from pieflow.prune.job import rounds_frame

    data, dense = dense_bert
    method = MethodSpec("wanda", "post_training", pattern="2:4", calibration_examples=20,
                        quantize={"bits": 4, "group_size": 16, "scheme": "gptq"})
    run = run_pruning(tiny_bert_spec, method, 0.5, data, 3, 4, CPU, dense=fresh(dense))
    prune, quant = run.rounds
    assert (prune["step"], prune["pattern"], prune["bits"]) == ("prune", "2:4", None)
    assert prune["calibration_seed"] == derive_seed(4, "calibration")
    assert len(prune["calibration_example_ids"]) == 20
    assert set(prune["calibration_example_ids"]) <= set(data.example_ids.tolist())
    assert (quant["bits"], quant["group_size"], quant["scheme"]) == (4, 16, "gptq")
    assert quant["calibration_example_ids"] == prune["calibration_example_ids"]
    frame = rounds_frame(run.rounds, 4)
    assert frame.height == 2 and frame["seed"].to_list() == [4, 4]
    # 2:4 survives quantization: every group of four still has at most two nonzeros
    for param in prunable_parameters(run.model).values():
        assert ((param != 0).reshape(param.shape[0], -1, 4).sum(-1) <= 2).all()


def test_recovery_epochs_keep_the_zeros(tiny_bert_spec, dense_bert):
    data, dense = dense_bert
    method = MethodSpec("magnitude", "post_training", recover_epochs=1)
    before = {n: p.detach().clone() for n, p in dense[0].named_parameters()}
    run = run_pruning(tiny_bert_spec, method, 0.7, data, 3, 0, CPU, dense=fresh(dense))
    params = prunable_parameters(run.model)
    assert run.state.epochs_done == tiny_bert_spec["epochs"] + 1
    assert achieved_sparsity(params.values()) == pytest.approx(0.7, abs=0.001)
    for name, mask in run.masks.items():
        assert (params[name][~mask] == 0).all()
        assert not torch.equal(params[name][mask], before[name][mask])  # it did train


def test_calibration_counts_only_real_tokens_in_one_pass(tiny_bert_spec, tweets):
    from pieflow.models.classifiers import build_model

    data = encoded(tiny_bert_spec, tweets.splits["train"])
    model = build_model(tiny_bert_spec, 3, 0)
    params = prunable_parameters(model)
    calib = calibrate(model, params, data, 10, 9, CPU, hessians=True)
    positions = torch.randperm(len(data), generator=torch.Generator().manual_seed(
        derive_seed(9, "calibration")))[:10]
    tokens = sum(len(data.input_ids[i]) for i in positions.tolist())
    for name, layer in calib.inputs.items():
        # the pooler reads the first token of each text only
        assert layer.tokens == (10 if "pooler" in name else tokens), name
        assert torch.allclose(layer.hessian.diagonal() * layer.tokens, layer.sq_norms,
                              rtol=1e-4)
    assert calib.example_ids == data.example_ids[positions].tolist()
    assert not any(m._forward_pre_hooks for m in model.modules())  # hooks removed


@pytest.mark.parametrize("score", ["wanda", "sparsegpt"])
def test_activation_methods_refuse_a_bilstm(score, bilstm_spec, tweets):
    spec = dict(bilstm_spec, epochs=1)
    data = encoded(spec, tweets.splits["train"])
    run = train_dense(spec, data, 3, 0, CPU)
    with pytest.raises(ValueError, match="LSTM weights and LayerNorm gains"):
        run_pruning(spec, MethodSpec(score, "post_training"), 0.5, data, 3, 0, CPU,
                    dense=(run.model, run.state))
    magnitude = run_pruning(spec, BUILTIN_METHODS["mag-pt-2of4"], 0.5, data, 3, 0, CPU,
                            dense=(run.model, run.state))
    assert achieved_sparsity(prunable_parameters(magnitude.model).values()) >= 0.5


def test_study_scores_take_a_pattern(bilstm_spec, tweets):
    spec = dict(bilstm_spec, epochs=1)
    data = encoded(spec, tweets.splits["train"])
    run = train_dense(spec, data, 3, 0, CPU)
    for method, dense in [(MethodSpec("random", "iterative", pattern="2:4"),
                           (run.model, run.state)),
                          (MethodSpec("impact", "at_init", pattern="2:4"), None)]:
        pruned = run_pruning(spec, method, 0.5, data, 3, 0, CPU, dense=dense)
        for name, param in prunable_parameters(pruned.model).items():
            assert ((param != 0).reshape(param.shape[0], -1, 4).sum(-1) <= 2).all(), name
            assert (pruned.masks[name].reshape(param.shape[0], -1, 4).sum(-1) == 2).all()


def test_method_specs_refuse_meaningless_combinations():
    bad = [
        ({"score": "magnitude", "schedule": "post_training", "after_prune": "rewind"},
         "rewind"),
        ({"score": "magnitude", "schedule": "post_training", "prunes": 3}, "prunes"),
        ({"score": "wanda", "schedule": "iterative"}, "post_training"),
        ({"score": "none", "schedule": "post_training"}, "compresses nothing"),
        ({"score": "magnitude", "schedule": "at_init", "recover_epochs": 1}, "recover"),
        ({"score": "magnitude", "schedule": "at_init", "pattern": "2:4", "scope": "global"},
         "scope 'layer'"),
        ({"score": "magnitude", "schedule": "post_training", "pattern": "2-4"}, "N:M"),
        ({"score": "magnitude", "schedule": "post_training", "quantize": {"bits": 3}},
         "bits"),
        ({"score": "magnitude", "schedule": "post_training", "quantize": {"bit": 8}},
         "quantize"),
    ]
    for definition, message in bad:
        with pytest.raises(ValueError, match=message):
            MethodSpec(**definition)
    with pytest.raises(ValueError, match="prunes exactly 50 %"):
        BUILTIN_METHODS["wanda-2of4"].check_sparsity(0.7)
    with pytest.raises(ValueError, match="prunes nothing"):
        BUILTIN_METHODS["int8"].check_sparsity(0.5)


def test_builtins_round_trip_as_plain_params_and_stay_hashable():
    for name, spec in BUILTIN_METHODS.items():
        params = spec.as_params()
        assert all(isinstance(v, (str, int, bool, dict, type(None))) for v in params.values())
        assert MethodSpec(**params) == spec, name
        assert hash(MethodSpec(**params)) == hash(spec)
    assert linear_modules(Stack(), prunable_parameters(Stack()))
