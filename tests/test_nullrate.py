"""Null rate of PIEs: the fair (twin-paired) construction, hand-computed cases, the tie
rule, alignment of seeds by id, and reproducibility."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import polars as pl
import pytest
from prediction_frames import find_pies, single_label_predictions

from pieflow.diff import nullrate
from pieflow.diff.nullrate import excess_over_null, null_and_pie_draws, null_rate_table
from pieflow.diff.populations import paired_populations
from pieflow.labels import LabelKind, modal_labels, vote_counts

SINGLE = LabelKind.SINGLE


def modal(preds: np.ndarray, num_classes: int) -> np.ndarray:
    return modal_labels(vote_counts(np.asarray(preds), num_classes))[0]


def ids(preds: np.ndarray) -> np.ndarray:
    """Seed ids 0..n-1 for the rows of a matrix: row i of dense and pruned are twins."""
    return np.arange(np.shape(preds)[0])


def excess(dense: np.ndarray, pruned: np.ndarray, num_classes: int, **kwargs):
    kwargs.setdefault("dense_seeds", ids(dense))
    kwargs.setdefault("pruned_seeds", ids(pruned))
    return excess_over_null(dense, pruned, SINGLE, num_classes, **kwargs)


def draws(dense: np.ndarray, pruned: np.ndarray, num_classes: int, repeats: int = 5,
          seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    return null_and_pie_draws(dense, pruned, SINGLE, num_classes, repeats,
                              np.random.default_rng(seed), dense_seeds=ids(dense),
                              pruned_seeds=ids(pruned))


def table(dense: pl.DataFrame, pruned: pl.DataFrame, num_classes: int,
          **kwargs) -> pl.DataFrame:
    """The null-rate table of two tidy predictions frames, as the diff_cell job builds it."""
    populations = paired_populations(dense, pruned, SINGLE)
    pies = find_pies(dense, pruned, SINGLE, num_classes)
    return null_rate_table(populations, pies, num_classes, **kwargs)


def tidy(preds: np.ndarray, labels: np.ndarray, split: str = "test",
         example_ids: np.ndarray | None = None) -> pl.DataFrame:
    frame = single_label_predictions(preds, labels, split)
    if example_ids is not None:
        frame = frame.with_columns(pl.Series("example_id", np.tile(example_ids, len(preds))))
    return frame


# --------------------------------------------------------------------------------------
# The fair null: identical twins give no excess; independent seeds give ~0
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seeds", "examples", "classes"),
                         [(2, 5, 2), (5, 40, 3), (8, 100, 4), (11, 7, 5)])
def test_a_pruning_that_changes_nothing_has_exactly_zero_excess(seeds, examples, classes):
    dense = np.random.default_rng(seeds).integers(0, classes, size=(seeds, examples))
    result = excess(dense, dense.copy(), classes, repeats=50)
    assert result.population_size == seeds // 2
    assert result.null_mean == result.pies_mean
    assert result.excess_mean == result.excess_low == result.excess_high == 0
    null, pies, _ = draws(dense, dense, classes, repeats=20)
    assert pies.tolist() == null.tolist()


def simulated_excess(rng: np.random.Generator, cells: int, twin_share: float,
                     n_examples: int = 200, seeds: int = 8, classes: int = 3,
                     repeats: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Per cell: does the 95 % interval of the excess cover 0, and the mean excess.

    Each example has fixed class probabilities; every seed samples its labels from them.
    A pruned seed copies its dense twin's label on a ``twin_share`` of the examples and
    samples afresh elsewhere: correlated with its twin, but distributed like any seed.
    """
    covers, means = [], []
    for _ in range(cells):
        cumulative = rng.dirichlet(np.full(classes, 0.5), size=n_examples).cumsum(axis=1)
        u = rng.random((2, seeds, n_examples, 1))
        dense, fresh = (u > cumulative).sum(axis=3).clip(max=classes - 1)
        pruned = np.where(rng.random(dense.shape) < twin_share, dense, fresh)
        result = excess(dense, pruned, classes, repeats=repeats, seed=rng)
        covers.append(result.excess_low <= 0 <= result.excess_high)
        means.append(result.excess_mean)
    return np.array(covers), np.array(means)


@pytest.mark.parametrize("twin_share", [0.0, 0.9])
def test_populations_from_one_distribution_have_no_excess(twin_share):
    # twin_share 0: dense and pruned drawn independently; 0.9: pruned seeds are near-copies
    # of their twins (drawing pruned seeds independently of the dense half A, as the old
    # construction did, gave a mean excess of about -17 here and covered 0 in ~30 %).
    covers, means = simulated_excess(np.random.default_rng(11), 120, twin_share)
    assert covers.mean() >= 0.9
    assert abs(means.mean()) < 3 * means.std() / np.sqrt(means.size) + 0.5


# --------------------------------------------------------------------------------------
# Hand-computed cases and an exhaustive oracle
# --------------------------------------------------------------------------------------


def test_a_pruned_population_on_another_class_makes_every_example_a_pie():
    dense = np.zeros((4, 7), dtype=np.int64)
    pruned = np.ones((5, 7), dtype=np.int64)
    result = excess(dense, pruned, 2, repeats=10)
    assert (result.n_common_seeds, result.population_size) == (4, 2)
    assert result.null_mean == 0
    assert result.pies_mean == result.pies_low == result.pies_high == 7
    assert result.excess_mean == 7
    assert result.pies_share_mean == 1.0
    assert result.excess_share_high == 1.0
    assert draws(dense, pruned, 2)[1].tolist() == [7] * 5


def brute_force(dense: np.ndarray, pruned: np.ndarray, num_classes: int):
    """Null and PIE counts of every ordered split (A, B) of the twins (test oracle; rows
    of dense and pruned are twins)."""
    n = min(len(dense), len(pruned))
    size = n // 2
    nulls, pies = [], []
    for order in permutations(range(n)):
        half_a, half_b = list(order[:size]), list(order[size:2 * size])
        a = modal(dense[half_a], num_classes)
        nulls.append((a != modal(dense[half_b], num_classes)).sum())
        pies.append((a != modal(pruned[half_b], num_classes)).sum())
    return np.array(nulls), np.array(pies)


def test_ties_go_to_the_lowest_class_in_pie_counts():
    # Dense modal: 0 everywhere. Pruned example 0 votes 0, 1, 0, 1: of the 6 pairs B, 4
    # are a 0-1 tie (→ 0, no PIE), one is {0, 0}, one {1, 1} (PIE): 1/6 (a random
    # tie-break would give 1/2). Example 1 votes 1, 2, 1, 2: a PIE whatever the pair.
    dense = np.zeros((4, 2), dtype=np.int64)
    pruned = np.array([[0, 1], [1, 2], [0, 1], [1, 2]])
    assert brute_force(dense, pruned, 3)[1].mean() == pytest.approx(1 + 1 / 6)
    result = excess(dense, pruned, 3, repeats=3000, seed=4)
    assert result.population_size == 2
    assert result.pies_mean == pytest.approx(1 + 1 / 6, abs=0.05)
    assert result.pies_low == 1 and result.pies_high == 2


def test_ties_go_to_the_lowest_class_in_the_null():
    # One example, four dense seeds voting 0, 1, 0, 1 and halves of two. Of the three ways
    # to split them, only {0, 2} | {1, 3} disagrees (0 vs 1); the other two give a 0–1 tie in
    # both halves, which the rule resolves to 0 on both sides. Expected null: 1/3 (a random
    # tie-break would give 2/3).
    dense = np.array([[0], [1], [0], [1]])
    result = excess(dense, dense, 2, repeats=3000, seed=3)
    assert result.population_size == 2
    assert result.null_mean == pytest.approx(1 / 3, abs=0.04)
    assert result.null_low == 0 and result.null_high == 1


@pytest.mark.parametrize("block", [None, 40])
def test_means_match_an_exhaustive_enumeration(monkeypatch, block):
    if block is not None:  # force many small chunks of repeats
        monkeypatch.setattr(nullrate, "_BLOCK_ELEMENTS", block)
    rng = np.random.default_rng(7)
    dense = rng.integers(0, 3, size=(6, 12))
    pruned = rng.integers(0, 3, size=(5, 12))
    nulls, pies = brute_force(dense[:5], pruned, 3)  # dense seed 5 has no pruned twin
    result = excess(dense, pruned, 3, repeats=4000, seed=11)
    assert (result.n_dense_seeds, result.n_pruned_seeds) == (6, 5)
    assert (result.n_common_seeds, result.population_size) == (5, 2)
    assert result.repeats == 4000
    assert result.null_mean == pytest.approx(nulls.mean(), abs=0.1)
    assert result.pies_mean == pytest.approx(pies.mean(), abs=0.1)
    assert result.excess_mean == pytest.approx((pies - nulls).mean(), abs=0.15)
    assert nulls.min() <= result.null_low <= result.null_high <= nulls.max()
    assert pies.min() <= result.pies_low <= result.pies_high <= pies.max()
    assert result.excess_mean == pytest.approx(result.pies_mean - result.null_mean)
    assert result.null_share_mean == pytest.approx(result.null_mean / 12)


# --------------------------------------------------------------------------------------
# Seeds are paired by id, never by position
# --------------------------------------------------------------------------------------


def test_seeds_are_aligned_by_id_not_by_row():
    rng = np.random.default_rng(3)
    dense = rng.integers(0, 3, size=(8, 60))
    pruned = np.where(rng.random((8, 60)) < 0.2, rng.integers(0, 3, (8, 60)), dense)
    seeds = np.array([0, 2, 5, 7, 10, 11, 20, 31])
    expected = excess(dense, pruned, 3, repeats=30, seed=2, dense_seeds=seeds,
                      pruned_seeds=seeds)
    shuffle = rng.permutation(8)
    assert excess(dense, pruned[shuffle], 3, repeats=30, seed=2, dense_seeds=seeds,
                  pruned_seeds=seeds[shuffle]) == expected
    # the pruned rows in another order under the *same* ids are other twins: other numbers
    assert excess(dense, pruned[shuffle], 3, repeats=30, seed=2, dense_seeds=seeds,
                  pruned_seeds=seeds) != expected


def test_the_null_uses_the_common_seeds():
    rng = np.random.default_rng(5)
    dense = rng.integers(0, 3, size=(8, 50))
    pruned = rng.integers(0, 3, size=(6, 50))
    result = excess(dense, pruned, 3, repeats=30, seed=1)  # seeds {0..7} vs {0..5}
    assert (result.n_dense_seeds, result.n_pruned_seeds) == (8, 6)
    assert (result.n_common_seeds, result.population_size) == (6, 3)
    restricted = excess(dense[:6], pruned, 3, repeats=30, seed=1)
    assert {**result.as_dict(), "n_dense_seeds": 6} == restricted.as_dict()


def test_the_table_aligns_shuffled_frames_by_seed_id():
    rng = np.random.default_rng(6)
    labels = rng.integers(0, 3, size=25)
    dense = rng.integers(0, 3, size=(12, 25))  # ids 0..11: "10" sorts before "2" as text
    pruned = np.where(rng.random((12, 25)) < 0.3, rng.integers(0, 3, (12, 25)), dense)
    dense_frame = tidy(dense, labels)
    pruned_frame = tidy(pruned, labels)
    expected = table(dense_frame, pruned_frame, 3, repeats=20, seed=4)
    populations = paired_populations(dense_frame, pruned_frame, SINGLE)
    assert populations[0].dense_seeds.tolist() == list(range(12))
    assert (populations[0].pruned == pruned).all()
    shuffled = pruned_frame.sample(fraction=1.0, shuffle=True, seed=3)
    assert table(dense_frame, shuffled, 3, repeats=20, seed=4).equals(expected)
    fewer = pruned_frame.filter(pl.col("seed") < 6)
    row = table(dense_frame, fewer, 3, repeats=20, seed=4).row(0, named=True)
    assert (row["n_dense_seeds"], row["n_pruned_seeds"], row["n_common_seeds"]) == (12, 6, 6)
    same = table(dense_frame, dense_frame, 3, repeats=20, seed=4).row(0, named=True)
    assert same["excess_mean"] == same["excess_low"] == same["excess_high"] == 0


# --------------------------------------------------------------------------------------
# Reproducibility, errors, the table
# --------------------------------------------------------------------------------------


def test_a_fixed_seed_is_reproducible():
    rng = np.random.default_rng(2)
    dense = rng.integers(0, 3, size=(10, 200))
    pruned = rng.integers(0, 3, size=(10, 200))
    assert excess(dense, pruned, 3, repeats=30, seed=5) == excess(dense, pruned, 3,
                                                                   repeats=30, seed=5)
    first, again = draws(dense, pruned, 3, seed=9), draws(dense, pruned, 3, seed=9)
    assert first[0].tolist() == again[0].tolist() and first[1].tolist() == again[1].tolist()


def test_fewer_than_two_common_seeds_is_an_error():
    with pytest.raises(ValueError, match=r"at least 2 seeds common .* got 1: dense seeds "
                                         r"\[0\], pruned seeds \[0, 1, 2\]"):
        excess(np.zeros((1, 5), dtype=int), np.zeros((3, 5), dtype=int), 2)
    with pytest.raises(ValueError, match="got 0"):
        excess(np.zeros((3, 5), dtype=int), np.zeros((3, 5), dtype=int), 2,
               pruned_seeds=np.array([3, 4, 5]))
    labels = np.zeros(5, dtype=np.int64)
    dense = single_label_predictions(np.zeros((3, 5), dtype=np.int64), labels, "train")
    pruned = single_label_predictions(np.zeros((2, 5), dtype=np.int64), labels, "train",
                                      seeds=np.array([2, 7]))
    with pytest.raises(ValueError, match=r"split 'train': .* dense seeds \[0, 1, 2\], "
                                         r"pruned seeds \[2, 7\]"):
        table(dense, pruned, 2)


def test_bad_inputs_are_errors():
    dense = np.zeros((4, 5), dtype=int)
    with pytest.raises(ValueError, match="different numbers of examples"):
        excess(dense, np.zeros((4, 6), dtype=int), 2)
    with pytest.raises(ValueError, match="lie in 0..1"):
        excess(dense, np.full((4, 5), 2), 2)
    with pytest.raises(ValueError, match="one seed id"):
        excess(dense, dense, 2, pruned_seeds=np.arange(3))
    with pytest.raises(ValueError, match="distinct"):
        excess(dense, dense, 2, pruned_seeds=np.array([0, 1, 1, 2]))
    with pytest.raises(ValueError, match="seeds × examples × classes"):
        excess_over_null(dense, dense, LabelKind.MULTI, 2, dense_seeds=ids(dense),
                         pruned_seeds=ids(dense))
    with pytest.raises(ValueError, match="repeats"):
        excess(dense, dense, 2, repeats=0)
    with pytest.raises(ValueError, match="confidence"):
        excess(dense, dense, 2, confidence=1.0)


def test_null_rate_table_has_a_row_per_split():
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 3, size=30)
    preds = [rng.integers(0, 3, size=(6, 30)) for _ in range(4)]  # dense, dense, pruned, pruned
    dense = pl.concat([tidy(preds[0], labels, "test"), tidy(preds[1], labels, "train")])
    pruned = pl.concat([tidy(preds[2], labels, "test"), tidy(preds[3], labels, "train")])
    result = table(dense, pruned, num_classes=3, repeats=25, seed=1)
    assert result.get_column("split").to_list() == ["test", "train"]
    assert result.get_column("population_size").to_list() == [3, 3]
    assert result.get_column("n_common_seeds").to_list() == [6, 6]
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
