import pytest
import torch
from conftest import encoded

from pieflow.influence.grand import _loop_norms, grand_scores
from pieflow.models.classifiers import build_model

CPU = torch.device("cpu")


@pytest.mark.parametrize("family", ["bert", "bilstm"])
def test_grand_matches_a_per_example_backward_loop(family, tiny_bert_spec, bilstm_spec,
                                                   tweets, caplog):
    spec = tiny_bert_spec if family == "bert" else bilstm_spec
    model = build_model(spec, 3, seed=0)
    data = encoded(spec, tweets.splits["test"].head(12))
    scores = grand_scores(model, data, CPU, batch_size=5)
    reference = torch.cat([_loop_norms(model, batch, data.kind, CPU).detach()
                           for batch in data.batches(5)])
    assert scores.shape == (12,)
    assert torch.allclose(scores, reference, rtol=1e-4, atol=1e-6)
    assert (scores > 0).all()
    assert "vmap failed" not in caplog.text  # BERT really took the torch.func path
