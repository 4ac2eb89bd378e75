"""Imported predictions: every format read from small hand-made files, and every malformed
file refused with a message naming the file and the line (or row)."""

from __future__ import annotations

import json
import math

import numpy as np
import polars as pl
import pytest
from imported_files import lm_eval_line, table_frame, write_csv, write_parquet
from prediction_frames import single_label_predictions

from pieflow import io
from pieflow.analysis.sentences import finding_sentence
from pieflow.config import ConfigError, check_config, imported_cells
from pieflow.diff.nullrate import IMPORTED_MIN_SEEDS, null_rate_table
from pieflow.diff.paired import paired_table
from pieflow.diff.pies import pie_table
from pieflow.diff.populations import paired_populations
from pieflow.imports.difficulty import FROM_ANSWERS, FROM_PROBABILITIES, final_difficulty
from pieflow.imports.files import PredictionsError
from pieflow.imports.job import import_dataset_job, import_predictions_job
from pieflow.imports.reading import class_names, indexed, prediction_rows, read_population
from pieflow.imports.validation import check_population
from pieflow.labels import LabelKind

LM_EVAL = {"name": "x", "format": "lm-eval", "split": "test", "score": "loglikelihood",
           "text_field": None, "classes": None}
TABLE = {**LM_EVAL, "format": "table"}
PIEFLOW = {**LM_EVAL, "format": "pieflow"}


def jsonl(path, lines) -> str:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n"
                            for line in lines))
    return str(path)


def read(paths, reading, seeds=None):
    return read_population(paths, seeds or [None] * len(paths), reading, "imported.x.dense")


def refused(match: str, paths, reading, seeds=None) -> str:
    with pytest.raises(PredictionsError, match=match) as err:
        frame = read(paths, reading, seeds)
        check_population(frame, "imported.x.dense")
        indexed(frame, class_names([frame], reading.get("classes"), reading["format"]))
    return str(err.value)


# --------------------------------------------------------------------------------------
# lm-evaluation-harness samples
# --------------------------------------------------------------------------------------


def test_lm_eval_samples_as_current_and_older_versions_write_them(tmp_path):
    new = jsonl(tmp_path / "new.jsonl", [
        lm_eval_line(0, [-4.0, -1.0, -3.0, -2.0], 1, text="first", acc=1.0),
        lm_eval_line(1, [-1.0, -2.0, -3.0], 2, text="second", acc=0.0)])
    old = jsonl(tmp_path / "old.jsonl", [
        lm_eval_line(0, [-4.0, -1.5, -3.0, -0.5], 1, text="first", old=True),
        lm_eval_line(1, [-3.0, -2.0, -1.0], 2, text="second", old=True)])
    frame = read([new, old], LM_EVAL)
    assert frame.select("seed", "example_id", "label", "pred").rows() == [
        (0, 0, 1, 1), (0, 1, 2, 0), (1, 0, 1, 3), (1, 1, 2, 2)]
    assert frame["text"].to_list() == ["first", "second"] * 2
    assert frame["logits"][1].to_list() == [-1.0, -2.0, -3.0]
    names = class_names([frame], None, "lm-eval")
    assert names == ["choice 0", "choice 1", "choice 2", "choice 3"]
    rows = prediction_rows(indexed(frame, names), 4, "lm-eval")
    assert rows["logits"][1].to_list()[3] == -math.inf  # 3 choices, padded
    assert rows["loss"][0] == pytest.approx(1.0 + np.log(np.exp([-4, -1, -3, -2]).sum()))


def test_lm_eval_target_as_the_answers_text_and_per_character_score(tmp_path):
    choices = ["a cat", "the long answer here"]
    line = lm_eval_line(7, [-6.0, -10.0], "the long answer here", choices=choices)
    path = jsonl(tmp_path / "s.jsonl", [line])
    frame = read([path], LM_EVAL)
    assert frame.select("example_id", "label", "pred").row(0) == (7, 1, 0)
    per_char = read([path], {**LM_EVAL, "score": "loglikelihood_per_char"})
    assert per_char["pred"][0] == 1  # −10 / 20 characters beats −6 / 5 (lm-eval's acc_norm)


def test_lm_eval_mutual_information_requests_are_left_out(tmp_path):
    line = lm_eval_line(0, [-1.0, -2.0, -5.0, -0.1], 0, choices=["x", "y"] * 2)
    line["arguments"]["gen_args_2"]["arg_0"] = line["arguments"]["gen_args_3"]["arg_0"] = ""
    frame = read([jsonl(tmp_path / "s.jsonl", [line])], LM_EVAL)
    assert frame["logits"][0].to_list() == [-1.0, -2.0]


def test_a_text_field_names_the_docs_key(tmp_path):
    line = lm_eval_line(0, [-1.0, -2.0], 0, text="q")
    line["doc"]["ctx"] = "the context"
    path = jsonl(tmp_path / "s.jsonl", [line])
    assert read([path], {**LM_EVAL, "text_field": "ctx"})["text"][0] == "the context"
    refused(r"s\.jsonl, line 1: the doc has no text under 'nope' \(text_field\); its keys: ctx",
            [path], {**LM_EVAL, "text_field": "nope"})


def generate_until(doc_id: int) -> dict:
    return {"doc_id": doc_id, "doc": {"question": "2+2?"}, "target": "4",
            "arguments": {"gen_args_0": {"arg_0": "Q: 2+2?", "arg_1": "{'until': ['\\n']}"}},
            "resps": [["4"]], "filtered_resps": ["4"], "filter": "strict-match",
            "metrics": ["exact_match"], "exact_match": 1.0}


@pytest.mark.parametrize("lines, message", [
    ([lm_eval_line(0, [-1.0, -2.0], 0), '{"doc_id": 1, "target": "0",'],
     r"s\.jsonl, line 2: not valid JSON \(Expecting property name enclosed in double quotes"),
    ([lm_eval_line(0, [-1.0, -2.0], 0), "[1, 2]"], r"s\.jsonl, line 2: expected a JSON object"),
    ([{k: v for k, v in lm_eval_line(0, [-1.0, -2.0], 0).items() if k != "filtered_resps"}],
     r"s\.jsonl, line 1: no 'filtered_resps' field; a samples line of lm-evaluation-harness"),
    ([{**lm_eval_line(0, [-1.0, -2.0], 0), "doc_id": "seven"}],
     r"line 1: doc_id 'seven' is not a whole number"),
    ([{**generate_until(0), "exact_match": 0.5}], r"s\.jsonl, line 1: no 0/1 value under "
     r"'exact_match' \(it holds 0\.5\)"),
    ([lm_eval_line(0, [-1.0], 0)], r"line 1: this looks like a loglikelihood task \(one "
     r"continuation per document, e.g. lambada\)"),
    ([lm_eval_line(0, [-1.0, -2.0], 5)], r"line 1: target '5' is neither a choice's index "
     r"\(0–1\) nor one of its choices \('ending 0 of 0', 'ending 1 of 0'\)"),
    ([lm_eval_line(0, [-1.0, -2.0], "[0, 1]")], r"line 1: target '\[0, 1\]' names several "
     r"right answers"),
    ([lm_eval_line(0, [-1.0, -2.0], 1, acc=1.0)], r"line 1: pieflow reads answer 1 and "
     r"prediction 0, but the line's acc is 1.0"),
])
def test_malformed_samples_are_refused_naming_file_and_line(tmp_path, lines, message):
    refused(message, [jsonl(tmp_path / "s.jsonl", lines)], LM_EVAL)


def test_a_multiple_input_task_is_refused_with_the_supported_kind(tmp_path):
    line = lm_eval_line(0, [-1.0, -2.0], " goes to school", choices=["goes to school"] * 2)
    line["arguments"]["gen_args_1"]["arg_0"] = "another context"
    said = refused(r"line 1: every choice has the same continuation", [jsonl(
        tmp_path / "s.jsonl", [line])], LM_EVAL)
    assert "winogrande" in said and "multiple-choice tasks (output_type" in said


def test_empty_non_utf8_and_several_filters(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n")
    refused(r"empty\.jsonl: the file is empty", [str(tmp_path / "empty.jsonl")], LM_EVAL)
    good = json.dumps(lm_eval_line(0, [-1.0, -2.0], 0)).encode()
    (tmp_path / "latin.jsonl").write_bytes(good + b"\n" + good.replace(b"ending", b"\xe9nd"))
    refused(r"latin\.jsonl, line 2: not valid UTF-8 \(byte 0xe9\)",
            [str(tmp_path / "latin.jsonl")], LM_EVAL)
    lines = [{**lm_eval_line(0, [-1.0, -2.0], 0), "filter": name} for name in ("a", "b")]
    refused(r"lines of several filters \(a, b\)", [jsonl(tmp_path / "f.jsonl", lines)],
            LM_EVAL)
    both = jsonl(tmp_path / "g.jsonl", [{**lm_eval_line(0, [-1.0, -2.0], 0), "filter": name}
                                         for name in ("none", "b")])
    refused(r"lines of several filters \(b, none\); .* choose one with filter:", [both], LM_EVAL)
    assert read([both], {**LM_EVAL, "filter": "none"}).height == 1
    refused(r"no lines of filter 'c' \(filter: in the config\); the file's filters: b, none",
            [both], {**LM_EVAL, "filter": "c"})


# --------------------------------------------------------------------------------------
# Tables and pieflow's own predictions
# --------------------------------------------------------------------------------------


def test_a_csv_with_class_names_and_one_with_indices_and_logits(tmp_path):
    labels, preds = np.array([0, 1, 2]), np.array([[0, 1, 1], [0, 2, 2]])
    names = ["neg", "neu", "pos"]
    csv = write_csv(table_frame(labels, preds, classes=names, example_texts=["a", "b", "c"]),
                    tmp_path / "names.csv")
    frame = read([csv], TABLE)
    assert class_names([frame], None, "table") == names  # sorted names
    assert indexed(frame, names)["pred"].to_list() == [0, 1, 1, 0, 2, 2]
    assert frame["text"].to_list() == ["a", "b", "c"] * 2
    logits = np.eye(3)[preds] * 2.0
    csv = write_csv(table_frame(labels, preds, logits), tmp_path / "logits.csv")
    frame = read([csv], TABLE)
    assert class_names([frame], None, "table") == ["0", "1", "2"]
    assert frame["logits"][4].to_list() == [0.0, 0.0, 2.0]
    parquet = write_parquet(table_frame(labels, preds, logits), tmp_path / "t.parquet")
    assert read([parquet], TABLE).drop("_file").equals(frame.drop("_file"))


@pytest.mark.parametrize("edit, message", [
    (lambda text: text.replace("seed,example_id", "seed,id"),
     r"t\.csv: no column\(s\) \['example_id'\]; it has \['seed', 'id', 'label', 'pred'\]"),
    (lambda text: text.replace("\n1,2,", "\n1,two,"),
     r"t\.csv, column 'example_id': 'two' is not a whole number \(row 6 \(1-based, after the "
     r"header\)\)"),
    (lambda text: text.replace("\n0,1,1,1", "\n0,1,1,"),
     r"t\.csv, column 'pred': no value in row 2 \(1-based, after the header\)"),
    (lambda text: text.replace("\n0,2,2,2", "\n0,2,2,7"),
     r"t\.csv, column 'pred': not one of the 3 classes \(neg, neu, pos\) \(row 3"),
    (lambda text: text.replace("\n1,0,", "\n0,0,"),
     r"t\.csv, row 4 \(1-based, after the header\): example 0 of split test again for seed "
     r"0 \(first at .*t\.csv, row 1"),
])
def test_malformed_tables_are_refused_naming_the_rows(tmp_path, edit, message):
    path = tmp_path / "t.csv"
    write_csv(table_frame(np.array([0, 1, 2]), np.array([[0, 1, 2], [0, 2, 2]])), path)
    path.write_text(edit(path.read_text()))
    refused(message, [str(path)], {**TABLE, "classes": ["neg", "neu", "pos"]})


def test_bad_logits_and_names_with_logits_need_classes(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('seed,example_id,label,pred,logits\n0,0,0,0,"[1, 2]"\n0,1,1,1,"[1, x]"\n')
    refused(r"t\.csv, column 'logits': not a JSON list of numbers in row 2", [str(path)], TABLE)
    path.write_text('seed,example_id,label,pred,logits\n0,0,a,b,"[1, 2]"\n')
    refused(r"t\.csv, labels are class names and the rows have logits: set classes",
            [str(path)], TABLE)


def test_pieflow_predictions_files_single_and_multi_label(tmp_path):
    single = single_label_predictions(np.array([[0, 1], [1, 1]]), np.array([0, 1]),
                                      logits=np.zeros((2, 2, 2)))
    frame = read([write_parquet(single, tmp_path / "p.parquet")], PIEFLOW)
    assert frame.select("seed", "label", "pred").rows() == [(0, 0, 0), (0, 1, 1), (1, 0, 1),
                                                            (1, 1, 1)]
    multi = pl.DataFrame({"seed": [0, 0], "split": ["test"] * 2, "example_id": [1, 2],
                          "labels": [[1, 0, 1], [0, 1, 0]], "preds": [[1, 0, 0], [0, 1, 0]]})
    frame = read([write_parquet(multi, tmp_path / "m.parquet")], PIEFLOW)
    rows = prediction_rows(indexed(frame, ["a", "b", "c"]), 3, "pieflow")
    assert rows.columns == ["seed", "split", "example_id", "labels", "preds", "logits", "loss",
                            "threshold"]
    refused(r"p\.parquet: no column\(s\) \['split'\]", [write_parquet(
        single.drop("split"), tmp_path / "p.parquet")], PIEFLOW)


# --------------------------------------------------------------------------------------
# Seeds and examples across files
# --------------------------------------------------------------------------------------


def test_seeds_from_the_config_the_file_or_the_position(tmp_path):
    one = lambda name, seed: write_csv(  # noqa: E731
        table_frame(np.array([0, 1]), np.array([[0, 1]])).with_columns(pl.lit(seed).alias(
            "seed")), tmp_path / name)
    a, b = one("a.csv", 4), one("b.csv", 4)
    assert read([a, b], TABLE, seeds=[None, 7])["seed"].unique().sort().to_list() == [4, 7]
    refused(r"imported.x.dense: seed 4 comes from both .*a\.csv and .*b\.csv", [a, b], TABLE)
    both = write_csv(table_frame(np.array([0, 1]), np.array([[0, 1], [1, 1]])),
                     tmp_path / "both.csv")
    refused(r"both\.csv holds seeds \[0, 1\]; a seed given with a file applies to a file of "
            "one model", [both], TABLE, seeds=[3])
    lines = [lm_eval_line(0, [-1.0, -2.0], 0)]
    paths = [jsonl(tmp_path / f"s{i}.jsonl", lines) for i in range(3)]
    assert read(paths, LM_EVAL)["seed"].to_list() == [0, 1, 2]
    assert read(paths, LM_EVAL, seeds=[5, 3, 9])["seed"].to_list() == [5, 3, 9]


def test_seeds_covering_different_examples_are_refused(tmp_path):
    first = jsonl(tmp_path / "s0.jsonl", [lm_eval_line(i, [-1.0, -2.0], 0) for i in range(4)])
    second = jsonl(tmp_path / "s1.jsonl", [lm_eval_line(i, [-1.0, -2.0], 0) for i in (0, 3)])
    said = refused(r"imported.x.dense: seed 1 \(.*s1\.jsonl\) has no prediction for 2 examples "
                   r"of split test that other seeds have: example_id 1, 2 \(e.g. seed 0 at "
                   r".*s0\.jsonl, line 2\)", [first, second], LM_EVAL)
    assert "every seed must predict the same examples" in said


def dataset_outputs(tmp_path) -> dict[str, str]:
    names = ("train", "validation", "test", "classes", "meta")
    suffix = {"classes": "json", "meta": "json"}
    return {name: str(tmp_path / "data" / f"{name}.{suffix.get(name, 'parquet')}")
            for name in names}


def entry(dense, compressed, fmt="lm-eval", **extra) -> dict:
    return {**LM_EVAL, "format": fmt, "texts": None, **extra, "populations": [
        {"where": "imported.x.dense", "paths": dense, "seeds": [None] * len(dense)},
        {"where": "imported.x.compressed.q", "paths": compressed,
         "seeds": [None] * len(compressed)}]}


def test_labels_that_disagree_between_dense_and_compressed_files(tmp_path):
    dense = jsonl(tmp_path / "d.jsonl", [lm_eval_line(i, [-1.0, -2.0], 0) for i in range(3)])
    lines = [lm_eval_line(i, [-1.0, -2.0], 1 if i == 2 else 0) for i in range(3)]
    pruned = jsonl(tmp_path / "p.jsonl", lines)
    with pytest.raises(PredictionsError, match=r"p\.jsonl, line 3: label 1 for example 2 \(split "
                       r"test\) disagrees with .*d\.jsonl, line 3, which says 0"):
        import_dataset_job([entry([dense], [pruned])], dataset_outputs(tmp_path))


def test_import_jobs_write_the_data_and_the_cells(tmp_path):
    lines = [lm_eval_line(i, [-1.0, -2.0, -3.0][: 2 + i % 2], i % 2, text=f"text {i}")
             for i in range(4)]
    dense = [jsonl(tmp_path / f"d{s}.jsonl", lines) for s in range(2)]
    pruned = [jsonl(tmp_path / f"p{s}.jsonl", lines[:3]) for s in range(2)]
    outputs = dataset_outputs(tmp_path)
    import_dataset_job([entry(dense, pruned)], outputs)
    test = pl.read_parquet(outputs["test"])
    assert test.columns == ["example_id", "text", "text_pair", "label"]
    assert test["text"].to_list() == [f"text {i}" for i in range(4)]
    assert pl.read_parquet(outputs["train"]).height == 0
    meta = io.read_json(outputs["meta"])
    assert (meta["label_kind"], meta["num_classes"], meta["texts"]) == ("single", 3, True)
    splits = {s: outputs[s] for s in ("train", "validation", "test")}
    cell = {"predictions": str(tmp_path / "dense.parquet"),
            "metrics": str(tmp_path / "dense_metrics.parquet")}
    import_predictions_job(LM_EVAL, "imported.x.dense", dense, [None, None], splits,
                           outputs["classes"], outputs["meta"], cell)
    predictions = pl.read_parquet(cell["predictions"])
    assert predictions.height == 8 and predictions["logits"][0].to_list()[2] == -math.inf
    metrics = pl.read_parquet(cell["metrics"])
    assert metrics["accuracy"].to_list() == [0.5, 0.5] and metrics["sparsity"].is_null().all()
    with pytest.raises(PredictionsError, match=r"imported.x.compressed.q: no prediction for 1 "
                       r"example of split test that the dense population has: example_id 3"):
        import_predictions_job(LM_EVAL, "imported.x.compressed.q", pruned, [None, None],
                               splits, outputs["classes"], outputs["meta"], cell,
                               dense=str(tmp_path / "dense.parquet"))


def test_imported_examples_must_be_the_prepared_datasets(tmp_path):
    """A dataset a trained model uses too: its prepared splits are the reference."""
    outputs = dataset_outputs(tmp_path)
    (tmp_path / "data").mkdir()
    for split in ("train", "validation", "test"):
        io.write_parquet(pl.DataFrame({"example_id": [10, 11], "text": ["a", "b"],
                                       "text_pair": [None, None], "label": [0, 1]},
                                      schema_overrides={"text_pair": pl.String}),
                         outputs[split])
    io.write_json(["neg", "pos"], outputs["classes"])
    io.write_json({"label_kind": "single"}, outputs["meta"])
    splits = {s: outputs[s] for s in ("train", "validation", "test")}
    cell = {"predictions": str(tmp_path / "p.parquet"), "metrics": str(tmp_path / "m.parquet")}
    wrong = write_csv(table_frame(np.array([0, 0]), np.array([[0, 1]]), ids=np.array([10, 11]),
                                  classes=["neg", "pos"]), tmp_path / "wrong.csv")
    with pytest.raises(PredictionsError, match=r"wrong\.csv, column 'label': labels differ from "
                       r"the dataset's prepared splits's \(row 2 \(1-based, after the header\)"):
        import_predictions_job(TABLE, "w", [wrong], [None], splits, outputs["classes"],
                               outputs["meta"], cell)
    unknown = write_csv(table_frame(np.array([0, 1]), np.array([[0, 1]]), ids=np.array([10, 12])),
                        tmp_path / "unknown.csv")
    with pytest.raises(PredictionsError, match=r"unknown\.csv, row 2 \(1-based, after the "
                       r"header\): example_id 12 of split test not in the dataset's prepared"):
        import_predictions_job(TABLE, "w", [unknown], [None], splits, outputs["classes"],
                               outputs["meta"], cell)


# --------------------------------------------------------------------------------------
# What the later stages do with imported populations
# --------------------------------------------------------------------------------------


def test_el2n_like_difficulty_from_final_probabilities_or_answers():
    frame = single_label_predictions(np.array([[0, 1], [0, 0]]), np.array([0, 1]),
                                     logits=np.array([[[0.0, 0.0], [0.0, 0.0]],
                                                      [[0.0, 0.0], [0.0, 0.0]]]))
    frame = frame.with_columns(pl.lit(0.5).alias("loss"))
    table = final_difficulty(frame, LabelKind.SINGLE, 2)
    assert table["el2n"].to_list() == pytest.approx([0.5**0.5] * 2)  # ‖(½, ½) − y‖
    assert set(table["difficulty_source"]) == {FROM_PROBABILITIES}
    table = final_difficulty(frame.with_columns(pl.lit(None, pl.List(pl.Float32))
                                                .alias("logits")), LabelKind.SINGLE, 2)
    assert table["el2n"].to_list() == pytest.approx([0.0, 2**0.5 / 2])  # one of two wrong
    assert table["el2n_std"].to_list() == pytest.approx([0.0, 2**0.5 / 2])
    assert set(table["difficulty_source"]) == {FROM_ANSWERS}


@pytest.mark.parametrize("dense_seeds, pruned_seeds, note", [
    (3, 3, "no null rate: the dense population has 3 < 4 members (flips and McNemar only)"),
    (5, 2, "no null rate: the populations share 2 < 4 seeds"),
    (4, 4, None),
])
def test_imported_cells_get_a_null_rate_from_four_members(dense_seeds, pruned_seeds, note):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 30)
    dense = single_label_predictions(rng.integers(0, 3, (dense_seeds, 30)), labels)
    pruned = single_label_predictions(rng.integers(0, 3, (pruned_seeds, 30)), labels)
    populations = paired_populations(dense, pruned, LabelKind.SINGLE)
    pies = pie_table(populations, 3)
    row = null_rate_table(populations, pies, 3, repeats=20,
                          min_seeds=IMPORTED_MIN_SEEDS).row(0, named=True)
    assert (row["note"] if note is None else row["note"].startswith(note)) in (None, True)
    assert (row["excess_mean"] is None) == (note is not None)
    assert row["n_pies_full"] == pies["is_pie"].sum()
    paired = paired_table(populations, pies, kl=False).row(0, named=True)
    assert math.isnan(paired["kl_mean"]) and paired["n_pairs"] == min(dense_seeds,
                                                                      pruned_seeds)


def test_the_findings_sentence_says_why_there_is_no_null_rate():
    note = "no null rate: the dense population has 3 < 4 members (flips and McNemar only)"
    row = {"dataset": "d", "model": "m", "method": "q", "sparsity": 0, "split": "test",
           "n_pies": 4, "pie_share": 0.1, "null_rate_note": note, "accuracy_change": -0.02,
           "correct_to_wrong": 4, "wrong_to_correct": 0, "mcnemar_p": 0.125}
    assert finding_sentence(row) == (
        f"d · m, q at 0 % on test: 4 PIEs (10.0 %), {note}; accuracy −2.0 points; modal "
        "answers 4 right → wrong, 0 wrong → right (McNemar p = 0.12).")


def test_an_imported_config_is_checked_and_planned(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("d0.jsonl", "d1.jsonl", "c0.jsonl"):
        (tmp_path / name).write_text("{}\n")
    config = {"splits": ["test"], "imported": {"hs": {
        "dataset": "hs", "model": "lm", "format": "lm-eval", "dense": ["d0.jsonl", "d1.jsonl"],
        "compressed": {"gptq": ["c0.jsonl"], "wanda": {"sparsity": 50, "files": [
            {"path": "c0.jsonl", "seed": 1}]}}}}}
    check_config(config)
    dense, compressed = imported_cells({"datasets": {}, **config})
    assert [c.keys() for c in dense] == [{"dataset": "hs", "model": "lm", "method": "dense",
                                          "sparsity": 0}]
    assert [(c.method, c.sparsity) for c in compressed] == [("gptq", 0), ("wanda", 50)]
    config["imported"]["hs"]["dense"][1] = {"path": "d1.jsonl", "seed": 0}
    with pytest.raises(ConfigError, match=r"imported.hs.dense: give every file a seed, or none"):
        check_config(config)


def test_multi_label_pieflow_files_through_the_import_jobs(tmp_path):
    def frame(preds):
        return pl.DataFrame({
            "seed": [s for s in range(2) for _ in range(3)], "split": ["test"] * 6,
            "example_id": [5, 6, 7] * 2, "labels": [[1, 0, 1], [0, 1, 0], [0, 0, 0]] * 2,
            "preds": preds, "logits": [[1.0, -1.0, 1.0]] * 6},
            schema_overrides={"labels": pl.List(pl.Int8), "preds": pl.List(pl.Int8)})
    dense = write_parquet(frame([[1, 0, 1], [0, 1, 0], [0, 0, 0]] * 2), tmp_path / "d.parquet")
    pruned = write_parquet(frame([[1, 0, 0], [0, 1, 0], [0, 0, 0]] * 2), tmp_path / "p.parquet")
    outputs = dataset_outputs(tmp_path)
    import_dataset_job([entry([dense], [pruned], fmt="pieflow")], outputs)
    assert pl.read_parquet(outputs["test"])["labels"].to_list() == [[0, 2], [1], []]
    assert io.read_json(outputs["meta"])["label_kind"] == "multi"
    splits = {s: outputs[s] for s in ("train", "validation", "test")}
    cells = {name: {"predictions": str(tmp_path / f"{name}.parquet.out"),
                    "metrics": str(tmp_path / f"{name}_metrics.parquet")}
             for name in ("dense", "pruned")}
    import_predictions_job(PIEFLOW, "d", [dense], [None], splits, outputs["classes"],
                           outputs["meta"], cells["dense"])
    import_predictions_job(PIEFLOW, "p", [pruned], [None], splits, outputs["classes"],
                           outputs["meta"], cells["pruned"],
                           dense=cells["dense"]["predictions"])
    rows = pl.read_parquet(cells["pruned"]["predictions"])
    assert rows.columns == ["seed", "split", "example_id", "labels", "preds", "logits", "loss",
                            "threshold"]
    metrics = pl.read_parquet(cells["pruned"]["metrics"])
    assert metrics["accuracy"].to_list() == pytest.approx([2 / 3] * 2)
    assert {"micro_f1", "threshold", "sparsity"} <= set(metrics.columns)


def test_no_dataset_with_texts_writes_an_empty_text_table_that_says_so(tmp_path):
    from pieflow.analysis.job import summarise_text_job

    summary = tmp_path / "summary.parquet"
    pl.DataFrame({"dataset": ["d"], "model": ["m"], "method": ["q"], "sparsity": [0],
                  "split": ["test"], "collapsed": [False], "undertrained": [False]}
                 ).write_parquet(summary)
    outputs = {"table": str(tmp_path / "t.parquet"), "table_view": str(tmp_path / "t.html"),
               "figure": str(tmp_path / "t.png")}
    summarise_text_job([], [], [], [], [], [], str(summary), outputs, skipped=["d"])
    assert pl.read_parquet(outputs["table"]).height == 0
    assert "Not analysed (no texts were imported): dataset d." in (tmp_path / "t.html").read_text()
