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
