"""Difficulty scores as predictors of PIEs (pieflow.analysis.predictors): AUROC by hand
with ties, its bootstrap interval (pure noise covers 0.5, a perfect score gets 1),
deciles with ties shared out, one cell's rows, the best predictor and its sentence, and
the job on imported generated answers (scores that do not exist have no rows)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.stats import mannwhitneyu

from pieflow import io, layout
from pieflow.analysis.job import summarise_pie_predictors_job
from pieflow.analysis.predictors import (
    auroc,
    auroc_interval,
    best_predictors,
    bootstrap_weights,
    cell_predictors,
    deciles,
    weighted_auroc,
)
from pieflow.analysis.sentences import finding_sentence

KEYS = {"dataset": "d", "model": "m", "method": "mag", "sparsity": 50}


def test_auroc_by_hand_with_ties():
    # positives score 2 and 3, negatives 1 and 2: (2>1) 1 + (2=2) ½ + (3>1) 1 + (3>2) 1
    assert auroc(np.array([1.0, 2.0, 2.0, 3.0]),
                 np.array([False, True, False, True])) == pytest.approx(3.5 / 4)
    assert auroc(np.array([5.0, 5.0, 5.0]), np.array([True, False, False])) == 0.5
    assert auroc(np.array([0.0, 1.0]), np.array([True, False])) == 0.0
    assert np.isnan(auroc(np.array([0.0, 1.0]), np.array([False, False])))


def test_auroc_is_the_mann_whitney_u_over_the_pairs():
    rng = np.random.default_rng(0)
    for _ in range(20):
        score = rng.integers(0, 6, size=60).astype(float)  # many ties
        positive = rng.random(60) < 0.3
        u = mannwhitneyu(score[positive], score[~positive]).statistic
        assert auroc(score, positive) == pytest.approx(u / (positive.sum() * (~positive).sum()))


def test_weighted_auroc_equals_the_auroc_of_the_resample_it_stands_for():
    rng = np.random.default_rng(1)
    score, positive = rng.integers(0, 4, size=30).astype(float), rng.random(30) < 0.4
    drawn = rng.integers(0, 30, size=30)
    weights = np.bincount(drawn, minlength=30)[None]
    assert weighted_auroc(score, positive, weights)[0] == pytest.approx(
        auroc(score[drawn], positive[drawn]))
    counts = bootstrap_weights(30, np.random.default_rng(2), repeats=7)
    assert counts.shape == (7, 30) and (counts.sum(axis=1) == 30).all()


def test_a_pure_noise_score_covers_chance_in_at_least_90_percent_of_cells():
    rng = np.random.default_rng(5)
    covered = 0
    for _ in range(200):  # simulated cells: 300 examples, about 15 % PIEs
        positive = rng.random(300) < 0.15
        noise = rng.random(300)
        low, high = auroc_interval(noise, positive, bootstrap_weights(300, rng, repeats=400))
        covered += low <= 0.5 <= high
    assert covered >= 180, covered


def test_a_score_equal_to_the_pie_indicator_gets_1():
    rng = np.random.default_rng(6)
    positive = rng.random(200) < 0.2
    score = positive.astype(float)
    assert auroc(score, positive) == 1.0
    assert auroc_interval(score, positive, bootstrap_weights(200, rng)) == (1.0, 1.0)
    binned = deciles(score, positive)
    assert binned["pie_rate"][-1] == 1.0  # the hardest tenth: all PIEs (20 % are)


def test_deciles_by_hand_share_tied_runs_out():
    score = np.array([0, 0, 0, 1, 1, 2, 3, 3, 3, 3], dtype=float)
    positive = np.array([1, 0, 0, 1, 1, 0, 0, 1, 1, 1], dtype=bool)
    binned = deciles(score, positive, bins=5)  # 2 examples per bin
    assert binned["n_examples"].to_list() == [2.0] * 5
    # bin 0: two thirds of the 0-run (1 PIE in 3); bin 1: the last third of it and half
    # of the 1-run (both PIEs); bin 2: the other half and the 2; bins 3, 4: the 3-run
    assert binned["n_pies"].to_list() == pytest.approx([2 / 3, 1 / 3 + 1, 1, 1.5, 1.5])
    assert binned["score_low"].to_list() == [0, 0, 1, 3, 3]
    assert binned["score_high"].to_list() == [0, 1, 2, 3, 3]
    plain = deciles(np.arange(20.0), np.arange(20) >= 16)  # no ties: plain deciles
    assert plain["n_examples"].to_list() == [2.0] * 10
    assert plain["pie_rate"].to_list() == [0.0] * 8 + [1.0, 1.0]


def cell_frames(n: int = 200, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A cell's pies (PIEs where the dense vote split) and influence scores: agreement
    (low = hard) that tells PIEs apart, a noise score, and a score with no values."""
    rng = np.random.default_rng(seed)
    agreement = rng.choice([0.6, 0.8, 1.0], size=n)
    is_pie = rng.random(n) < np.where(agreement < 0.7, 0.6, 0.05)
    pies = pl.DataFrame({"split": ["test"] * n, "example_id": np.arange(n), "is_pie": is_pie})
    influence = pl.DataFrame({"split": ["test"] * n, "example_id": np.arange(n),
                              "dense_agreement": agreement, "el2n": rng.random(n),
                              "grand": np.full(n, np.nan)})
    return pies, influence


SCORES = {"el2n": ("high", "early checkpoint (EL2N)"), "grand": ("high", "early checkpoint"),
          "dense_agreement": ("low", "final predictions"),
          "never_learned_share": ("high", "training record")}


def test_one_cell_rows_are_oriented_and_absent_scores_have_none():
    pies, influence = cell_frames()
    table, binned = cell_predictors(pies, influence, SCORES, KEYS, repeats=300)
    assert table["score"].to_list() == ["el2n", "dense_agreement"]  # grand: NaN; no column
    row = table.filter(pl.col("score") == "dense_agreement").row(0, named=True)
    positive = pies["is_pie"].to_numpy()
    assert row["auroc"] == pytest.approx(auroc(-influence["dense_agreement"].to_numpy(),
                                               positive))
    assert row["auroc"] > 0.75 and row["auroc_low"] > 0.5
    assert row["hard"] == "low" and row["source"] == "final predictions"
    assert row["base_pie_share"] == pytest.approx(positive.mean())
    assert row["n_pies"] == positive.sum() and row["n_examples"] == 200
    hardest = binned.filter((pl.col("score") == "dense_agreement") & (pl.col("decile") == 9))
    assert row["top_decile_pie_share"] == hardest["pie_rate"][0]
    assert hardest["score_low"][0] == hardest["score_high"][0] == 0.6  # in its own units
    again, _ = cell_predictors(pies, influence, SCORES, KEYS, repeats=300)
    assert again.equals(table)  # seeded by the cell's keys
    no_pies = pies.with_columns(pl.lit(False).alias("is_pie"))
    empty, _ = cell_predictors(no_pies, influence, SCORES, KEYS, repeats=10)
    assert empty["auroc"].is_null().all() and (empty["n_pies"] == 0).all()


def test_best_predictor_and_its_sentence():
    pies, influence = cell_frames()
    table, _ = cell_predictors(pies, influence, SCORES, KEYS, repeats=300)
    table = table.with_columns(**{k: pl.lit(v) for k, v in KEYS.items()})
    best = best_predictors(table).row(0, named=True)
    assert best["best_predictor"] == "dense_agreement" and best["best_predictor_beats_chance"]
    row = {**KEYS, "split": "test", "n_pies": 40, "pie_share": 0.2, "excess_mean": 1.0,
           "excess_low": 0.5, "excess_high": 2.0, **best,
           "best_predictor_auroc": 0.8123, "best_predictor_auroc_low": 0.75,
           "best_predictor_auroc_high": 0.86, "best_predictor_top_decile_pie_share": 0.55}
    assert ("best predictor of its PIEs: dense_agreement, AUROC 0.81 [0.75, 0.86] (the "
            "10 % hardest by it: 55 % PIEs vs. 20 % of all)") in finding_sentence(row)
    chance = {**row, "best_predictor_auroc_low": 0.45, "best_predictor_beats_chance": False}
    assert ("no difficulty score tells its PIEs apart better than chance (best: "
            "dense_agreement, AUROC 0.81 [0.45, 0.86])") in finding_sentence(chance)
    assert "predict" not in finding_sentence({**row, "best_predictor": None})


def test_the_job_on_imported_generated_answers(tmp_path):
    """Generated answers have neither logits nor losses: only the EL2N-like correctness
    score and the agreement get rows, with the imported file's difficulty source."""
    from prediction_frames import single_label_predictions

    from pieflow.imports.difficulty import FROM_CORRECTNESS, final_difficulty
    from pieflow.labels import LabelKind

    rng = np.random.default_rng(2)
    labels = rng.integers(0, 4, size=60)
    preds = np.where(rng.random((5, 60)) < 0.6, labels, rng.integers(4, 9, size=(5, 60)))
    dense = single_label_predictions(preds, labels).with_columns(
        (pl.col("pred") == pl.col("label")).alias("correct"),
        pl.lit(None, pl.List(pl.Float32)).alias("logits"), pl.lit(None, pl.Float64).alias("loss"))
    influence = final_difficulty(dense, LabelKind.ANSWER, 9)
    path = tmp_path / layout.fill(layout.INFLUENCE, dataset="gsm", model="llm")
    io.write_parquet(influence, path)
    agreement = influence.sort("example_id")["dense_agreement"].to_numpy()
    pies = pl.DataFrame({"split": ["test"] * 60, "example_id": np.arange(60),
                         "is_pie": agreement < 0.7})
    pies_path = tmp_path / "pies.parquet"
    io.write_parquet(pies, pies_path)
    keys = {"dataset": "gsm", "model": "llm", "method": "q", "sparsity": 0}
    summary = tmp_path / "summary.parquet"
    io.write_parquet(pl.DataFrame({**{k: [v] for k, v in keys.items()}, "split": ["test"],
                                   "collapsed": [False], "undertrained": [False]}), summary)
    outputs = {name: str(tmp_path / file) for name, file in (
        ("table", "p.parquet"), ("deciles", "d.parquet"), ("figure", "p.png"))}
    summarise_pie_predictors_job([str(pies_path)], [keys], [str(path)],
                                 [{"dataset": "gsm", "model": "llm"}], str(summary), outputs)
    table = pl.read_parquet(outputs["table"])
    assert table["score"].to_list() == ["el2n", "dense_agreement"]
    assert table.filter(pl.col("score") == "el2n")["source"][0] == FROM_CORRECTNESS
    assert table.filter(pl.col("score") == "dense_agreement")["auroc"][0] == 1.0
    assert pl.read_parquet(outputs["deciles"]).height == 20
    assert (tmp_path / "p.png").stat().st_size > 10_000
