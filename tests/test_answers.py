"""Generated answers (lm-evaluation-harness ``generate_until`` tasks) through the pipeline.

A member's answer is its filtered response, its correctness the line's metric (the
``correct`` column), which may call an answer right that differs from the target's text
("$19" for 19). Hand-computed cases of the label kind, the modal answers, the PIEs (a
change from one wrong answer to another is a change; two right answers are one), the
paired statistics, the null rate (excess exactly 0 when nothing changes, however many
distinct answers), and the import, diff, difficulty and analysis jobs on tidy rows as the
lm-eval reader gives them.
"""

from __future__ import annotations

import math
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
import pytest

from pieflow import io, layout
from pieflow.analysis import job as analysis
from pieflow.analysis.classes import (
    CLASS_ACCURACY_SCHEMA,
    NO_CLASS_LIST,
    class_accuracy,
    pie_class_distribution,
)
from pieflow.analysis.pies import pie_summary
from pieflow.analysis.plots.classes import plot_class_accuracy
from pieflow.diff.job import diff_cell
from pieflow.diff.nullrate import excess_over_null, null_and_pie_draws
from pieflow.diff.paired import paired_table
from pieflow.diff.pies import pie_table
from pieflow.diff.populations import paired_populations, pooled_answers
from pieflow.imports import reading
from pieflow.imports.difficulty import FROM_CORRECTNESS, final_difficulty
from pieflow.imports.files import PredictionsError
from pieflow.imports.job import (
    import_dataset_job,
    import_predictions_job,
    imported_difficulty_job,
)
from pieflow.labels import LabelKind, answer_ranks, label_kind_of, modal_answers
from pieflow.layout import Cell
from pieflow.predict.metrics import metrics_frame

ANSWER = LabelKind.ANSWER
SQRT2 = math.sqrt(2)

# Sorted as text, the answers' ids: "$19" 0, "12" 1, "19" 2, "7" 3, "8" 4, "[invalid]" 5
NAMES = ["$19", "12", "19", "7", "8", "[invalid]"]
TARGETS = ["19", "12", "7", "19"]
# seeds × examples; (answer, correct) — "$19" is right for 19 (exact_match ignores "$")
DENSE = [[("19", True), ("7", False), ("7", True), ("19", True)],
         [("19", True), ("7", False), ("7", True), ("12", False)],
         [("$19", True), ("12", True), ("8", False), ("12", False)]]
PRUNED = [[("$19", True), ("8", False), ("8", False), ("19", True)],
          [("$19", True), ("8", False), ("[invalid]", False), ("19", True)],
          [("8", False), ("7", False), ("7", True), ("12", False)]]


def answer_predictions(members, targets=TARGETS, names=NAMES, split="test",
                       seeds=None) -> pl.DataFrame:
    """(seeds × examples) (answer, correct) pairs as predictions.parquet rows."""
    ids = {name: i for i, name in enumerate(names)}
    rows = [{"seed": seed if seeds is None else seeds[seed], "split": split, "example_id": i,
             "label": ids[targets[i]], "pred": ids[answer], "correct": correct,
             "logits": None, "loss": None}
            for seed, answers in enumerate(members)
            for i, (answer, correct) in enumerate(answers)]
    return pl.DataFrame(rows, schema={
        "seed": pl.Int64, "split": pl.String, "example_id": pl.Int64, "label": pl.Int64,
        "pred": pl.Int64, "correct": pl.Boolean, "logits": pl.List(pl.Float32),
        "loss": pl.Float64})


def populations(dense=DENSE, pruned=PRUNED):
    return paired_populations(answer_predictions(dense).drop("logits"),
                              answer_predictions(pruned).drop("logits"), ANSWER)


# --------------------------------------------------------------------------------------
# The label kind and modal answers
# --------------------------------------------------------------------------------------


def test_a_correct_column_makes_generated_answers_scored_by_it():
    frame = pl.DataFrame({"label": [2, 2, 1], "pred": [0, 2, 1],
                          "correct": [True, True, False]})
    assert label_kind_of(frame) is ANSWER
    assert label_kind_of(frame.drop("correct")) is LabelKind.SINGLE
    assert ANSWER.prediction_columns == ("label", "pred", "correct")
    assert not ANSWER.has_classes and LabelKind.SINGLE.has_classes
    # "$19" (id 0) is right for 19 (id 2); the third row's metric says wrong
    assert frame.select(ANSWER.correct_expr()).to_series().to_list() == [1.0, 1.0, 0.0]
    assert frame.select(LabelKind.SINGLE.correct_expr()).to_series().to_list() == [0.0, 1.0,
                                                                                    1.0]


def test_modal_answers_with_ties_go_to_the_lowest_id():
    preds = np.array([[7, 100, 5], [100, 100, 3], [7, 5, 3], [100, 9, 5]])
    ranks, count = answer_ranks(preds)
    assert ranks[:, 0].tolist() == [0, 1, 0, 1] and count == 3  # per example, order kept
    modal, tie, agreement = modal_answers(preds)
    # 7,100,7,100 → tie → 7; 100,100,5,9 → 100; 5,3,3,5 → tie → 3
    assert modal.tolist() == [7, 100, 3]
    assert tie.tolist() == [True, False, True]
    assert agreement.tolist() == [0.5, 0.5, 0.5]


def test_modal_answers_of_many_distinct_answers_match_counting():
    rng = np.random.default_rng(0)
    preds = rng.integers(0, 10**9, size=(7, 3000))
    preds[:4, ::2] = preds[0, ::2]  # every other example: a 4-vote majority
    modal, tie, agreement = modal_answers(preds)
    for column in (0, 1, 2, 2999):
        counts = Counter(preds[:, column].tolist())
        top = max(counts.values())
        assert modal[column] == min(a for a, n in counts.items() if n == top)
        assert tie[column] == (sum(n == top for n in counts.values()) > 1)
        assert agreement[column] == top / 7
    assert (modal[::2] == preds[0, ::2]).all()


# --------------------------------------------------------------------------------------
# PIEs, paired statistics, null rate
# --------------------------------------------------------------------------------------


def test_pies_of_answers_hand_computed():
    pies = pie_table(populations(), len(NAMES)).sort("example_id")
    # ex 0: dense 19,19,$19 (all right) vs pruned $19,$19,8: both modal answers right,
    #       the same answer ("$19" is the target's) — no PIE although "$19" ≠ "19";
    # ex 1: dense 7,7,12 → 7 (wrong) vs pruned 8,8,7 → 8 (wrong): wrong → other wrong, a PIE;
    # ex 2: pruned 8,[invalid],7 is a three-way tie → the lowest id, 7 (right): no PIE;
    # ex 3: dense 19,12,12 → 12 (wrong) vs pruned 19,19,12 → 19 (right): a PIE
    assert pies["dense_modal"].to_list() == [2, 3, 3, 1]
    assert pies["pruned_modal"].to_list() == [2, 4, 3, 2]
    assert pies["is_pie"].to_list() == [False, True, False, True]
    assert pies["tie"].to_list() == [False, False, True, False]
    assert pies["dense_correct"].to_list() == [True, False, True, False]
    assert pies["pruned_correct"].to_list() == [True, False, True, True]
    assert pies["dense_agreement"].to_list() == pytest.approx([1, 2 / 3, 2 / 3, 2 / 3])
    assert pies["pruned_agreement"].to_list() == pytest.approx([2 / 3, 2 / 3, 1 / 3, 2 / 3])
    assert pies["label"].to_list() == [2, 1, 3, 2]


def test_correctness_comes_from_the_metric_not_from_the_answers_text():
    # every model answers "$19" to 19: right by the metric, and the modal answer is right
    members = [[("$19", True)]] * 3
    pies = pie_table(paired_populations(answer_predictions(members, ["19"]),
                                        answer_predictions(members, ["19"]), ANSWER), 6)
    assert pies["dense_correct"].to_list() == [True]
    # the same answer scored wrong by another metric run: wrong
    wrong = [[("$19", False)]] * 3
    pies = pie_table(paired_populations(answer_predictions(wrong, ["19"]),
                                        answer_predictions(wrong, ["19"]), ANSWER), 6)
    assert pies["dense_correct"].to_list() == [False]
    with pytest.raises(ValueError, match="equals the target but is scored wrong"):
        pooled_answers(answer_predictions([[("19", False)]], ["19"]))


def test_paired_statistics_compare_the_metrics_correctness():
    pops = populations()
    pies = pie_table(pops, len(NAMES))
    row = paired_table(pops, pies, kl=False).row(0, named=True)
    # modal: ex 3 goes wrong → right; nothing right → wrong; mid-p of (0, 1) is ½
    assert (row["correct_to_wrong"], row["wrong_to_correct"]) == (0, 1)
    assert row["mcnemar_p"] == pytest.approx(0.5)
    # per twin pair, by each model's `correct` (seed 0's "$19" on ex 0 is right):
    # seed 0: c→w {ex 2}; seed 1: c→w {ex 2}, w→c {ex 3}; seed 2: c→w {ex 0, 1}, w→c {ex 2}
    assert row["pair_correct_to_wrong"] == pytest.approx(4 / 3)
    assert row["pair_wrong_to_correct"] == pytest.approx(2 / 3)
    # same answer (two right answers are the same): seed 0 2/4, seed 1 1/4, seed 2 1/4
    assert row["top1_agreement"] == pytest.approx(1 / 3)
    assert math.isnan(row["kl_mean"]) and row["n_pairs"] == 3


def test_seed_accuracies_on_pies_read_the_correct_column():
    pops = populations()
    pies = pie_table(pops, len(NAMES))
    summary = pie_summary(pies, answer_predictions(DENSE), answer_predictions(PRUNED),
                          ANSWER).row(0, named=True)
    assert summary["n_pies"] == 2 and summary["n_ties"] == 1
    assert summary["dense_accuracy_on_all"] == pytest.approx((3 / 4 + 2 / 4 + 2 / 4) / 3)
    assert summary["pruned_accuracy_on_all"] == pytest.approx((2 / 4 + 2 / 4 + 1 / 4) / 3)
    assert summary["dense_accuracy_on_pies"] == pytest.approx((1 / 2 + 0 + 1 / 2) / 3)
    assert summary["pruned_accuracy_on_pies"] == pytest.approx((1 / 2 + 1 / 2 + 0) / 3)


def random_answers(rng, seeds: int, examples: int, distinct: int):
    """Answer ids with thousands of distinct values; right exactly where = the label."""
    labels = rng.integers(0, distinct, examples)
    preds = np.where(rng.random((seeds, examples)) < 0.4, labels,
                     rng.integers(0, distinct, (seeds, examples)))
    return preds, labels


def test_a_compression_that_changes_nothing_has_excess_exactly_zero():
    rng = np.random.default_rng(1)
    preds, labels = random_answers(rng, 6, 400, 5000)
    seeds = np.arange(6)
    result = excess_over_null(preds, preds.copy(), ANSWER, 10**9, repeats=50, seed=0,
                              dense_seeds=seeds, pruned_seeds=seeds)
    assert result.null_mean > 0  # seed noise alone changes modal answers
    assert (result.excess_mean, result.excess_low, result.excess_high) == (0.0, 0.0, 0.0)


def test_the_null_of_answers_is_the_single_label_null_on_the_same_ids():
    """Renumbering each example's answers keeps every draw's counts."""
    rng = np.random.default_rng(2)
    dense, _ = random_answers(rng, 8, 300, 5)
    pruned, _ = random_answers(rng, 8, 300, 5)
    seeds = np.arange(8)
    kwargs = dict(dense_seeds=seeds, pruned_seeds=seeds)
    single = null_and_pie_draws(dense, pruned, LabelKind.SINGLE, 5, 30,
                                np.random.default_rng(0), **kwargs)
    answer = null_and_pie_draws(dense * 1000 + 7, pruned * 1000 + 7, ANSWER, 0, 30,
                                np.random.default_rng(0), **kwargs)
    assert single[0].tolist() == answer[0].tolist()
    assert single[1].tolist() == answer[1].tolist()


# --------------------------------------------------------------------------------------
# Metrics, difficulty, per-class tables
# --------------------------------------------------------------------------------------


def test_metrics_of_answers_are_the_metrics_accuracy_without_macro_f1():
    metrics = metrics_frame(answer_predictions(DENSE), len(NAMES), ANSWER)
    assert metrics["accuracy"].to_list() == [0.75, 0.5, 0.5]
    assert metrics.schema["macro_f1"] == pl.Float64 and metrics["macro_f1"].is_null().all()


def test_difficulty_of_answers_is_the_share_of_dense_models_wrong():
    table = final_difficulty(answer_predictions(DENSE), ANSWER, len(NAMES)).sort("example_id")
    # wrong: ex 0 none, ex 1 two of three, ex 2 one, ex 3 two
    assert table["el2n"].to_list() == pytest.approx([0, SQRT2 * 2 / 3, SQRT2 / 3,
                                                     SQRT2 * 2 / 3])
    assert set(table["difficulty_source"]) == {FROM_CORRECTNESS}
    assert table["dense_loss"].is_null().all() and table["grand"].is_nan().all()


def test_per_class_tables_have_no_rows_for_answers():
    pies = pie_table(populations(), len(NAMES))
    assert class_accuracy(answer_predictions(DENSE), len(NAMES), pl.DataFrame(),
                          ANSWER).height == 0
    table = pie_class_distribution(pies, len(NAMES), pl.DataFrame(), ANSWER)
    assert table.height == 0 and {"class", "n_pies", "over_representation"} <= set(
        table.columns)


def test_class_figures_name_the_datasets_of_answers_they_leave_out():
    empty = pl.DataFrame(schema=CLASS_ACCURACY_SCHEMA)
    figure = plot_class_accuracy(empty, skipped=["gsm"])
    said = " ".join(t.get_text() for ax in figure.axes for t in ax.texts)
    assert "do not apply to free-text answers" in said and "gsm" in said
    plt.close(figure)


# --------------------------------------------------------------------------------------
# The jobs, from the rows the lm-eval reader gives
# --------------------------------------------------------------------------------------

# Sorted as text the answers are "$19" 0, "10" 1, "100" 2, "19" 3, "7" 4, "8" 5,
# "[invalid]" 6: "19" is an answer, never the index 19 (there are 7 answers).
E2E_NAMES = ["$19", "10", "100", "19", "7", "8", "[invalid]"]
E2E_TARGETS = ["19", "7", "100", "10", "7", "19"]


def reader_rows(answers: list[str], correct: list[bool]) -> pl.DataFrame:
    """One samples file of a generate_until task, as the lm-eval reader returns it."""
    n = len(answers)
    return pl.DataFrame({
        "_row": range(1, n + 1), "example_id": range(n), "label": E2E_TARGETS[:n],
        "pred": answers, "logits": [None] * n, "text": [f"question {i}" for i in range(n)],
        "correct": correct, "seed": [None] * n, "split": [None] * n, "text_pair": [None] * n,
    }, schema_overrides={"_row": pl.Int64, "example_id": pl.Int64,
                         "logits": pl.List(pl.Float64), "seed": pl.Int64,
                         "split": pl.String, "text_pair": pl.String})


def scored(answers: list[str]) -> tuple[list[str], list[bool]]:
    """Answers with exact_match's verdict: right when equal to the target, "$" ignored."""
    return answers, [a.lstrip("$") == t for a, t in zip(answers, E2E_TARGETS, strict=True)]


DENSE_FILES = {f"d{s}.jsonl": scored(a) for s, a in enumerate([
    ["19", "7", "100", "8", "7", "19"], ["19", "7", "100", "10", "8", "19"],
    ["$19", "7", "10", "8", "7", "19"], ["19", "8", "100", "10", "7", "19"]])}
PRUNED_FILES = {f"q{s}.jsonl": scored(a) for s, a in enumerate([
    ["19", "8", "100", "[invalid]", "7", "19"], ["19", "8", "10", "8", "7", "19"],
    ["19", "7", "10", "[invalid]", "8", "19"], ["$19", "8", "10", "[invalid]", "7", "19"]])}
READING = {"name": "gsm", "format": "lm-eval", "split": "test", "score": "loglikelihood",
           "text_field": None, "classes": None}


@pytest.fixture
def files(monkeypatch) -> dict[str, tuple[list[str], list[bool]]]:
    """The files the import reads, by path: the reader is replaced by their rows."""
    given = {**DENSE_FILES, **PRUNED_FILES}
    monkeypatch.setattr(reading, "read_file", lambda path, _: reader_rows(*given[path]))
    return given


def import_answers(tmp_path):
    """The import jobs on both populations: the results tree's data and cell files."""
    def tree(template: str, **keys: object) -> str:
        return str(tmp_path / layout.fill(template, **keys))

    data = {split: tree(layout.DATA_SPLIT, dataset="gsm", split=split)
            for split in ("train", "validation", "test")}
    outputs = {**data, "classes": tree(layout.CLASSES, dataset="gsm"),
               "meta": tree(layout.DATA_META, dataset="gsm")}
    entry = {**READING, "texts": None, "populations": [
        {"where": "imported.gsm.dense", "paths": list(DENSE_FILES), "seeds": [None] * 4},
        {"where": "imported.gsm.compressed.q", "paths": list(PRUNED_FILES),
         "seeds": [None] * 4}]}
    import_dataset_job([entry], outputs)
    cells: dict[str, dict[str, str]] = {}
    for cell, names in ((Cell.dense("gsm", "llm"), DENSE_FILES),
                        (Cell("gsm", "llm", "q", 0), PRUNED_FILES)):
        dense = cells["dense"]["predictions"] if cells else None
        cells[cell.method] = {name: str(tmp_path / cell.path(f"{name}.parquet")) for name in
                              ("predictions", "metrics", "pies", "null_rate", "paired")}
        import_predictions_job(READING, f"imported.gsm.{cell.method}", list(names),
                               [None] * 4, data, outputs["classes"], outputs["meta"],
                               cells[cell.method], dense=dense)
    return tree, outputs, cells


def test_the_import_jobs_write_answers_as_ids_with_their_correctness(tmp_path, files):
    _, outputs, cells = import_answers(tmp_path)
    assert io.read_json(outputs["classes"]) == E2E_NAMES  # every target and answer, sorted
    meta = io.read_json(outputs["meta"])
    assert (meta["label_kind"], meta["num_classes"], meta["texts"]) == ("answer", 7, True)
    test = pl.read_parquet(outputs["test"])
    assert test["label"].to_list() == [3, 4, 2, 1, 4, 3] and test.schema["label"] == pl.Int64
    assert test["text"].to_list() == [f"question {i}" for i in range(6)]
    predictions = pl.read_parquet(cells["dense"]["predictions"])
    assert predictions.columns == ["seed", "split", "example_id", "label", "pred", "correct",
                                   "logits", "loss"]
    assert predictions.schema["correct"] == pl.Boolean
    assert predictions["logits"].is_null().all() and predictions["loss"].is_null().all()
    seed2 = predictions.filter(pl.col("seed") == 2).sort("example_id")
    assert seed2["pred"].to_list() == [0, 4, 1, 5, 4, 3]  # "$19", "7", "10", "8", "7", "19"
    assert seed2["correct"].to_list() == [True, True, False, False, True, True]
    metrics = pl.read_parquet(cells["dense"]["metrics"]).sort("seed")
    assert metrics["accuracy"].to_list() == pytest.approx([5 / 6, 5 / 6, 4 / 6, 5 / 6])
    assert metrics["macro_f1"].is_null().all() and metrics["sparsity"].is_null().all()


def test_an_answer_scored_two_ways_is_refused(tmp_path, files):
    answers, correct = PRUNED_FILES["q1.jsonl"]
    files["q1.jsonl"] = (answers, [False, *correct[1:]])  # "19" to 19, scored wrong
    with pytest.raises(PredictionsError, match=r"q1\.jsonl, column 'correct': an answer "
                       r"equal to its target is scored wrong .*\(line 1\)"):
        import_answers(tmp_path)
    files["q1.jsonl"] = (["$19", *answers[1:]], [False, *correct[1:]])  # q3 scores it right
    with pytest.raises(PredictionsError, match=r"q3\.jsonl, line 1: answer '\$19' to example "
                       r"0 \(split test\) is scored right, but wrong at q1\.jsonl, line 1"):
        import_answers(tmp_path)
    files["q3.jsonl"] = (["19", *files["q3.jsonl"][0][1:]], files["q3.jsonl"][1])
    with pytest.raises(PredictionsError, match=r"q1\.jsonl, column 'correct': an answer is "
                       r"scored otherwise than the same answer in the dense population"):
        import_answers(tmp_path)  # dense seed 2 scores "$19" right


def test_classes_do_not_apply_to_answers(files):
    frame = reading.read_population(list(DENSE_FILES), [None] * 4, READING, "d")
    assert label_kind_of(frame) is ANSWER
    assert reading.class_names([frame], None, "lm-eval") == E2E_NAMES[:6]  # no [invalid]
    with pytest.raises(PredictionsError, match="generated answers have no fixed class list"):
        reading.class_names([frame], ["19", "7"], "lm-eval")


def test_answers_through_diff_difficulty_and_analysis(tmp_path, files):
    tree, outputs, cells = import_answers(tmp_path)
    q = cells["q"]
    diff_cell(cells["dense"]["predictions"], q["predictions"], outputs["classes"],
              outputs["meta"], q["pies"], q["null_rate"], q["paired"], repeats=20, seed=0,
              confidence=0.95, min_seeds=4)
    pies = pl.read_parquet(q["pies"]).sort("example_id")
    # ex 0: 19,19,$19,19 vs 19,19,19,$19 — every answer right: one modal answer (19);
    # ex 1: 7 (3 of 4) vs 8: right → wrong; ex 2: 100 vs 10: right → wrong;
    # ex 3: dense 8,10,8,10 tie → "10" (the lower id, right) vs [invalid]: right → wrong;
    # ex 4: 7 vs 7; ex 5: 19 vs 19
    assert pies["is_pie"].to_list() == [False, True, True, True, False, False]
    assert pies["dense_modal"].to_list() == [3, 4, 2, 1, 4, 3]
    assert pies["pruned_modal"].to_list() == [3, 5, 1, 6, 4, 3]
    assert pies["tie"].to_list() == [False, False, False, True, False, False]
    paired = pl.read_parquet(q["paired"]).row(0, named=True)
    assert (paired["correct_to_wrong"], paired["wrong_to_correct"]) == (3, 0)
    null_rate = pl.read_parquet(q["null_rate"]).row(0, named=True)
    assert null_rate["note"] is None and null_rate["population_size"] == 2
    assert null_rate["n_pies_full"] == 3

    influence = tree(layout.INFLUENCE, dataset="gsm", model="llm")
    imported_difficulty_job(cells["dense"]["predictions"], outputs["classes"], outputs["meta"],
                            influence)
    difficulty = pl.read_parquet(influence).sort("example_id")
    assert difficulty["el2n"].to_list() == pytest.approx(
        [0, SQRT2 / 4, SQRT2 / 4, SQRT2 / 2, SQRT2 / 4, 0])
    assert set(difficulty["difficulty_source"]) == {FROM_CORRECTNESS}

    def analysed(name: str) -> str:
        return tree(layout.analysis_file(name))

    keys, model = Cell("gsm", "llm", "q", 0).keys(), {"dataset": "gsm", "model": "llm"}
    summary = analysed("pies.parquet")
    analysis.summarise_pies_job(
        pies=[q["pies"]], pruned=[q["predictions"]], cells=[keys],
        dense=[cells["dense"]["predictions"]], influence=[influence], models=[model],
        meta=[outputs["meta"]], datasets=["gsm"], outputs={
            "summary": summary, "el2n_bins": analysed("el2n_bins.parquet"),
            "pie_figure": analysed("pie_share.png"), "el2n_figure": analysed("el2n.png")})
    row = pl.read_parquet(summary).row(0, named=True)
    assert row["n_pies"] == 3 and row["difficulty_source"] == FROM_CORRECTNESS
    assert row["dense_accuracy_on_all"] == pytest.approx(19 / 24)
    assert row["dense_accuracy_on_pies"] == pytest.approx((2 + 3 + 1 + 2) / 12)

    populations = [Cell.dense("gsm", "llm").keys(), keys]
    analysis.summarise_classes_job(
        predictions=[cells["dense"]["predictions"], q["predictions"]], cells=populations,
        pies=[q["pies"]], pie_cells=[keys], train=[outputs["train"]],
        classes=[outputs["classes"]], meta=[outputs["meta"]], datasets=["gsm"],
        summary=summary, outputs={
            "class_accuracy": analysed("class_accuracy.parquet"),
            "class_accuracy_view": analysed("class_accuracy.html"),
            "class_accuracy_figure": analysed("class_accuracy.png"),
            "pie_classes": analysed("pie_classes.parquet"),
            "pie_classes_view": analysed("pie_classes.html"),
            "pie_classes_figure": analysed("pie_classes.png")})
    for name in ("class_accuracy", "pie_classes"):
        table = pl.read_parquet(analysed(f"{name}.parquet"))
        assert table.height == 0
        assert {"dataset", "class", "collapsed", "undertrained"} <= set(table.columns)
        view = (tmp_path / layout.analysis_file(f"{name}.html")).read_text()
        assert (f"This table {NO_CLASS_LIST}: dataset gsm (generated answers) has no rows."
                in view)

    analysis.summarise_pie_examples_job(
        pies=[q["pies"]], cells=[keys], texts=[outputs["test"]],
        text_keys=[{"dataset": "gsm", "split": "test"}], classes=[outputs["classes"]],
        meta=[outputs["meta"]], datasets=["gsm"], influence=[influence], models=[model],
        summary=summary, outputs={"table": analysed("pie_examples.parquet")}, k=3)
    examples = pl.read_parquet(analysed("pie_examples.parquet"))
    assert examples.select("label_name", "dense_modal_name", "pruned_modal_name").rows() == [
        ("7", "7", "8"), ("100", "100", "10"), ("10", "10", "[invalid]")]
    assert examples["text"].to_list() == ["question 1", "question 2", "question 3"]
