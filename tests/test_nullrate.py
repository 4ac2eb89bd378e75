"""Null rate of PIEs: hand-computed cases, the tie rule, and reproducibility."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import polars as pl
import pytest
from prediction_frames import find_pies

from pieflow.diff import nullrate
from pieflow.diff.nullrate import excess_over_null, null_and_pie_draws, null_rate_table
from pieflow.diff.populations import paired_populations
from pieflow.labels import LabelKind, modal_labels, vote_counts

SINGLE = LabelKind.SINGLE


def modal(preds: np.ndarray, num_classes: int) -> np.ndarray:
    return modal_labels(vote_counts(np.asarray(preds), num_classes))[0]


def draws(dense: np.ndarray, pruned: np.ndarray, num_classes: int, repeats: int = 5,
          seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    return null_and_pie_draws(dense, pruned, SINGLE, num_classes, repeats,
                              np.random.default_rng(seed))


def table(dense: pl.DataFrame, pruned: pl.DataFrame, num_classes: int,
          **kwargs) -> pl.DataFrame:
    """The null-rate table of two tidy predictions frames, as the diff_cell job builds it."""
    populations = paired_populations(dense, pruned, SINGLE)
    pies = find_pies(dense, pruned, SINGLE, num_classes)
    return null_rate_table(populations, pies, num_classes, **kwargs)


def tidy(preds: np.ndarray, labels: np.ndarray, split: str = "test",
         example_ids: np.ndarray | None = None) -> pl.DataFrame:
    """(seeds × examples) predictions as rows of predictions.parquet."""
    seeds, examples = preds.shape
    ids = np.arange(examples) if example_ids is None else example_ids
    return pl.DataFrame({
        "seed": np.repeat(np.arange(seeds), examples),
        "split": [split] * (seeds * examples),
        "example_id": np.tile(ids, seeds),
        "label": np.tile(labels, seeds),
        "pred": preds.ravel(),
    })


def test_identical_populations_give_no_null_and_no_pies():
    rng = np.random.default_rng(0)
    one_model = rng.integers(0, 3, size=50)
    dense = np.tile(one_model, (6, 1))
    result = excess_over_null(dense, dense.copy(), SINGLE, num_classes=3, repeats=20)
    assert result.population_size == 3
    assert (result.null_mean, result.pies_mean, result.excess_mean) == (0, 0, 0)
    assert (result.null_low, result.null_high, result.excess_low, result.excess_high) == (
        0, 0, 0, 0)
    null, pies, size = draws(dense, dense, 3, seed=1)
    assert size == 3 and null.tolist() == pies.tolist() == [0] * 5


def test_a_pruned_population_on_another_class_makes_every_example_a_pie():
    dense = np.zeros((4, 7), dtype=np.int64)
    pruned = np.ones((5, 7), dtype=np.int64)
    result = excess_over_null(dense, pruned, SINGLE, num_classes=2, repeats=10)
    assert result.population_size == 2
    assert result.null_mean == 0
    assert result.pies_mean == result.pies_low == result.pies_high == 7
    assert result.excess_mean == 7
    assert result.pies_share_mean == 1.0
    assert result.excess_share_high == 1.0
    assert draws(dense, pruned, 2)[1].tolist() == [7] * 5


def test_ties_go_to_the_lowest_class_in_pie_counts():
    dense = np.zeros((4, 3), dtype=np.int64)  # dense modal: 0 everywhere
    # example 0: 1-0 tie → 0 (no PIE); example 1: 1-2 tie → 1 (PIE); example 2: 2-2 → 2 (PIE)
    pruned = np.array([[1, 1, 2], [0, 2, 2]])
    null, pies, size = draws(dense, pruned, 3)
    assert size == 2 and pies.tolist() == [2] * 5


def test_ties_go_to_the_lowest_class_in_the_null():
    # One example, four dense seeds voting 0, 1, 0, 1 and halves of two. Of the three ways
    # to split them, only {0, 2} | {1, 3} disagrees (0 vs 1); the other two give a 0–1 tie in
    # both halves, which the rule resolves to 0 on both sides. Expected null: 1/3 (a random
    # tie-break would give 2/3).
    dense = np.array([[0], [1], [0], [1]])
    result = excess_over_null(dense, dense, SINGLE, num_classes=2, repeats=3000, seed=3)
    assert result.population_size == 2
    assert result.null_mean == pytest.approx(1 / 3, abs=0.04)
    assert result.null_low == 0 and result.null_high == 1


def brute_force(dense: np.ndarray, pruned: np.ndarray, num_classes: int, size: int):
    """Exact expected null and PIE counts over all seed splits/subsets (test oracle)."""
    nulls = []
    for half_a in combinations(range(dense.shape[0]), size):
        rest = [s for s in range(dense.shape[0]) if s not in half_a]
        for half_b in combinations(rest, size):
            nulls.append((modal(dense[list(half_a)], num_classes)
                          != modal(dense[list(half_b)], num_classes)).sum())
    pies = [(modal(dense[list(a)], num_classes) != modal(pruned[list(p)], num_classes)).sum()
            for a in combinations(range(dense.shape[0]), size)
            for p in combinations(range(pruned.shape[0]), size)]
    return np.array(nulls), np.array(pies)


@pytest.mark.parametrize("block", [None, 40])
def test_means_match_an_exhaustive_enumeration(monkeypatch, block):
    if block is not None:  # force many small chunks of repeats
        monkeypatch.setattr(nullrate, "_BLOCK_ELEMENTS", block)
    rng = np.random.default_rng(7)
    dense = rng.integers(0, 3, size=(5, 12))
    pruned = rng.integers(0, 3, size=(3, 12))
    nulls, pies = brute_force(dense, pruned, 3, size=2)
    result = excess_over_null(dense, pruned, SINGLE, num_classes=3, repeats=4000, seed=11)
    assert result.population_size == 2  # floor(5 / 2), not capped by 3 pruned seeds
    assert result.repeats == 4000
    assert result.null_mean == pytest.approx(nulls.mean(), abs=0.1)
    assert result.pies_mean == pytest.approx(pies.mean(), abs=0.1)
    assert nulls.min() <= result.null_low <= result.null_high <= nulls.max()
    assert pies.min() <= result.pies_low <= result.pies_high <= pies.max()
    assert result.excess_mean == pytest.approx(result.pies_mean - result.null_mean)
    assert result.null_share_mean == pytest.approx(result.null_mean / 12)


def test_population_size_is_capped_by_the_pruned_seeds():
    dense = np.zeros((10, 4), dtype=np.int64)
    pruned = np.zeros((3, 4), dtype=np.int64)
    assert excess_over_null(dense, pruned, SINGLE, 2, repeats=5).population_size == 3


def test_a_fixed_seed_is_reproducible():
    rng = np.random.default_rng(2)
    dense = rng.integers(0, 3, size=(10, 200))
    pruned = rng.integers(0, 3, size=(10, 200))
    assert excess_over_null(dense, pruned, SINGLE, 3, repeats=30, seed=5) == excess_over_null(
        dense, pruned, SINGLE, 3, repeats=30, seed=5)
    first, again = draws(dense, pruned, 3, seed=9), draws(dense, pruned, 3, seed=9)
    assert first[0].tolist() == again[0].tolist() and first[1].tolist() == again[1].tolist()


def test_one_dense_seed_is_an_error():
    with pytest.raises(ValueError, match="at least 2 dense seeds"):
        excess_over_null(np.zeros((1, 5), dtype=int), np.zeros((3, 5), dtype=int), SINGLE, 2)
    with pytest.raises(ValueError, match="at least 2 dense"):
        draws(np.zeros((1, 5), dtype=int), np.zeros((1, 5), dtype=int), 2)


def test_bad_inputs_are_errors():
    dense = np.zeros((4, 5), dtype=int)
    with pytest.raises(ValueError, match="different numbers of examples"):
        excess_over_null(dense, np.zeros((4, 6), dtype=int), SINGLE, 2)
    with pytest.raises(ValueError, match="lie in 0..1"):
        excess_over_null(dense, np.full((4, 5), 2), SINGLE, 2)
    with pytest.raises(ValueError, match="at least 1 pruned seed"):
        excess_over_null(dense, np.zeros((0, 5), dtype=int), SINGLE, 2)
    with pytest.raises(ValueError, match="seeds × examples × classes"):
        excess_over_null(dense, dense, LabelKind.MULTI, 2)
    with pytest.raises(ValueError, match="repeats"):
        excess_over_null(dense, dense, SINGLE, 2, repeats=0)
    with pytest.raises(ValueError, match="confidence"):
        excess_over_null(dense, dense, SINGLE, 2, confidence=1.0)


def test_null_rate_table_has_a_row_per_split():
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, size=30)
    preds = [rng.integers(0, 3, size=(6, 30)) for _ in range(4)]  # dense, dense, pruned, pruned
    dense = pl.concat([tidy(preds[0], labels, "test"), tidy(preds[1], labels, "train")])
    pruned = pl.concat([tidy(preds[2], labels, "test"), tidy(preds[3], labels, "train")])
    result = table(dense, pruned, num_classes=3, repeats=25, seed=1)
    assert result.get_column("split").to_list() == ["test", "train"]
    assert result.get_column("population_size").to_list() == [3, 3]
    assert result.get_column("n_examples").to_list() == [30, 30]
    assert result.get_column("n_pies_full").to_list() == [
        int((modal(preds[d], 3) != modal(preds[p], 3)).sum()) for d, p in ((0, 2), (1, 3))]
    for column in ("null_mean", "pies_low", "excess_high", "excess_share_mean"):
        assert column in result.columns
    # a split's numbers do not depend on which other splits the frame holds
    alone = table(dense.filter(pl.col("split") == "train"),
                  pruned.filter(pl.col("split") == "train"), 3, repeats=25, seed=1)
    assert alone.row(0, named=True) == result.row(1, named=True)


def test_null_rate_table_rejects_mismatched_examples():
    labels = np.zeros(4, dtype=np.int64)
    dense = tidy(np.zeros((2, 4), dtype=np.int64), labels)
    pruned = tidy(np.zeros((2, 4), dtype=np.int64), labels, example_ids=np.arange(1, 5))
    with pytest.raises(ValueError, match="different examples"):
        table(dense, pruned, 2)
