"""bf16 autocast: detection, the setting, and that it changes no answer that matters.

Run on the CPU under autocast whatever the hardware (correctness, not speed)."""

from __future__ import annotations

import polars as pl
import pytest
import torch
from conftest import encoded

from pieflow import precision
from pieflow.masks import full_masks, next_masks, prunable_parameters
from pieflow.models.classifiers import build_model, trainable_state
from pieflow.predict.inference import predict_logits
from pieflow.train.dense import train_dense
from pieflow.train.loop import TrainState, make_optimizer, train_epochs

CPU = torch.device("cpu")


@pytest.fixture
def bf16():
    """The process-wide precision set to bf16 for one test, then back to fp32."""
    precision.use("bf16")
    yield
    precision.use("fp32")


def test_auto_means_bf16_only_where_the_hardware_has_it(monkeypatch):
    assert precision.cpu_runs_bf16_fast(frozenset({"avx512_bf16", "amx_tile", "amx_bf16"}))
    # measured slower than fp32 without AMX (see pieflow.precision)
    assert not precision.cpu_runs_bf16_fast(frozenset({"avx512f", "avx512_bf16"}))
    assert not precision.cpu_runs_bf16_fast(frozenset({"avx2", "avx512f", "fma"}))
    assert not precision.cpu_runs_bf16_fast(frozenset())
    monkeypatch.setattr(precision, "cpu_runs_bf16_fast", lambda: False)
    assert precision.resolve(CPU, "auto") == "fp32"
    monkeypatch.setattr(precision, "cpu_runs_bf16_fast", lambda: True)
    assert precision.resolve(CPU, "auto") == "bf16"
    assert precision.resolve(CPU, "fp32") == "fp32"  # an explicit setting always wins
    assert precision.resolve("meta", "auto") == "fp32"  # neither CPU nor CUDA


def test_auto_leaves_the_bilstm_in_fp32_where_bf16_is_fast(monkeypatch, bilstm_spec,
                                                           tiny_bert_spec):
    """The BiLSTM ran slower under bf16 autocast even with AMX: auto keeps it fp32; an
    explicit bf16 still applies to it, and auto still autocasts an encoder."""
    monkeypatch.setattr(precision, "cpu_runs_bf16_fast", lambda: True)
    bilstm = build_model(bilstm_spec, 3, 0)
    encoder = build_model(tiny_bert_spec, 3, 0)
    assert precision.resolve(CPU, "auto", bilstm) == "fp32"
    assert precision.resolve(CPU, "bf16", bilstm) == "bf16"
    assert precision.resolve(CPU, "auto", encoder) == "bf16"
    assert precision.resolve(CPU, "auto") == "bf16"  # no model named: the hardware decides
    precision.use("auto")
    try:
        with precision.autocast(CPU, model=bilstm):
            assert not torch.is_autocast_enabled("cpu")
        with precision.autocast(CPU, model=encoder):
            assert torch.is_autocast_enabled("cpu")
    finally:
        precision.use("fp32")


def test_the_setting_comes_from_the_job_else_the_environment(monkeypatch):
    monkeypatch.setenv(precision.ENV_VAR, "BF16")
    try:
        assert precision.use(None) == "bf16"
        assert precision.use("fp32") == "fp32"
        monkeypatch.delenv(precision.ENV_VAR)
        assert precision.use(None) == "auto"
        with pytest.raises(precision.PrecisionError, match="auto, bf16, fp32"):
            precision.use("fp16")
    finally:
        precision.use("fp32")


def test_autocast_reaches_the_forward_passes_of_training_and_prediction(
    tiny_bert_spec, tweets, bf16
):
    spec = dict(tiny_bert_spec, epochs=1)
    data = encoded(spec, tweets.splits["train"].head(32))
    model = build_model(spec, 3, 0)
    seen = []
    head = model.encoder.classifier
    head.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
    state = TrainState(make_optimizer(model, 1e-3))
    train_epochs(model, data, state, seed=0, epochs=1, batch_size=16, device=CPU)
    logits = predict_logits(model, data, 16, CPU)
    assert seen and set(seen) == {torch.bfloat16}
    assert logits.dtype == torch.float32  # read back in float32
    assert all(p.dtype == torch.float32 for p in model.parameters())  # weights stay fp32
    moments = [v for s in state.optimizer.state.values() for v in s.values() if v.dim()]
    assert moments and all(m.dtype == torch.float32 for m in moments)
    assert all(isinstance(row["train_loss"], float) for row in state.history)


@pytest.mark.parametrize("family", ["bert", "bilstm"])
def test_bf16_and_fp32_predictions_agree_on_99_percent(family, tiny_bert_spec, bilstm_spec,
                                                        tweets):
    spec = dict(tiny_bert_spec if family == "bert" else bilstm_spec, epochs=2)
    model = train_dense(spec, encoded(spec, tweets.splits["train"]), 3, 0, CPU).model
    data = encoded(spec, pl.concat([tweets.splits[s] for s in ("train", "validation",
                                                                "test")]))
    fp32 = predict_logits(model, data, 64, CPU)
    precision.use("bf16")
    try:
        bf16 = predict_logits(model, data, 64, CPU)
    finally:
        precision.use("fp32")
    assert not torch.equal(fp32, bf16)  # autocast did something
    agree = (fp32.argmax(dim=1) == bf16.argmax(dim=1)).float().mean().item()
    assert agree >= 0.99, f"{family}: bf16 and fp32 agree on {agree:.1%} of {len(data)}"


def test_masks_stay_exact_zeros_and_resuming_is_exact_under_bf16(bilstm_spec, tweets, bf16):
    spec = dict(bilstm_spec, epochs=1)
    data = encoded(spec, tweets.splits["train"])
    straight = build_model(spec, 3, 4)
    params = prunable_parameters(straight)
    masks = next_masks({n: p.detach().abs() for n, p in params.items()}, full_masks(params),
                       0.9)
    state = TrainState(make_optimizer(straight, spec["lr"]))
    train_epochs(straight, data, state, seed=4, epochs=2, batch_size=16, device=CPU,
                 masks=masks)
    for name, mask in masks.items():
        assert bool((params[name].detach()[~mask] == 0).all()), name

    resumed = build_model(spec, 3, 4)
    resumed_state = TrainState(make_optimizer(resumed, spec["lr"]))
    train_epochs(resumed, data, resumed_state, seed=4, epochs=1, batch_size=16, device=CPU,
                 masks=masks)
    train_epochs(resumed, data, resumed_state, seed=4, epochs=1, batch_size=16, device=CPU,
                 masks=masks)
    expected, got = trainable_state(straight), trainable_state(resumed)
    assert all(torch.equal(expected[k], got[k]) for k in expected)
