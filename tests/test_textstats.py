"""Text features and the PIE / non-PIE comparison: hand-computed statistics, offline use."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence, Sized

import numpy as np
import polars as pl
import pytest

from pieflow.analysis.textstats import (
    compare_groups,
    holm,
    pyphen_syllables,
    rank_biserial,
    text_features,
)

TEXTS = [
    "The cat sat on the mat. It was a sunny day.",
    "Notwithstanding considerable epistemological uncertainty, the committee "
    "promulgated comprehensive regulations.",
    "the the the dog",
]


def count_tokens(texts: Sequence[str], tokenize: Callable[[str], Sized]) -> list[int]:
    """Model tokens per text, e.g. ``count_tokens(texts, hf_tokenizer.tokenize)`` (the
    workflow counts with :func:`pieflow.analysis.tokens.token_counts`)."""
    return [len(tokenize(text)) for text in texts]


def test_holm_matches_a_hand_computed_case():
    # sorted 0.01, 0.03, 0.04 → 3·0.01, 2·0.03, max(1·0.04, 0.06) → back in input order
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.5, 0.9]), [1.0, 1.0])  # capped at 1
    adjusted = holm([0.02, np.nan, 0.01])  # NaN is not a hypothesis: m = 2
    np.testing.assert_allclose(adjusted, [0.02, np.nan, 0.02])
    assert np.isnan(holm([np.nan])).all()
    assert holm([]).shape == (0,)


def test_rank_biserial_on_tiny_cases():
    # every PIE value above every other: U = n1·n2 → +1; the reverse → −1
    table = compare_groups(pl.DataFrame({"x": [3.0, 4.0, 1.0, 2.0]}),
                           np.array([True, True, False, False]))
    row = table.row(0, named=True)
    assert row["u_statistic"] == 4.0 and row["rank_biserial"] == 1.0
    assert (row["median_pies"], row["median_non_pies"]) == (3.5, 1.5)
    # PIEs [1, 2] vs. others [2, 3]: pairs <, <, tie, < → U = 0.5 → 2·0.5/4 − 1 = −0.75
    table = compare_groups(pl.DataFrame({"x": [1.0, 2.0, 2.0, 3.0]}),
                           np.array([True, True, False, False]))
    assert table.get_column("u_statistic").item() == 0.5
    assert table.get_column("rank_biserial").item() == pytest.approx(-0.75)
    assert rank_biserial(0.0, 2, 3) == -1.0


def test_compare_groups_corrects_over_features():
    rng = np.random.default_rng(0)
    is_pie = np.arange(40) < 20
    features = pl.DataFrame({
        "example_id": np.arange(40),  # an identifier, never compared
        "shifted": np.where(is_pie, 10.0, 0.0) + rng.normal(size=40),
        "noise": rng.normal(size=40),
    })
    table = compare_groups(features, is_pie)
    assert table.get_column("feature").to_list() == ["shifted", "noise"]
    p = table.get_column("p_value").to_numpy()
    np.testing.assert_allclose(table.get_column("p_holm").to_numpy(), holm(p))
    shifted = table.row(0, named=True)
    assert shifted["rank_biserial"] == 1.0 and shifted["p_holm"] < 1e-6


def test_an_empty_group_gives_nan_rows_with_a_note():
    features = pl.DataFrame({"x": [1.0, 2.0, 3.0], "y": [np.nan, np.nan, 5.0]})
    table = compare_groups(features, np.zeros(3, dtype=bool))
    assert table.height == 2
    assert table.get_column("note").to_list() == ["no PIEs with a value"] * 2
    assert table.get_column("p_value").is_nan().all()
    assert table.get_column("p_holm").is_nan().all()
    assert table.get_column("median_non_pies").to_list() == [2.0, 5.0]
    # y has no finite value among the PIEs: NaN row; x still tested, Holm over x alone
    table = compare_groups(features, np.array([True, True, False]))
    notes = dict(zip(table["feature"], table["note"], strict=True))
    assert notes == {"x": None, "y": "no PIEs with a value"}
    x = table.row(0, named=True)
    assert x["p_holm"] == x["p_value"]
    with pytest.raises(ValueError, match="is_pie"):
        compare_groups(features, np.array([True]))


def test_features_are_present_and_sane():
    features = text_features(TEXTS, token_counts=[12, 14, 5])
    assert features.height == 3
    assert set(features.columns) >= {
        "n_chars", "n_words", "n_sentences", "n_tokens", "flesch_reading_ease",
        "flesch_kincaid_grade", "gunning_fog", "difficult_words", "difficult_word_share",
        "type_token_ratio", "mean_zipf", "rare_word_share"}
    easy, hard, repeated = features.rows(named=True)
    assert (easy["n_words"], easy["n_sentences"], easy["n_chars"]) == (11, 2, len(TEXTS[0]))
    assert easy["difficult_words"] == 0
    assert easy["flesch_reading_ease"] > hard["flesch_reading_ease"]
    assert easy["flesch_kincaid_grade"] < hard["flesch_kincaid_grade"]
    assert easy["gunning_fog"] < hard["gunning_fog"]
    assert hard["difficult_words"] >= 6
    assert easy["mean_zipf"] > hard["mean_zipf"]
    assert easy["rare_word_share"] == 0.0 < hard["rare_word_share"]
    assert repeated["type_token_ratio"] == pytest.approx(2 / 4)  # {the, dog} / 4 tokens
    assert easy["type_token_ratio"] == pytest.approx(10 / 11)  # "the" twice
    assert features.get_column("n_tokens").to_list() == [12, 14, 5]
    # a hand-checkable Flesch score: "every beautiful thing" = 2 + 3 + 1 syllables (pyphen)
    one = text_features(["every beautiful thing"]).row(0, named=True)
    assert one["flesch_reading_ease"] == pytest.approx(206.835 - 1.015 * 3 - 84.6 * 2)


def test_empty_texts_and_token_counts():
    features = text_features(["", "Fine."])
    empty = features.row(0, named=True)
    assert empty["n_words"] == 0 and np.isnan(empty["flesch_reading_ease"])
    assert np.isnan(empty["type_token_ratio"]) and np.isnan(empty["mean_zipf"])
    assert "n_tokens" not in features.columns
    assert count_tokens(["a b c", ""], str.split) == [3, 0]
    with pytest.raises(ValueError, match="token counts"):
        text_features(["a"], token_counts=[1, 2])
    assert text_features([]).height == 0


def test_features_need_no_network_and_no_nltk_data(monkeypatch):
    """textstat would download NLTK's CMUdict at run time; the features never do."""
    import nltk

    def refuse(*args, **kwargs):
        raise AssertionError("tried to reach the network")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(nltk, "download", refuse)
    monkeypatch.setattr(nltk.data, "find", refuse)
    features = text_features(TEXTS)
    assert features.get_column("flesch_reading_ease").is_finite().all()


def test_pyphen_block_restores_textstat():
    from textstat.backend.counts import _count_syllables

    original = _count_syllables.get_cmudict
    with pyphen_syllables():
        assert _count_syllables.get_cmudict is not original
    assert _count_syllables.get_cmudict is original
