import numpy as np
import polars as pl
import pytest
from prediction_frames import find_pies

from pieflow.labels import LabelKind, majority_votes, modal_labels, vote_counts

SINGLE, MULTI = LabelKind.SINGLE, LabelKind.MULTI


def tidy(preds_by_seed: dict[int, list[int]], labels: list[int]) -> pl.DataFrame:
    return pl.DataFrame([
        {"seed": seed, "split": "test", "example_id": i, "label": labels[i], "pred": p}
        for seed, preds in preds_by_seed.items() for i, p in enumerate(preds)
    ])


def test_modal_labels_with_a_tie_go_to_the_lowest_class():
    preds = np.array([[2, 0, 1], [2, 1, 1], [1, 1, 0], [1, 0, 0]])  # 4 seeds × 3 examples
    modal, tie, agreement = modal_labels(vote_counts(preds, 3))
    # example 0: 2,2,1,1 → tie between 1 and 2 → 1; example 1: 0,1,1,0 → tie → 0;
    # example 2: 1,1,0,0 → tie → 0
    assert modal.tolist() == [1, 0, 0]
    assert tie.tolist() == [True, True, True]
    assert agreement.tolist() == [0.5, 0.5, 0.5]


def test_pies_hand_computed():
    labels = [0, 1, 2, 0]
    dense = tidy({0: [0, 1, 2, 0], 1: [0, 1, 2, 1], 2: [0, 1, 1, 0]}, labels)
    pruned = tidy({0: [0, 2, 2, 1], 1: [0, 2, 1, 1], 2: [0, 1, 1, 2]}, labels)
    pies = find_pies(dense, pruned, SINGLE, 3).sort("example_id")
    assert pies["dense_modal"].to_list() == [0, 1, 2, 0]
    # example 3 in the pruned population: votes 1,1,2 → modal 1
    assert pies["pruned_modal"].to_list() == [0, 2, 1, 1]
    assert pies["is_pie"].to_list() == [False, True, True, True]
    assert pies["tie"].to_list() == [False, False, False, False]
    assert pies["dense_agreement"].to_list() == pytest.approx([1, 1, 2 / 3, 2 / 3])
    assert pies["pruned_agreement"].to_list() == pytest.approx([1, 2 / 3, 2 / 3, 2 / 3])
    assert pies["dense_correct"].to_list() == [True, True, True, True]
    assert pies["pruned_correct"].to_list() == [True, False, False, False]


def test_an_even_tie_is_flagged_and_broken_by_the_rule():
    labels = [1]
    dense = tidy({0: [1], 1: [1]}, labels)
    pruned = tidy({0: [2], 1: [0]}, labels)  # 1–1 tie between 0 and 2 → 0
    pies = find_pies(dense, pruned, SINGLE, 3)
    assert pies["pruned_modal"].to_list() == [0]
    assert pies["tie"].to_list() == [True]
    assert pies["is_pie"].to_list() == [True]


def test_missing_predictions_are_refused():
    dense = tidy({0: [0, 1], 1: [0, 1]}, [0, 1]).head(3)
    with pytest.raises(ValueError, match="not every seed"):
        find_pies(dense, tidy({0: [0, 1], 1: [0, 1]}, [0, 1]), SINGLE, 2)


def test_multi_label_majority_and_flips():
    votes = np.array([[[1, 0, 1]], [[1, 1, 0]], [[0, 1, 0]], [[1, 0, 0]]])  # 4 seeds
    on, tie, agreement = majority_votes(votes)
    assert on.tolist() == [[True, False, False]]  # 3/4 on; 2/4 tie → off; 1/4 off
    assert tie.tolist() == [[False, True, False]]
    assert agreement.tolist() == pytest.approx([(0.75 + 0.5 + 0.75) / 3])


def test_multi_label_pies_keep_the_flipped_classes():
    def frame(votes):
        return pl.DataFrame([
            {"seed": s, "split": "test", "example_id": i, "labels": [1, 0, 0],
             "preds": votes[s][i]} for s in range(3) for i in range(2)])

    dense = frame([[[1, 0, 0], [0, 1, 1]]] * 3)
    pruned = frame([[[0, 0, 1], [0, 1, 1]]] * 3)
    pies = find_pies(dense, pruned, MULTI, 3).sort("example_id")
    assert pies["is_pie"].to_list() == [True, False]
    assert pies["flipped_classes"].to_list() == [[0, 2], []]
    assert pies["dense_correct"].to_list() == [True, False]
