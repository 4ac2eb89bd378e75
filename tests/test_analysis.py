"""Analysis statistics on small hand-computed cases (pure functions of pieflow.analysis)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import polars as pl
import pytest
from matplotlib.figure import Figure
from prediction_frames import multi_label_predictions, single_label_predictions

from pieflow.analysis import classes, examples, flags, text, tokens
from pieflow.analysis.cells import cell_name, noted_cells
from pieflow.analysis.pies import EARLY_CHECKPOINT, difficulty_source, pie_summary
from pieflow.analysis.plots import accuracy as accuracy_plots
from pieflow.analysis.plots import classes as class_plots
from pieflow.analysis.plots import nullrate as null_rate_plots
from pieflow.analysis.plots import pies as pie_plots
from pieflow.analysis.plots import text as text_plots
from pieflow.analysis.plots import training as training_plots
from pieflow.analysis.plots.common import empty_figure
from pieflow.analysis.views import table_view_html
from pieflow.labels import LabelKind

SINGLE, MULTI = LabelKind.SINGLE, LabelKind.MULTI


# --------------------------------------------------------------------------------------
# Classes
# --------------------------------------------------------------------------------------


def test_one_hot_matrix_of_labels_and_multi_hot_lists():
    frame = pl.DataFrame({"label": [2, 0], "labels": [[0, 1, 1], [1, 0, 0]]})
    np.testing.assert_array_equal(classes.one_hot_matrix(frame, "label", 3, SINGLE),
                                  [[False, False, True], [True, False, False]])
    np.testing.assert_array_equal(classes.one_hot_matrix(frame, "labels", 3, MULTI),
                                  [[False, True, True], [True, False, False]])


def test_class_frequencies_rank_by_count_ties_to_the_lower_class():
    train = pl.DataFrame({"label": [1, 1, 2, 2, 0, 3, 3, 3]})
    table = classes.class_frequencies(train, 4, SINGLE, ["a", "b", "c", "d"])
    assert table["n_train"].to_list() == [1, 2, 2, 3]
    assert table["class_rank"].to_list() == [3, 1, 2, 0]  # d, then b before c (tie), a
    assert table["train_share"].to_list() == pytest.approx([1 / 8, 2 / 8, 2 / 8, 3 / 8])
    assert table["class_name"].to_list() == ["a", "b", "c", "d"]


def test_class_frequencies_count_every_label_of_a_multi_label_example():
    train = pl.DataFrame({"labels": [[0, 1], [1], [1], []]})  # class indices, as in data/
    table = classes.class_frequencies(train, 2, MULTI)
    assert table["n_train"].to_list() == [1, 3]
    assert table["class_rank"].to_list() == [1, 0]
    assert table["class_name"].to_list() == ["0", "1"]


def test_single_label_class_scores_are_per_class_recall_over_seeds():
    labels = np.array([0, 0, 1, 1, 1])
    preds = np.array([[0, 1, 1, 1, 0],    # seed 0: class 0 1/2, class 1 2/3
                      [0, 0, 0, 0, 1]])   # seed 1: class 0 2/2, class 1 1/3
    table = classes.class_scores(single_label_predictions(preds, labels), 3, SINGLE)
    assert table["measure"].unique().to_list() == ["accuracy"]
    by_class = {row["class"]: row for row in table.iter_rows(named=True)}
    assert by_class[0]["score_mean"] == pytest.approx(0.75)
    assert by_class[0]["score_std"] == pytest.approx(np.std([0.5, 1.0], ddof=1))
    assert by_class[1]["score_mean"] == pytest.approx(0.5)
    assert by_class[1]["score_std"] == pytest.approx(np.std([2 / 3, 1 / 3], ddof=1))
    assert by_class[2]["score_mean"] is None  # class absent from the split
    assert by_class[0]["n_seeds"] == 2


def test_multi_label_class_scores_are_per_class_f1():
    labels = np.array([[1, 0], [1, 1], [0, 0]])
    preds = np.array([
        [[1, 0], [0, 1], [1, 0]],  # class 0: tp 1, fp 1, fn 1 → 0.5; class 1: tp 1 → 1.0
        [[1, 0], [1, 0], [0, 0]],  # class 0: tp 2 → 1.0; class 1: fn 1 → 0.0
    ])
    table = classes.class_scores(multi_label_predictions(preds, labels), 2, MULTI)
    assert table["measure"].unique().to_list() == ["f1"]
    assert table.sort("class")["score_mean"].to_list() == pytest.approx([0.75, 0.5])


def test_multi_label_f1_of_a_class_nobody_has_or_predicts_is_zero():
    labels = np.array([[1, 0], [1, 0]])
    preds = np.array([[[1, 0], [1, 0]], [[1, 0], [0, 0]]])
    table = classes.class_scores(multi_label_predictions(preds, labels), 2, MULTI).sort("class")
    assert table["score_mean"].to_list() == pytest.approx([(1 + 2 / 3) / 2, 0.0])


def test_class_accuracy_adds_frequencies_and_orders_rows_by_rank():
    labels = np.array([1, 1, 0])
    preds = np.array([[1, 0, 0], [1, 1, 1]])
    frequencies = classes.class_frequencies(pl.DataFrame({"label": [1, 1, 0]}), 2, SINGLE,
                                            ["neg", "pos"])
    table = classes.class_accuracy(single_label_predictions(preds, labels), 2, frequencies,
                                   SINGLE)
    assert table["class_name"].to_list() == ["pos", "neg"]  # most frequent first
    assert table["n_examples"].to_list() == [2, 1]
    assert table["class_share"].to_list() == pytest.approx([2 / 3, 1 / 3])
    assert table["score_mean"].to_list() == pytest.approx([0.75, 0.5])


def single_label_pies() -> pl.DataFrame:
    return pl.DataFrame({
        "split": ["test"] * 6,
        "example_id": list(range(6)),
        "label": [0, 0, 0, 0, 1, 2],
        "dense_modal": [0, 0, 1, 0, 1, 2],
        "pruned_modal": [0, 1, 0, 0, 2, 2],
        "is_pie": [False, True, True, False, True, False],
    })


def test_pie_class_distribution_single_label_by_hand():
    frequencies = classes.class_frequencies(pl.DataFrame({"label": [0, 0, 1, 2, 2]}), 3, SINGLE,
                                            ["a", "b", "c"])
    table = classes.pie_class_distribution(single_label_pies(), 3, frequencies, SINGLE)
    rows = {row["class_name"]: row for row in table.iter_rows(named=True)}
    # 3 PIEs: two of class a (ids 1, 2), one of class b (id 4)
    assert rows["a"]["n_examples"] == 4 and rows["a"]["n_pies"] == 2
    assert rows["a"]["pie_share"] == pytest.approx(2 / 3)
    assert rows["a"]["class_share"] == pytest.approx(4 / 6)
    assert rows["a"]["over_representation"] == pytest.approx(1.0)
    assert rows["a"]["pie_rate"] == pytest.approx(0.5)
    assert rows["b"]["over_representation"] == pytest.approx((1 / 3) / (1 / 6))
    assert rows["c"]["n_pies"] == 0 and rows["c"]["pie_rate"] == 0
    # dense votes on the PIEs: 0, 1, 1; pruned: 1, 0, 2
    assert [rows[c]["n_pies_dense_votes"] for c in "abc"] == [1, 2, 0]
    assert [rows[c]["n_pies_pruned_votes"] for c in "abc"] == [1, 1, 1]
    assert [rows[c]["n_flipped"] for c in "abc"] == [2, 3, 1]
    assert table["class_name"].to_list() == ["a", "c", "b"]  # by training frequency


def test_pie_class_distribution_multi_label_counts_every_class_and_flip():
    pies = pl.DataFrame({
        "split": ["test"] * 3,
        "example_id": [0, 1, 2],
        "labels": [[1, 1], [1, 0], [0, 1]],
        "dense_modal": [[1, 1], [1, 0], [0, 1]],
        "pruned_modal": [[1, 0], [0, 0], [0, 1]],
        "is_pie": [True, True, False],
    })
    frequencies = classes.class_frequencies(pl.DataFrame({"labels": [[0, 1], [0]]}), 2, MULTI,
                                            ["x", "y"])
    table = classes.pie_class_distribution(pies, 2, frequencies, MULTI).sort("class")
    assert table["n_examples"].to_list() == [2, 2]
    assert table["n_pies"].to_list() == [2, 1]
    assert table["pie_share"].to_list() == pytest.approx([1.0, 0.5])  # shares of 2 PIEs
    assert table["n_flipped"].to_list() == [1, 1]
    assert table["n_pies_dense_votes"].to_list() == [2, 1]
    assert table["n_pies_pruned_votes"].to_list() == [1, 0]


def test_a_split_without_pies_has_no_pie_share():
    pies = single_label_pies().with_columns(pl.lit(False).alias("is_pie"))
    frequencies = classes.class_frequencies(pl.DataFrame({"label": [0, 1, 2]}), 3, SINGLE)
    table = classes.pie_class_distribution(pies, 3, frequencies, SINGLE)
    assert table["pie_share"].null_count() == 3
    assert table["over_representation"].null_count() == 3


# --------------------------------------------------------------------------------------
# Flags: collapsed and undertrained
# --------------------------------------------------------------------------------------


def test_accuracy_with_flags_judges_dense_by_the_same_rule():
    accuracy = pl.DataFrame({
        "dataset": ["d"] * 4, "model": ["m"] * 4, "method": ["control", "dense", "imp", "imp"],
        "sparsity": [0, 0, 50, 90], "split": ["test"] * 4,
        "accuracy_mean": [0.9, 0.405, 0.8, 0.4],
    })
    summary = pl.DataFrame({
        "dataset": ["d"] * 3, "model": ["m"] * 3, "method": ["control", "imp", "imp"],
        "sparsity": [0, 50, 90], "split": ["test"] * 3, "majority_share": [0.4] * 3,
        "collapsed": [False, False, True], "undertrained": [True, False, False],
    })
    table = flags.accuracy_with_flags(accuracy, summary).sort("method", "sparsity")
    assert table["method"].to_list() == ["control", "dense", "imp", "imp"]
    assert table["collapsed"].to_list() == [False, True, False, True]  # 0.405 ≤ 0.4 + 0.01
    assert table["undertrained"].to_list() == [True, False, False, False]  # dense: never
    assert table["majority_share"].to_list() == [0.4] * 4
    flagged = flags.with_flags(accuracy, summary).sort("method", "sparsity")
    assert flagged["collapsed"].to_list() == [False, None, False, True]
    assert flagged["undertrained"].to_list() == [True, None, False, False]


def test_with_flags_unless_empty_keeps_a_table_without_rows_as_it_is():
    summary = pl.DataFrame({"dataset": ["d"], "model": ["m"], "method": ["imp"],
                            "sparsity": [50], "split": ["test"], "collapsed": [True],
                            "undertrained": [False]})
    assert flags.with_flags_unless_empty(pl.DataFrame(), summary).columns == []
    table = pl.DataFrame({"dataset": ["d"], "model": ["m"], "method": ["imp"],
                          "sparsity": [50], "split": ["test"]})
    assert flags.with_flags_unless_empty(table, summary).equals(
        flags.with_flags(table, summary))


def test_difficulty_source_defaults_to_the_early_checkpoint():
    assert difficulty_source(None) == EARLY_CHECKPOINT
    assert difficulty_source(pl.Series([], dtype=pl.String)) == EARLY_CHECKPOINT
    assert difficulty_source(pl.Series(["final answers", "final answers"])) == "final answers"


def test_cells_are_named_with_their_notes():
    table = pl.DataFrame({"dataset": ["d", "d"], "model": ["m", "m"], "method": ["imp", "q"],
                          "sparsity": [50, 0], "split": ["test", "test"],
                          "note": [None, "imported without a null rate"]})
    assert cell_name("d", "m", "imp", 50, "test") == "d · m imp 50 % (test)"
    assert noted_cells(table) == " d · m q 0 % (test): imported without a null rate."
    assert noted_cells(table.drop("note")) == ""


def _seed_predictions(correct_per_seed: list[int], n: int = 10) -> pl.DataFrame:
    """Seed s right on its first ``correct_per_seed[s]`` of ``n`` examples (labels 0, 1, …)."""
    return pl.DataFrame([
        {"seed": s, "split": "test", "example_id": i, "label": i % 2,
         "pred": i % 2 if i < k else 1 - i % 2}
        for s, k in enumerate(correct_per_seed) for i in range(n)])


@pytest.mark.parametrize(("correct", "expected"), [
    ((9, 9), True),    # gain 0.90 − 0.70 = 0.20 > std 0.1414
    ((8, 9), True),    # gain 0.15 > 0.1414
    ((8, 8), False),   # gain 0.10: within seed noise
    ((5, 5), False),   # a loss is never undertrained
])
def test_undertrained_when_the_gain_exceeds_the_dense_seeds_std(correct, expected):
    dense = _seed_predictions([6, 8])  # accuracy 0.6, 0.8: mean 0.7, std √0.02 = 0.1414
    pies = pl.DataFrame({"split": ["test"] * 10, "example_id": list(range(10)),
                         "label": [i % 2 for i in range(10)], "is_pie": [False] * 10,
                         "tie": [False] * 10})
    row = pie_summary(pies, dense, _seed_predictions(list(correct)), SINGLE).row(0, named=True)
    assert row["dense_accuracy_std"] == pytest.approx(0.02 ** 0.5)
    assert row["dense_accuracy_on_all"] == pytest.approx(0.7)
    assert row["undertrained"] is expected
    assert row["collapsed"] is (sum(correct) / 20 <= 0.5 + 0.01)  # majority share 0.5


# --------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------


def test_joined_text_appends_the_pair():
    data = pl.DataFrame({"text": ["a b", "c", None], "text_pair": [None, "d", "e"]})
    assert text.joined_text(data).to_list() == ["a b", "c d", " e"]
    assert text.joined_text(data.drop("text_pair")).to_list() == ["a b", "c", ""]


class SpaceTokenizer:
    """A stand-in tokenizer: one token per space-separated word, 2 special tokens."""

    def __call__(self, texts, pairs=None, **_):
        ids = [t.split() + (pairs[i].split() if pairs else []) for i, t in enumerate(texts)]
        return {"input_ids": ids}

    def num_special_tokens_to_add(self, pair=False):
        return 3 if pair else 2


def test_token_counts_are_untruncated_and_flag_what_the_model_cut():
    data = pl.DataFrame({"example_id": [5, 6], "text": ["a b c", "a"],
                         "text_pair": [None, None]})
    counts = tokens.token_counts(SpaceTokenizer(), data, max_length=4)
    assert counts["n_tokens"].to_list() == [3, 1]
    assert counts["truncated"].to_list() == [True, False]  # 3 + 2 specials > 4
    paired = data.with_columns(pl.Series("text_pair", ["d", "e f"]))
    counts = tokens.token_counts(SpaceTokenizer(), paired, max_length=6)
    assert counts["n_tokens"].to_list() == [4, 3]
    assert counts["truncated"].to_list() == [True, False]  # 7 > 6, 6 ≤ 6 (3 specials)


def test_text_comparison_per_split_with_hand_computed_effects():
    pies = pl.DataFrame({"split": ["test"] * 4 + ["train"] * 4,
                         "example_id": [0, 1, 2, 3] * 2,
                         "is_pie": [True, True, False, False, False, True, False, True]})
    features = pl.DataFrame({"split": ["test"] * 4 + ["train"] * 4,
                             "example_id": [0, 1, 2, 3] * 2,
                             "n_words": [3, 4, 1, 2, 3, 4, 1, 2],
                             "mean_zipf": [1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0]})
    table = text.text_comparison(pies, features)
    rows = {(r["split"], r["feature"]): r for r in table.iter_rows(named=True)}
    assert rows[("test", "n_words")]["rank_biserial"] == pytest.approx(1.0)  # U = 4 of 4
    assert rows[("test", "mean_zipf")]["rank_biserial"] == pytest.approx(-1.0)
    # train: PIEs {4, 2} vs {3, 1} on n_words → U = 3, 2·3/4 − 1 = 0.5
    assert rows[("train", "n_words")]["rank_biserial"] == pytest.approx(0.5)
    assert rows[("train", "n_words")]["median_pies"] == 3.0
    assert table.columns[:2] == ["split", "feature"]
    assert set(table["split"]) == {"test", "train"}


def test_holm_over_table_uses_every_test_as_one_family():
    table = pl.DataFrame({"p_value": [0.01, 0.04, 0.03, None]})
    adjusted = text.holm_over_table(table)
    assert adjusted.name == "p_holm_all"
    assert adjusted.to_list()[:3] == pytest.approx([0.03, 0.06, 0.06])
    assert adjusted.is_nan().to_list()[3]


# --------------------------------------------------------------------------------------
# Example PIEs
# --------------------------------------------------------------------------------------


def test_pie_examples_take_the_most_agreed_on_pies_with_class_names():
    pies = single_label_pies().with_columns(
        pl.Series("pruned_agreement", [1.0, 0.6, 0.9, 1.0, 0.9, 1.0]),
        pl.Series("dense_agreement", [1.0, 1.0, 0.5, 1.0, 0.8, 1.0]),
        pl.lit(False).alias("tie"),
        (pl.col("dense_modal") == pl.col("label")).alias("dense_correct"),
        (pl.col("pruned_modal") == pl.col("label")).alias("pruned_correct"),
    )
    data = pl.DataFrame({"split": ["test"] * 6, "example_id": list(range(6)),
                         "text": [f"text {i}" for i in range(6)], "text_pair": [None] * 6})
    influence = pl.DataFrame({"split": ["test"] * 6, "example_id": list(range(6)),
                              "el2n": [0.1 * i for i in range(6)]})
    table = examples.pie_examples(pies, data, ["neg", "neu", "pos"], SINGLE, influence, k=2)
    # PIEs 1 (0.6), 2 (0.9, dense 0.5), 4 (0.9, dense 0.8): top 2 are 4 then 2
    assert table["example_id"].to_list() == [4, 2]
    assert table["rank"].to_list() == [0, 1]
    assert table["text"].to_list() == ["text 4", "text 2"]
    assert table["label_name"].to_list() == ["neu", "neg"]
    assert table["dense_modal_name"].to_list() == ["neu", "neu"]
    assert table["pruned_modal_name"].to_list() == ["pos", "neg"]
    assert table["el2n"].to_list() == pytest.approx([0.4, 0.2])
    assert table["flipped_class_names"].null_count() == 2


def test_pie_examples_multi_label_names_every_class_on():
    pies = pl.DataFrame({
        "split": ["test"] * 2, "example_id": [0, 1],
        "labels": [[1, 1, 0], [0, 0, 1]], "dense_modal": [[1, 0, 0], [0, 0, 1]],
        "pruned_modal": [[0, 0, 0], [0, 1, 1]], "is_pie": [True, True],
        "dense_agreement": [1.0, 1.0], "pruned_agreement": [1.0, 0.9], "tie": [False, False],
        "dense_correct": [False, True], "pruned_correct": [False, False],
        "flipped_classes": [[0], [1]],
    })
    data = pl.DataFrame({"split": ["test"] * 2, "example_id": [0, 1], "text": ["a", "b"]})
    table = examples.pie_examples(pies, data, ["earn", "acq", "crude"], MULTI)
    assert table["label_name"].to_list() == ["earn, acq", "crude"]
    assert table["dense_modal_name"].to_list() == ["earn", "crude"]
    assert table["pruned_modal_name"].to_list() == ["(none)", "acq, crude"]
    assert table["flipped_class_names"].to_list() == ["earn", "acq"]
    assert table["text_pair"].null_count() == 2 and table["el2n"].null_count() == 2


# --------------------------------------------------------------------------------------
# Report views
# --------------------------------------------------------------------------------------


def test_table_view_escapes_text_and_shades_flagged_rows():
    frame = pl.DataFrame({"text": ["<b>bold</b> & co", "fine", "a", "b"],
                          "x": [0.123456, None, 1.0, 2.0],
                          "collapsed": [True, None, False, True],
                          "undertrained": [False, None, True, True]})
    page = table_view_html(frame, "A <title>", "what it shows", source="t.parquet")
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in page and "<b>bold" not in page
    assert page.count('<tr class="collapsed">') == 2  # collapsed wins over undertrained
    assert page.count('<tr class="undertrained">') == 1
    assert "collapsed cells red, undertrained cells amber" in page
    assert "0.1235" in page and "—" in page
    assert "A &lt;title&gt;" in page and "t.parquet" in page
    long = table_view_html(pl.DataFrame({"a": list(range(10))}), "t", max_rows=3)
    assert "first 3 of 10 rows" in long and long.count("<tr>") == 4  # header + 3


# --------------------------------------------------------------------------------------
# Figures: returned (titled), never written
# --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _close_figures():
    """The figures these tests draw are never written (nor closed by a job)."""
    yield
    plt.close("all")


def _title(figure: Figure) -> str:
    return figure.get_suptitle()


def test_empty_figure_says_why_there_is_nothing_to_show():
    figure = empty_figure("Loss by EL2N", "no test results")
    assert isinstance(figure, Figure)
    assert _title(figure) == "Loss by EL2N"
    assert [t.get_text() for t in figure.axes[0].texts] == ["no test results"]
    assert not figure.axes[0].axison


EMPTY_PLOTS = {
    "accuracy": (accuracy_plots.plot_accuracy, "test accuracy"),
    "pie_share": (pie_plots.plot_pie_share, "PIEs on the test split"),
    "pie_accuracy": (pie_plots.plot_pie_accuracy, "Accuracy on PIEs"),
    "el2n": (pie_plots.plot_el2n_bins, "Loss by EL2N"),
    "null_rate": (null_rate_plots.plot_null_rate, "PIEs vs. the null"),
    "class_accuracy": (class_plots.plot_class_accuracy, "Per-class accuracy"),
    "pie_classes": (class_plots.plot_pie_classes, "PIE classes"),
    "text": (text_plots.plot_text_effects, "Text features of PIEs"),
}


@pytest.mark.parametrize("name", EMPTY_PLOTS)
def test_every_plot_of_a_table_without_test_rows_returns_a_figure_saying_so(name):
    plot, title = EMPTY_PLOTS[name]
    only_train = pl.DataFrame({"split": ["train"], "null_mean": [0.1]})
    figure = plot(only_train)
    assert isinstance(figure, Figure)
    assert _title(figure) == title
    assert [t.get_text() for t in figure.axes[0].texts] == ["no test results"]


def test_training_curves_of_no_population_return_a_figure_saying_so():
    figure = training_plots.plot_training_curves(pl.DataFrame())
    assert _title(figure) == "Training curves"
    assert [t.get_text() for t in figure.axes[0].texts] == ["no trained populations"]


def test_accuracy_figure_has_one_titled_panel_per_dataset_and_model():
    table = pl.DataFrame({
        "dataset": ["d"] * 4 + ["e"] * 2, "model": ["m"] * 6,
        "method": ["dense", "imp", "imp", "control", "dense", "imp"],
        "sparsity": [0, 50, 90, 0, 0, 50], "split": ["test"] * 6,
        "accuracy_mean": [0.8, 0.78, 0.4, 0.82, 0.7, 0.69],
        "accuracy_std": [0.01] * 6, "majority_share": [0.4] * 4 + [0.5] * 2,
        "collapsed": [False, False, True, False, False, False],
        "undertrained": [False] * 6,
    })
    figure = accuracy_plots.plot_accuracy(table)
    assert isinstance(figure, Figure)
    assert _title(figure) == "Test accuracy by sparsity (mean ± std over seeds)"
    assert [ax.get_title() for ax in figure.axes] == ["d · m", "e · m"]
    assert figure.axes[0].get_ylabel() == "test accuracy (%)"
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert "imp" in legend and "majority class" in legend
    assert any(label.startswith("control") for label in legend)
