"""Length-bucketed training batches, the per-example minibatch record, and a training
loop that reads nothing back from the device per step."""

from __future__ import annotations

import torch
from conftest import encoded

from pieflow.models.classifiers import build_model
from pieflow.models.encoding import bucketed_batches, padded_tokens
from pieflow.seeding import generator
from pieflow.train.loop import TrainState, make_optimizer, train_epochs

CPU = torch.device("cpu")


def _lengths(n: int = 1000) -> torch.Tensor:
    return torch.randint(3, 60, (n,), generator=torch.Generator().manual_seed(0))


def test_every_example_is_in_exactly_one_batch_and_only_the_last_is_short():
    lengths = _lengths(1001)
    batches = bucketed_batches(lengths, 32, generator(0, "order", 0), window=5)
    assert sorted(torch.cat(batches).tolist()) == list(range(1001))
    sizes = sorted(len(b) for b in batches)
    assert sizes[0] == 1001 % 32 and all(s == 32 for s in sizes[1:])


def test_batches_are_deterministic_per_generator_and_differ_across_epochs():
    lengths = _lengths()
    first = bucketed_batches(lengths, 32, generator(3, "order", 0))
    again = bucketed_batches(lengths, 32, generator(3, "order", 0))
    other = bucketed_batches(lengths, 32, generator(3, "order", 1))
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(first, other, strict=True))


def test_bucketing_pads_less_than_random_batches(tweets, bilstm_spec):
    data = encoded(bilstm_spec, tweets.splits["train"])
    lengths = data.lengths()
    random = list(torch.randperm(len(data), generator=generator(0, "x")).split(16))
    bucketed = bucketed_batches(lengths, 16, generator(0, "order", 0))
    assert padded_tokens(lengths, bucketed) < padded_tokens(lengths, random)
    assert padded_tokens(lengths, bucketed) >= int(lengths.sum())


def test_batches_within_a_window_are_sorted_by_length():
    lengths = _lengths(640)
    batches = bucketed_batches(lengths, 32, generator(1, "order", 0), window=20)  # 1 window
    maxima = sorted(int(lengths[b].max()) for b in batches)
    minima = sorted(int(lengths[b].min()) for b in batches)
    # sorted windows: batch i's longest is at most batch i+1's shortest
    assert all(hi <= lo for hi, lo in zip(maxima[:-1], minima[1:], strict=True))


def test_minibatch_correctness_belongs_to_its_example(bilstm_spec, tweets):
    """With a learning rate of 0 the BiLSTM (no dropout) never changes, so each example's
    minibatch correctness must equal the frozen model's answer on that very example."""
    from pieflow.predict.inference import predict_logits

    spec = dict(bilstm_spec, epochs=1)
    data = encoded(spec, tweets.splits["train"])
    model = build_model(spec, 3, 0)
    state = TrainState(make_optimizer(model, 0.0), track_learning=True)
    train_epochs(model, data, state, seed=0, epochs=1, batch_size=16, device=CPU)
    expected = predict_logits(model, data, 64, CPU).argmax(dim=1) == data.labels
    assert torch.equal(state.learned[0], expected)
    assert 0 < int(expected.sum()) < len(data)  # a real check, not all right or all wrong


def test_training_reads_the_loss_back_per_logging_interval_not_per_step(
    tiny_bert_spec, tweets, monkeypatch
):
    """``float(loss)`` or ``.item()`` each step would make a GPU wait every step."""
    spec = dict(tiny_bert_spec, epochs=1)
    data = encoded(spec, tweets.splits["train"])  # 96 examples: 24 steps of 4
    model = build_model(spec, 3, 0)
    state = TrainState(make_optimizer(model, 1e-3))
    reads, in_adam = [], [False]
    for name in ("__float__", "item", "tolist"):
        original = getattr(torch.Tensor, name)

        def spy(self, *args, _original=original, **kwargs):
            if not in_adam[0] and self.dtype.is_floating_point:  # not Adam's host-side step
                reads.append(self.shape)                        # count, nor batch indices
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, spy)
    adam_step = state.optimizer.step

    def step(*args, **kwargs):
        in_adam[0] = True
        try:
            return adam_step(*args, **kwargs)
        finally:
            in_adam[0] = False

    monkeypatch.setattr(state.optimizer, "step", step)
    train_epochs(model, data, state, seed=0, epochs=1, batch_size=4, device=CPU)
    assert state.steps_done == 24
    assert 1 <= len(reads) <= 12  # ~10 progress lines and the epoch's mean
