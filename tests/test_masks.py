import pytest
import torch
from torch import nn

from pieflow.masks import (
    achieved_sparsity,
    apply_masks,
    full_masks,
    iterative_targets,
    next_masks,
    prunable_parameters,
)
from pieflow.patterns import parse_pattern


def test_layerwise_masks_hit_target_exactly_per_tensor():
    gen = torch.Generator().manual_seed(0)
    scores = {"a": torch.rand(37, 11, generator=gen), "b": torch.rand(1000, generator=gen)}
    masks = next_masks(scores, full_masks(scores), 0.9)
    assert int((~masks["a"]).sum()) == round(0.9 * 37 * 11)
    assert int((~masks["b"]).sum()) == 900
    # the pruned ones are the lowest scores
    assert scores["b"][~masks["b"]].max() < scores["b"][masks["b"]].min()


def test_ties_do_not_break_the_count():
    scores = {"w": torch.zeros(100)}  # every score ties
    masks = next_masks(scores, full_masks(scores), 0.37)
    assert int((~masks["w"]).sum()) == 37


@pytest.mark.parametrize("target", [0.2, 0.5, 0.9, 0.99])
def test_iterative_rounds_keep_pruned_and_reach_target(target):
    gen = torch.Generator().manual_seed(1)
    weights = {"w": torch.randn(300, 70, generator=gen), "v": torch.randn(513, generator=gen)}
    masks = full_masks(weights)
    for step_target in iterative_targets(target, 3):
        previous = {k: m.clone() for k, m in masks.items()}
        scores = {k: torch.rand(w.shape, generator=gen) for k, w in weights.items()}
        masks = next_masks(scores, masks, step_target)
        for k in masks:  # a pruned weight never comes back
            assert not (masks[k] & ~previous[k]).any()
    zeros = sum(int((~m).sum()) for m in masks.values())
    total = sum(m.numel() for m in masks.values())
    assert abs(zeros / total - target) < 0.001


def test_iterative_targets_remove_a_fixed_share_of_what_remains():
    targets = iterative_targets(0.9, 3)
    remaining = [1.0] + [1 - t for t in targets]
    shares = [1 - remaining[i + 1] / remaining[i] for i in range(3)]
    assert shares == pytest.approx([shares[0]] * 3)
    assert targets[-1] == pytest.approx(0.9)


def test_global_scope_shares_one_threshold():
    scores = {"small": torch.full((10,), 0.1), "large": torch.full((10,), 5.0)}
    masks = next_masks(scores, full_masks(scores), 0.5, scope="global")
    assert not masks["small"].any() and masks["large"].all()


def test_out_of_range_target_is_refused():
    scores = {"w": torch.rand(4)}
    with pytest.raises(ValueError, match="target sparsity"):
        next_masks(scores, full_masks(scores), 1.0)


class Toy(nn.Module):
    head_prefix = "head."

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.body = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)
        self.lstm = nn.LSTM(4, 3, bidirectional=True)
        self.head = nn.Linear(6, 2)


def test_prunable_set_default_and_study():
    toy = Toy()
    default = set(prunable_parameters(toy))
    assert default == {"body.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0",
                       "lstm.weight_ih_l0_reverse", "lstm.weight_hh_l0_reverse"}
    study = set(prunable_parameters(toy, "study"))
    assert study == default | {"norm.weight"}


def test_apply_masks_zeroes_in_place():
    toy = Toy()
    params = prunable_parameters(toy)
    masks = next_masks({k: p.abs() for k, p in params.items()}, full_masks(params), 0.5)
    before = params["body.weight"].data_ptr()
    apply_masks(params, masks)
    assert params["body.weight"].data_ptr() == before
    assert achieved_sparsity(params.values()) == pytest.approx(0.5, abs=0.02)
    for name, mask in masks.items():
        assert (params[name][~mask] == 0).all()


def test_numpy_and_torch_selection_agree_including_ties():
    """The CPU fast path (NumPy) and the device path (torch.kthvalue) pick the same weights."""
    from pieflow.masks import _keep, _keep_numpy

    gen = torch.Generator().manual_seed(3)
    for scores in (torch.rand(5000, generator=gen),
                   torch.randint(0, 7, (5000,), generator=gen).float(),
                   torch.zeros(1000)):
        for count in (1, 17, 500, 999):
            fast = torch.from_numpy(_keep_numpy(scores.numpy().copy(), count))
            slow = _keep(scores.double(), count)  # float64 takes the torch path
            assert torch.equal(fast, slow)
            assert int((~fast).sum()) == count


class ToyEmbeddings(nn.Module):
    """Like BERT's embeddings block: an Embedding-named module holding a LayerNorm."""

    def __init__(self):
        super().__init__()
        self.word_embeddings = nn.Embedding(10, 4)
        self.LayerNorm = nn.LayerNorm(4)


class ToyEncoder(nn.Module):
    head_prefix = "head."

    def __init__(self):
        super().__init__()
        self.embeddings = ToyEmbeddings()
        self.body = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)
        self.head = nn.Linear(4, 2)


def test_study_set_skips_the_whole_embeddings_block():
    # The study skipped every module whose class name contains "Embedding", with what is
    # inside it: the embeddings' LayerNorm is not prunable, the body's is.
    study = set(prunable_parameters(ToyEncoder(), "study"))
    assert study == {"body.weight", "norm.weight"}


def test_study_set_of_a_real_bert_has_no_embedding_weights(tiny_bert_spec):
    from pieflow.models.classifiers import build_model

    study = prunable_parameters(build_model(tiny_bert_spec, 3, 0), "study")
    assert not [name for name in study if "embeddings" in name]
    assert any("LayerNorm" in name for name in study)  # the encoder layers' own norms


def test_nm_on_study_scores_through_next_masks():
    gen = torch.Generator().manual_seed(6)
    scores = {"w": torch.rand(12, 16, generator=gen), "v": torch.rand(8, 8, generator=gen)}
    masks = full_masks(scores)
    # an iterative 2:4 schedule drops round(target·4) per group: 1, 1, then 2
    for target, kept in [(0.2063, 3), (0.37, 3), (0.5, 2)]:
        previous = masks
        masks = next_masks(scores, masks, target, pattern="2:4")
        for name, mask in masks.items():
            assert (mask.reshape(mask.shape[0], -1, 4).sum(-1) == kept).all()
            assert not (mask & ~previous[name]).any()


def test_nm_refuses_what_does_not_tile():
    with pytest.raises(ValueError, match="divisible by 4"):
        next_masks({"w": torch.rand(3, 6)}, full_masks({"w": torch.rand(3, 6)}), 0.5,
                   pattern="2:4")
    with pytest.raises(ValueError, match="weight matrices"):
        next_masks({"g": torch.rand(8)}, full_masks({"g": torch.rand(8)}), 0.5, pattern="2:4")
    with pytest.raises(ValueError, match="integer percent"):
        parse_pattern("1:3")
    with pytest.raises(ValueError, match="scope 'layer'"):
        next_masks({"w": torch.rand(4, 8)}, full_masks({"w": torch.rand(4, 8)}), 0.5,
                   scope="global", pattern="2:4")
