"""Findings: hand-computed rows, verdicts and the sentences that read them
(pieflow.analysis.findings, pieflow.analysis.sentences)."""

from __future__ import annotations

import polars as pl
import pytest

from pieflow.analysis import findings
from pieflow.analysis.cells import SORT_KEYS
from pieflow.analysis.findings import findings_table, strongest_text_effects, verdict_expr
from pieflow.analysis.sentences import finding_sentence, p_value_text

KEYS = {"dataset": "d", "model": "m", "split": "test"}
CELLS = [("imp", 50), ("mp-ai", 90), ("control", 0)]  # imp: iterative, has a control


def frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([{**KEYS, **row} for row in rows])


@pytest.fixture
def tables() -> dict[str, pl.DataFrame]:
    accuracy = frame([
        {"method": "dense", "sparsity": 0, "n_seeds": 4, "accuracy_mean": 0.80},
        {"method": "control", "sparsity": 0, "n_seeds": 4, "accuracy_mean": 0.85},
        {"method": "imp", "sparsity": 50, "n_seeds": 4, "accuracy_mean": 0.788},
        {"method": "mp-ai", "sparsity": 90, "n_seeds": 4, "accuracy_mean": 0.40},
    ])
    summary = frame([
        {"method": m, "sparsity": s, "n_examples": 400, "n_pies": n, "pie_share": share,
         "n_ties": ties, "dense_accuracy_std": 0.02, "dense_accuracy_on_pies": 0.81,
         "pruned_accuracy_on_pies": 0.12, "top_el2n_pie_share": 0.3, "collapsed": c,
         "undertrained": u}
        for (m, s), n, share, ties, c, u in zip(
            CELLS, (70, 30, 5), (0.175, 0.075, 0.0125), (2, 30, 0), (False, True, False),
            (False, False, True), strict=True)])
    null_rate = frame([
        {"method": m, "sparsity": s, "excess_mean": mean, "excess_low": low,
         "excess_high": high, "excess_share_mean": mean / 400, "population_size": 5}
        for (m, s), (mean, low, high) in zip(
            CELLS, ((31.4, 13.9, 52.0), (20.0, -1.0, 40.0), (12.0, 3.0, 20.0)), strict=True)])
    text = frame([
        {"method": "imp", "sparsity": 50, "feature": f, "rank_biserial": r, "p_holm": p}
        for f, r, p in (("rare_word_share", 0.31, 0.01), ("n_tokens", -0.45, 0.2),
                        ("n_words", -0.35, 0.04))] + [
        {"method": "mp-ai", "sparsity": 90, "feature": "n_words", "rank_biserial": 0.9,
         "p_holm": 0.5}])
    paired = frame([
        {"method": m, "sparsity": s, "correct_to_wrong": b, "wrong_to_correct": c,
         "mcnemar_p": p, "kl_mean": 0.1, "top1_agreement": 0.9}
        for (m, s), b, c, p in zip(CELLS, (27, 200, 3), (5, 10, 2), (0.003, 1e-9, 0.5),
                                   strict=True)])
    vs_control = frame([{"method": "imp", "sparsity": 50, "excess_mean": 19.4,
                         "excess_low": 5.0, "excess_high": 30.0}])
    return {"accuracy": accuracy, "summary": summary, "null_rate": null_rate, "text": text,
            "paired": paired, "vs_control": vs_control}


def rows_by_method(table: pl.DataFrame) -> dict[str, dict]:
    return {row["method"]: row for row in table.iter_rows(named=True)}


def test_findings_rows_by_hand(tables):
    table = findings_table(**tables)
    assert table.columns == list(findings.COLUMNS)
    rows = rows_by_method(table)
    assert set(rows) == {"imp", "mp-ai", "control"}

    imp = rows["imp"]
    assert imp["dense_accuracy"] == 0.80 and imp["pruned_accuracy"] == 0.788
    assert imp["accuracy_change"] == pytest.approx(-0.012)
    assert imp["tie_share"] == pytest.approx(2 / 400)
    assert (imp["control_excess_mean"], imp["control_excess_low"],
            imp["control_excess_high"]) == (12.0, 3.0, 20.0)  # the model's control vs dense
    assert (imp["vs_control_excess_mean"], imp["vs_control_excess_low"],
            imp["vs_control_excess_high"]) == (19.4, 5.0, 30.0)
    assert imp["strongest_text_effect"] == "n_words: PIEs lower (r = −0.35)"  # |−0.45|: p 0.2
    assert (imp["correct_to_wrong"], imp["wrong_to_correct"], imp["mcnemar_p"]) == (27, 5,
                                                                                   0.003)
    assert not any(imp[f] for f in ("collapsed", "undertrained", "small_population",
                                    "few_pies", "many_ties"))
    assert imp["verdict"] == "PIE effect beyond seed noise"
    assert imp["finding"] == (
        "d · m, imp at 50 % on test: 70 PIEs (17.5 %), 31.4 [13.9, 52.0] beyond the "
        "dense-vs-dense null; on them the pruned population is right 12 % of the time vs. "
        "81 % for the dense one; accuracy −1.2 points; modal answers 27 right → wrong, "
        "5 wrong → right (McNemar p = 0.003); extra training alone gives 12.0 [3.0, 20.0]; "
        "against the control (same budget), 19.4 [5.0, 30.0].")

    mp_ai = rows["mp-ai"]  # not iterative: no control columns
    assert all(mp_ai[f"{p}_excess_{s}"] is None for p in ("control", "vs_control")
               for s in ("mean", "low", "high"))
    assert mp_ai["strongest_text_effect"] == "none"  # large, but not significant
    assert mp_ai["collapsed"] and mp_ai["many_ties"]  # 30 / 400 = 7.5 % > 5 %
    assert mp_ai["verdict"] == "unreliable: collapsed"
    assert "extra training" not in mp_ai["finding"].split("Warning")[0]
    assert "McNemar p < 0.001" in mp_ai["finding"]

    control = rows["control"]
    assert control["undertrained"] and control["few_pies"]
    assert control["control_excess_mean"] is None  # its own excess is in excess_*
    assert control["strongest_text_effect"] == "none"
    assert control["verdict"] == "unreliable: undertrained"
    assert control["finding"].startswith(
        "d · m, control (same training budget, unpruned) on test: 5 changed answers "
        "(1.2 %), 12.0 [3.0, 20.0] beyond the dense-vs-dense null; on them the control "
        "population is right 12 % of the time vs. 81 % for the dense one; accuracy "
        "+5.0 points;")
    assert "Warnings: undertrained — the control beats the dense models by 5.0 points, " \
           "more than the dense seeds' standard deviation (2.0)" in control["finding"]


def test_findings_without_iterative_cells_or_paired_files(tables):
    tables["vs_control"] = pl.DataFrame()
    tables["paired"] = pl.DataFrame()
    tables["text"] = pl.DataFrame()
    table = findings_table(**tables)
    assert table.height == 3
    assert table["vs_control_excess_mean"].null_count() == 3
    assert table["control_excess_mean"].null_count() == 3  # no comparison: nothing to join
    assert table["mcnemar_p"].null_count() == 3
    assert set(table["strongest_text_effect"]) == {"none"}


def test_the_findings_page_names_effects_verdicts_and_what_was_skipped(tables):
    table = findings_table(**tables).with_columns(
        pl.when(pl.col("method") == "mp-ai").then(pl.lit("imported without logits"))
        .alias("null_rate_note"))
    view = findings.findings_view(table)
    assert view.columns[:7] == [*SORT_KEYS, "verdict", "finding"]
    assert sorted(view.columns) == sorted(table.columns)
    assert findings.effect_cells(table) == "d · m imp 50 % (test)"
    assert findings.effect_cells(table.filter(pl.col("method") != "imp")) == "none"
    more = pl.concat([table.filter(pl.col("method") == "imp").with_columns(
        pl.lit(s).alias("sparsity")) for s in (50, 70, 80)])
    assert findings.effect_cells(more, limit=2) == (
        "d · m imp 50 % (test), d · m imp 70 % (test), and 1 more")
    assert findings.verdict_counts(table) == (
        "1 row: PIE effect beyond seed noise; 1 row: unreliable: collapsed; "
        "1 row: unreliable: undertrained")
    skipped = findings.skipped_text(table, ["x", "y"])
    assert skipped == (" Skipped: 1 row — imported without logits: d · m mp-ai 90 % (test); "
                       "text analysis of datasets x, y (no texts were imported).")
    assert findings.skipped_text(table.with_columns(pl.lit(None, pl.String).alias(
        "null_rate_note")), []) == ""
    description = findings.findings_description(table, ["x", "y"])
    assert description.startswith(
        "1 of 3 rows show a PIE effect beyond seed noise: d · m imp 50 % (test). All "
        "verdicts: 1 row: PIE effect beyond seed noise;")
    assert description.endswith(skipped)
    assert "All verdicts: no rows." in findings.findings_description(table.clear())


@pytest.mark.parametrize(("low", "high", "collapsed", "undertrained", "vs_control", "expected"), [
    (0.5, 9.0, False, False, None, "PIE effect beyond seed noise"),
    (0.0, 9.0, False, False, None, "no PIE effect beyond seed noise"),  # 0 is inside
    (-3.0, 2.0, False, False, None, "no PIE effect beyond seed noise"),
    (-9.0, -0.5, False, False, None, "fewer PIEs than seed noise"),
    (0.5, 9.0, True, True, None, "unreliable: collapsed"),  # collapse wins
    (-9.0, -0.5, None, True, None, "unreliable: undertrained"),
    (float("nan"), float("nan"), False, False, None, "no null rate"),  # NaN is not > 0
    # iterative cells: the effect must also hold against the same-budget control
    (0.5, 9.0, False, False, -19.0, "no PIE effect beyond extra training"),
    (0.5, 9.0, False, False, 0.0, "no PIE effect beyond extra training"),
    (0.5, 9.0, False, False, 2.0, "PIE effect beyond seed noise"),
    (-3.0, 2.0, False, False, 2.0, "no PIE effect beyond seed noise"),
])
def test_verdict_rule(low, high, collapsed, undertrained, vs_control, expected):
    row = pl.DataFrame({"excess_low": [low], "excess_high": [high],
                        "collapsed": [collapsed], "undertrained": [undertrained],
                        "vs_control_excess_low": [vs_control]},
                       schema_overrides={"collapsed": pl.Boolean,
                                         "vs_control_excess_low": pl.Float64})
    assert row.select(verdict_expr()).item() == expected


def test_strongest_text_effect_is_the_largest_significant_one():
    text = frame([
        {"method": "imp", "sparsity": 50, "feature": "a", "rank_biserial": 0.2, "p_holm": 0.01},
        {"method": "imp", "sparsity": 50, "feature": "b", "rank_biserial": 0.6,
         "p_holm": float("nan")},  # untestable: never chosen
        {"method": "imp", "sparsity": 50, "feature": "c", "rank_biserial": 0.31,
         "p_holm": 0.049},
    ])
    effects = strongest_text_effects(text)
    assert effects["strongest_text_effect"].to_list() == ["c: PIEs higher (r = 0.31)"]


# --------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------

BASE = {
    "dataset": "tweets", "model": "bilstm", "method": "imp", "sparsity": 50, "split": "test",
    "n_seeds": 5, "n_pies": 71, "pie_share": 0.178, "excess_mean": 31.4, "excess_low": 13.9,
    "excess_high": 52.0, "pruned_accuracy_on_pies": 0.12, "dense_accuracy_on_pies": 0.81,
    "accuracy_change": -0.012, "dense_accuracy_std": 0.02, "correct_to_wrong": 40,
    "wrong_to_correct": 11, "mcnemar_p": 0.003, "population_size": 5, "tie_share": 0.0,
    "collapsed": False, "undertrained": False, "small_population": False, "few_pies": False,
    "many_ties": False,
}
HEAD = ("tweets · bilstm, imp at 50 % on test: 71 PIEs (17.8 %), 31.4 [13.9, 52.0] beyond the "
        "dense-vs-dense null; on them the pruned population is right 12 % of the time vs. "
        "81 % for the dense one; accuracy −1.2 points; modal answers 40 right → wrong, "
        "11 wrong → right (McNemar p = 0.003)")


def test_sentence_of_a_real_effect():
    assert finding_sentence(BASE) == HEAD + "."


def test_sentence_of_no_effect_reads_the_interval_across_zero():
    row = {**BASE, "n_pies": 12, "pie_share": 0.03, "excess_mean": 0.4, "excess_low": -6.0,
           "excess_high": 7.5, "mcnemar_p": 0.42, "accuracy_change": 0.003}
    sentence = finding_sentence(row)
    assert "12 PIEs (3.0 %), 0.4 [−6.0, 7.5] beyond the dense-vs-dense null" in sentence
    assert "accuracy +0.3 points" in sentence and "McNemar p = 0.42" in sentence
    assert "Warning" not in sentence


def test_sentence_of_a_collapsed_cell_warns():
    row = {**BASE, "collapsed": True}
    assert finding_sentence(row) == HEAD + (
        ". Warning: collapsed — the pruned models do no better than always answering the "
        "majority class, so these PIEs are mostly its other classes.")


def test_sentence_of_an_undertrained_cell_cites_gain_and_spread():
    row = {**BASE, "undertrained": True, "accuracy_change": 0.05}
    assert finding_sentence(row).endswith(
        "Warning: undertrained — the pruned models beat the dense ones by 5.0 points, more "
        "than the dense seeds' standard deviation (2.0), so these PIEs mix in extra "
        "training.")
    with_control = {**row, "control_excess_mean": 12.0, "control_excess_low": 3.0,
                    "control_excess_high": 20.0, "vs_control_excess_mean": -1.0,
                    "vs_control_excess_low": -8.0, "vs_control_excess_high": 6.0}
    sentence = finding_sentence(with_control)
    assert ("; extra training alone gives 12.0 [3.0, 20.0]; against the control (same "
            "budget), −1.0 [−8.0, 6.0].") in sentence
    assert sentence.endswith("mix in extra training; read the comparison against the "
                             "control.")


def test_sentence_with_few_pies_small_population_and_ties_lists_every_warning():
    row = {**BASE, "n_pies": 1, "pie_share": 0.0025, "excess_mean": 0.5, "excess_low": -1.0,
           "excess_high": 1.0, "population_size": 2, "small_population": True,
           "few_pies": True, "many_ties": True, "tie_share": 0.09, "n_seeds": 4}
    sentence = finding_sentence(row)
    assert sentence.startswith("tweets · bilstm, imp at 50 % on test: 1 PIE (0.2 %)")
    assert sentence.endswith(
        " Warnings: only 2 seeds per population in the null draws (< 5): its intervals are "
        "unreliable; use at least 10 seeds; only 1 PIE (< 10): too few to say what they "
        "are; 9.0 % of the examples have a tied vote, broken towards the lowest class; 4 "
        "seeds is even: an odd number avoids ties of two-class and multi-label votes.")
    odd = finding_sentence({**row, "n_seeds": 5})
    assert "broken towards the lowest class." in odd and "even" not in odd


def test_sentence_without_pies_or_null_rate_skips_what_it_cannot_say():
    row = {**BASE, "n_pies": 0, "pie_share": 0.0, "pruned_accuracy_on_pies": None,
           "dense_accuracy_on_pies": None, "excess_mean": float("nan"),
           "excess_low": float("nan"), "excess_high": float("nan"), "mcnemar_p": None}
    sentence = finding_sentence(row)
    assert sentence == ("tweets · bilstm, imp at 50 % on test: 0 PIEs (0.0 %), no null rate "
                        "to compare with; accuracy −1.2 points.")
    assert finding_sentence({**row, "few_pies": True}) == sentence  # "0 PIEs" says it


def test_p_values_are_written_at_a_readable_precision():
    assert [p_value_text(p) for p in (1e-6, 0.0031, 0.0499, 0.5)] == [
        "p < 0.001", "p = 0.003", "p = 0.05", "p = 0.50"]


def test_findings_name_the_best_predictor_of_each_row(tables):
    predictors = frame([
        {"method": m, "sparsity": s, "score": score, "auroc": a, "auroc_low": low,
         "auroc_high": high, "top_decile_pie_share": top}
        for (m, s), rows in zip(CELLS[:2], (
            (("el2n", 0.62, 0.55, 0.69, 0.3), ("dense_agreement", 0.81, 0.76, 0.86, 0.6)),
            (("el2n", 0.52, 0.44, 0.60, 0.1), ("dense_loss", 0.49, 0.41, 0.57, 0.1))),
            strict=True)
        for score, a, low, high, top in rows])
    rows = rows_by_method(findings_table(**tables, predictors=predictors))
    imp, mp_ai, control = rows["imp"], rows["mp-ai"], rows["control"]
    assert (imp["best_predictor"], imp["best_predictor_auroc"]) == ("dense_agreement", 0.81)
    assert imp["best_predictor_beats_chance"]
    assert ("best predictor of its PIEs: dense_agreement, AUROC 0.81 [0.76, 0.86] (the 10 % "
            "hardest by it: 60 % PIEs vs. 18 % of all)") in imp["finding"]
    assert mp_ai["best_predictor"] == "el2n" and not mp_ai["best_predictor_beats_chance"]
    assert ("no difficulty score tells its PIEs apart better than chance (best: el2n, "
            "AUROC 0.52 [0.44, 0.60])") in mp_ai["finding"]
    assert control["best_predictor"] is None and "predict" not in control["finding"]
