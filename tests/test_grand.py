"""GraNd against an independent reference: one forward and one backward pass per example,
each example alone and unpadded, written with plain torch (no pieflow forward helpers)."""

from __future__ import annotations

import polars as pl
import pytest
import torch
from conftest import encoded
from torch.nn import functional as F  # noqa: N812

from pieflow import io
from pieflow.influence.grand import grand_scores, norm_parameters
from pieflow.influence.job import influence_job
from pieflow.models.classifiers import build_model, trainable_state

CPU = torch.device("cpu")

# The parameters GraNd leaves out of the norm: the token embeddings (frozen for the
# BiLSTM, so no gradient anyway; trainable for BERT, where they would dominate the cost).
LEFT_OUT = {"bert": {"encoder.bert.embeddings.word_embeddings.weight"},
            "bilstm": {"embedding.weight"}}


def reference_norms(model: torch.nn.Module, data, left_out: set[str]) -> torch.Tensor:
    """‖∂L_i/∂θ‖₂ per example: example i alone at its own length (attention mask all
    ones, no padding anywhere), cross-entropy with its label, ``torch.autograd.grad``
    over every trainable parameter but ``left_out``, the square root of the summed
    squares. Dropout off, as GraNd scores a fixed model."""
    model.eval()
    names = [n for n, p in model.named_parameters() if p.requires_grad and n not in left_out]
    params = [dict(model.named_parameters())[n] for n in names]
    norms = []
    for ids, types, label in zip(data.input_ids, data.token_type_ids, data.labels,
                                 strict=True):
        logits = model(ids[None], torch.ones_like(ids)[None], types[None])
        loss = F.cross_entropy(logits, label[None])
        grads = torch.autograd.grad(loss, params)  # every parameter must get a gradient
        norms.append(torch.sqrt(sum(g.pow(2).sum() for g in grads)))
    return torch.stack(norms).detach()


def input_sensitive(model: torch.nn.Module) -> torch.nn.Module:
    """Add seeded N(0, 0.2²) noise to every trainable weight. At its random
    initialisation (std 0.02) the tiny BERT's gradient norm hardly depends on the text
    (the 12 norms differ by under 0.01 %, within any tolerance), so the comparison could
    not catch a masking bug; with the noise they differ by tens of percent."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(0.2 * torch.randn(param.shape, generator=generator))
    return model


@pytest.mark.parametrize("family", ["bert", "bilstm"])
def test_grand_matches_a_per_example_backward_loop(family, tiny_bert_spec, bilstm_spec,
                                                   tweets, caplog):
    spec = tiny_bert_spec if family == "bert" else bilstm_spec
    model = input_sensitive(build_model(spec, 3, seed=0))
    data = encoded(spec, tweets.splits["test"].head(12))
    # Batches of 5 (5, 5, 2) each mix texts of different lengths: every batch is padded,
    # so a padding or masking bug in the batched path shows against the unpadded loop.
    lengths = data.lengths()
    assert all(int(part.min()) < int(part.max()) for part in lengths.split(5))

    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert set(norm_parameters(model)) == trainable - LEFT_OUT[family]

    scores = grand_scores(model, data, CPU, batch_size=5)
    reference = reference_norms(model, data, LEFT_OUT[family])
    assert scores.shape == (12,)
    assert (reference > 0).all()
    assert reference.std() / reference.mean() > 0.02  # the texts matter: it can tell
    assert torch.allclose(scores, reference, rtol=1e-4, atol=1e-6), (scores, reference)
    assert "vmap failed" not in caplog.text  # BERT really took the torch.func path


def test_influence_grand_is_the_mean_over_seeds_of_each_example_norm(bilstm_spec, tweets,
                                                                      tmp_path):
    """The influence stage's ``grand`` column: per example, the mean over the seeds'
    early checkpoints of that checkpoint's gradient norm."""
    spec = bilstm_spec
    frame = tweets.splits["test"].head(9)
    split_path = tmp_path / "test.parquet"
    frame.write_parquet(split_path)
    io.write_json(["a", "b", "c"], tmp_path / "classes.json")
    io.write_json({"label_kind": "single"}, tmp_path / "meta.json")
    pl.DataFrame({"seed": [0] * frame.height, "split": ["test"] * frame.height,
                  "example_id": frame["example_id"], "label": frame["label"],
                  "pred": frame["label"], "logits": [[0.0, 0.0, 0.0]] * frame.height,
                  "loss": [0.0] * frame.height}).write_parquet(tmp_path / "dense.parquet")
    seeds, checkpoints, models = [0, 1], [], []
    for seed in seeds:  # two different checkpoints: different initialisations
        model = build_model(spec, 3, seed=seed)
        path = tmp_path / f"early-{seed}.safetensors"
        io.save_tensors(trainable_state(model), path)
        checkpoints.append(str(path))
        models.append(model)

    output = tmp_path / "influence.parquet"
    influence_job({**spec, "predict_batch_size": 4}, seeds, checkpoints,
                  {"test": str(split_path)}, str(tmp_path / "classes.json"),
                  str(tmp_path / "meta.json"), str(tmp_path / "dense.parquet"), [],
                  str(output), grand=True)

    data = encoded(spec, frame)
    per_seed = [reference_norms(model, data, LEFT_OUT["bilstm"]) for model in models]
    assert not torch.allclose(per_seed[0], per_seed[1])  # the seeds really differ
    written = pl.read_parquet(output).sort("example_id")
    by_id = dict(zip(frame["example_id"].to_list(),
                     torch.stack(per_seed).mean(dim=0).tolist(), strict=True))
    expected = [by_id[i] for i in written["example_id"].to_list()]
    assert written["grand"].to_list() == pytest.approx(expected, rel=1e-4, abs=1e-6)
