import polars as pl
import pytest
import torch
from conftest import encoded

from pieflow import io
from pieflow.models.classifiers import build_model, load_trainable_state, trainable_state
from pieflow.train.dense import train_dense
from pieflow.train.loop import (
    TrainState,
    load_optimizer_tensors,
    make_optimizer,
    optimizer_tensors,
    train_epochs,
)

CPU = torch.device("cpu")


@pytest.mark.parametrize("family", ["bert", "bilstm"])
def test_initialisation_is_reproducible_per_seed(family, tiny_bert_spec, bilstm_spec):
    spec = tiny_bert_spec if family == "bert" else bilstm_spec
    a, b, c = (trainable_state(build_model(spec, 3, seed)) for seed in (0, 0, 1))
    assert all(torch.equal(a[k], b[k]) for k in a)
    head = [k for k in a if "head" in k or "classifier" in k]
    assert head and any(not torch.equal(a[k], c[k]) for k in head)


@pytest.mark.parametrize("family", ["bert", "bilstm"])
def test_resuming_from_a_checkpoint_equals_training_straight_through(
    family, tiny_bert_spec, bilstm_spec, tweets, tmp_path
):
    """What lets iterative pruning continue from the dense seed instead of retraining."""
    spec = dict(tiny_bert_spec if family == "bert" else bilstm_spec, epochs=1)
    data = encoded(spec, tweets.splits["train"])
    straight = build_model(spec, 3, seed=4)
    state = TrainState(make_optimizer(straight, spec["lr"]))
    train_epochs(straight, data, state, seed=4, epochs=2, batch_size=16, device=CPU)

    first = train_dense(spec, data, 3, 4, CPU)
    io.save_tensors(trainable_state(first.model), tmp_path / "m.safetensors")
    io.save_tensors(optimizer_tensors(first.state.optimizer, first.model),
                    tmp_path / "o.safetensors")
    resumed = build_model(spec, 3, seed=4)
    load_trainable_state(resumed, io.load_tensors(tmp_path / "m.safetensors"))
    resumed_state = TrainState(make_optimizer(resumed, spec["lr"]), epochs_done=1)
    load_optimizer_tensors(resumed_state.optimizer, resumed,
                           io.load_tensors(tmp_path / "o.safetensors"))
    train_epochs(resumed, data, resumed_state, seed=4, epochs=1, batch_size=16, device=CPU)

    expected, got = trainable_state(straight), trainable_state(resumed)
    assert all(torch.equal(expected[k], got[k]) for k in expected)


def test_training_lowers_the_loss(bilstm_spec, tweets):
    spec = dict(bilstm_spec, epochs=3)
    run = train_dense(spec, encoded(spec, tweets.splits["train"]), 3, 0, CPU)
    losses = [row["train_loss"] for row in run.state.history]
    assert losses[-1] < losses[0]
    assert run.early_state  # the EL2N checkpoint was taken


def test_pruned_weights_get_no_gradient_before_clipping(bilstm_spec, tweets, monkeypatch):
    """Clipping sees only the gradients of weights that remain (as the study's hooks did):
    with a mask, the norm clipped is that of the unpruned weights' gradients."""
    from conftest import encoded

    from pieflow.masks import full_masks, next_masks, prunable_parameters
    from pieflow.train import loop

    spec = dict(bilstm_spec, epochs=1)
    data = encoded(spec, tweets.splits["train"].head(16))
    model = build_model(spec, 3, 0)
    params = prunable_parameters(model)
    masks = next_masks({n: p.detach().abs() for n, p in params.items()}, full_masks(params), 0.5)
    seen = []
    clip = torch.nn.utils.clip_grad_norm_

    def spy(parameters, max_norm):
        parameters = list(parameters)
        named = {id(p): n for n, p in model.named_parameters()}
        for p in parameters:
            name = named[id(p)]
            if name in masks:
                seen.append(bool((p.grad[~masks[name]] == 0).all()))
        return clip(parameters, max_norm)

    monkeypatch.setattr(loop.nn.utils, "clip_grad_norm_", spy)
    loop.train_epochs(model, data, loop.TrainState(loop.make_optimizer(model, 1e-3)), seed=0,
                      epochs=1, batch_size=8, device=torch.device("cpu"), masks=masks)
    assert seen and all(seen)


def test_the_control_is_the_dense_seed_trained_as_long_as_an_iterative_method(
    bilstm_spec, tweets, tmp_path
):
    """Control seed = dense seed continued prunes·E epochs unpruned: bit-for-bit the same
    model as training (prunes + 1)·E epochs straight through, and its history says so."""
    from pieflow.train.job import train_control_job, train_dense_job

    spec = dict(bilstm_spec, epochs=1, batch_size=16)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    tweets.splits["train"].write_parquet(data_dir / "train.parquet")
    io.write_json(["negative", "neutral", "positive"], data_dir / "classes.json")
    io.write_json({"label_kind": "single"}, data_dir / "meta.json")
    inputs = [str(data_dir / f) for f in ("train.parquet", "classes.json", "meta.json")]
    dense = {name: str(tmp_path / "dense" / f"{name}.{ext}") for name, ext in
             [("model", "safetensors"), ("early", "safetensors"), ("optimizer", "safetensors"),
              ("history", "parquet"), ("learning", "parquet")]}
    train_dense_job(spec, 3, *inputs, dense)
    control = {"model": str(tmp_path / "control.safetensors"),
               "history": str(tmp_path / "control_history.parquet")}
    train_control_job(spec, 2, 3, *inputs, dense, control)

    straight = train_dense(dict(spec, epochs=3), encoded(spec, tweets.splits["train"]), 3, 3,
                           CPU)
    expected, got = trainable_state(straight.model), io.load_tensors(control["model"])
    assert all(torch.equal(expected[k], got[k]) for k in expected)
    history = pl.read_parquet(control["history"])
    assert history["epoch"].to_list() == [1, 2, 3]
    assert history["seed"].unique().to_list() == [3]


def test_dense_and_control_histories_hold_the_validation_curve(bilstm_spec, tweets, tmp_path):
    """With a validation split, every dense and control epoch records its validation
    accuracy and loss (the training curve), and measuring them changes no weight."""
    from pieflow.train.job import train_control_job, train_dense_job

    spec = dict(bilstm_spec, epochs=2, batch_size=16)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for split in ("train", "validation"):
        tweets.splits[split].write_parquet(data_dir / f"{split}.parquet")
    io.write_json(["negative", "neutral", "positive"], data_dir / "classes.json")
    io.write_json({"label_kind": "single"}, data_dir / "meta.json")
    inputs = [str(data_dir / f) for f in ("train.parquet", "classes.json", "meta.json")]
    validation = str(data_dir / "validation.parquet")
    dense = {name: str(tmp_path / "dense" / f"{name}.{ext}") for name, ext in
             [("model", "safetensors"), ("early", "safetensors"), ("optimizer", "safetensors"),
              ("history", "parquet"), ("learning", "parquet")]}
    train_dense_job(spec, 1, *inputs, dense, validation_path=validation)
    control = {"model": str(tmp_path / "control.safetensors"),
               "history": str(tmp_path / "control_history.parquet")}
    train_control_job(spec, 1, 1, *inputs, dense, control, validation_path=validation)

    history = pl.read_parquet(control["history"])
    assert history["epoch"].to_list() == [1, 2, 3, 4]
    assert history["val_accuracy"].null_count() == 0
    assert history["val_accuracy"].is_between(0, 1).all()
    assert (history["val_loss"] > 0).all()
    assert pl.read_parquet(dense["history"])["val_accuracy"].len() == 2
    straight = train_dense(dict(spec, epochs=4), encoded(spec, tweets.splits["train"]), 3, 1,
                           CPU)
    expected, got = trainable_state(straight.model), io.load_tensors(control["model"])
    assert all(torch.equal(expected[k], got[k]) for k in expected)
