"""lm-evaluation-harness samples as the real tool writes them (tests/lmeval_fixtures/: the
real ``lm_eval`` 0.4.13 on SmolLM2-135M and its int8 twin, two few-shot seeds, a
multiple-choice and a generate_until task; plus a 0.4.2-style JSON-array copy), read
through pieflow's lm-eval reader: every layout, output folders and globs, filters,
generated answers and the prompt checks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from pieflow.imports.checks import problems
from pieflow.imports.files import PredictionsError, locate_samples
from pieflow.imports.prompts import check_documents, check_twins, identical_draws
from pieflow.imports.reading import read_population

FIXTURES = Path(__file__).resolve().parent / "lmeval_fixtures"
NEW = FIXTURES / "v0.4.13"
MC, GEN = "pieflow_sums_mc", "pieflow_sums_gen"
READING = {"name": "x", "format": "lm-eval", "split": "test", "score": "loglikelihood",
           "text_field": None, "classes": None}


def run_folder(seed: int, model: str) -> Path:
    return NEW / f"fewshot-seed{seed}" / model


def samples_file(seed: int, model: str, task: str) -> str:
    return locate_samples(str(run_folder(seed, model)), task)


def lm_eval_score(seed: int, model: str, task: str, metric: str) -> float:
    """What lm_eval itself printed for the run (its results_<date>.json)."""
    date = Path(samples_file(seed, model, task)).stem.rsplit("_", 1)[1]
    results = json.loads((run_folder(seed, model) / f"results_{date}.json").read_text())
    return results["results"][task][metric]


def read(paths, reading=READING, seeds=None) -> pl.DataFrame:
    return read_population([str(p) for p in paths], seeds or [None] * len(paths), reading,
                           "imported.x.dense")


@pytest.mark.parametrize("model", ["smollm2-dense", "smollm2-int8"])
@pytest.mark.parametrize("seed", [0, 1])
def test_multiple_choice_accuracy_is_lm_evals_own(seed, model):
    frame = read([samples_file(seed, model, MC)])
    assert frame.height == 12 and frame.get_column("example_id").to_list() == list(range(12))
    for score, metric in (("loglikelihood", "acc,none"),
                          ("loglikelihood_per_char", "acc_norm,none")):
        rows = read([samples_file(seed, model, MC)], {**READING, "score": score})
        accuracy = (rows.get_column("label") == rows.get_column("pred")).mean()
        assert accuracy == pytest.approx(lm_eval_score(seed, model, MC, metric))


def test_the_042_json_array_gives_the_same_rows_as_the_lines_it_came_from():
    old = read([locate_samples(str(FIXTURES / "v0.4.2"), MC)])
    new = read([samples_file(0, "smollm2-dense", MC)])
    same = ["example_id", "label", "pred", "logits", "text"]
    assert old.select(same).equals(new.select(same))
    # _row is the line each array element starts on: the file is one indented array
    assert old.get_column("_row")[0] == 2 and old.get_column("_row").is_sorted()
    assert old.get_column("prompt_hash").null_count() == old.height  # 0.4.2 wrote none


@pytest.mark.parametrize("model", ["smollm2-dense", "smollm2-int8"])
@pytest.mark.parametrize("seed", [0, 1])
def test_generated_answers_with_a_chosen_filter(seed, model):
    path = samples_file(seed, model, GEN)
    with pytest.raises(PredictionsError, match=r"lines of several filters \(flexible-extract, "
                                               r"strict-match\).*choose one with filter:"):
        read([path])
    for chosen in ("strict-match", "flexible-extract"):
        rows = read([path], {**READING, "filter": chosen})
        assert rows.height == 8 and rows.schema["correct"] == pl.Boolean
        assert rows.schema["label"] == pl.String and rows.get_column("logits").null_count() == 8
        assert rows.get_column("correct").mean() == pytest.approx(
            lm_eval_score(seed, model, GEN, f"exact_match,{chosen}"))
        # the answer is the filtered response: right where it equals the target here
        assert (rows.get_column("pred") == rows.get_column("label")).to_list() == \
            rows.get_column("correct").to_list()


def test_a_repeated_doc_id_without_filter_names_the_old_version(tmp_path):
    lines = Path(samples_file(0, "smollm2-dense", GEN)).read_text().splitlines()
    old = [json.loads(line) for line in lines]
    for sample in old:
        del sample["filter"], sample["metrics"]
    path = tmp_path / "old.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in old))
    with pytest.raises(PredictionsError, match=r"old\.jsonl, lines 1, 9: doc_id 0 appears more "
                                               r"than once and the lines name no filter: "
                                               r"lm_eval before 0\.4\.7"):
        read([path])


def test_output_folders_and_globs_resolve_to_one_samples_file_or_are_refused():
    assert locate_samples(str(run_folder(0, "smollm2-int8")), GEN).endswith(".jsonl")
    with pytest.raises(PredictionsError, match=r"2 samples files \(.*samples_pieflow_sums_gen_"
                                               r".*samples_pieflow_sums_mc_.*\).*set task:"):
        locate_samples(str(run_folder(0, "smollm2-dense")))
    with pytest.raises(PredictionsError, match=r"2 samples files of task 'pieflow_sums_mc' "
                                               r"\(.*smollm2-dense.*smollm2-int8"):
        locate_samples(str(NEW / "fewshot-seed0"), MC)
    one = str(NEW / "fewshot-seed1" / "smollm2-int8" / "samples_pieflow_sums_mc_*.jsonl")
    assert "fewshot-seed1/smollm2-int8" in locate_samples(one)
    with pytest.raises(PredictionsError, match="no lm-eval samples file of task 'arc_easy'"):
        locate_samples(str(run_folder(0, "smollm2-dense")), "arc_easy")


def test_the_config_check_reports_an_ambiguous_folder_before_any_job():
    entry = {"dataset": "sums", "model": "smollm2", "format": "lm-eval",
             "dense": [str(NEW / "fewshot-seed0")], "compressed": {
                 "int8": [str(run_folder(0, "smollm2-int8"))]}, "task": MC}
    found = list(problems({"imported": {"sums": entry}}))
    assert len(found) == 1 and found[0].startswith("imported.sums.dense[0]: folder ")
    assert "2 samples files of task 'pieflow_sums_mc'" in found[0]


def population(model: str, task: str, reading=READING) -> pl.DataFrame:
    return read([samples_file(s, model, task) for s in (0, 1)], reading, seeds=[0, 1])


@pytest.mark.parametrize("task, reading", [(MC, READING),
                                           (GEN, {**READING, "filter": "strict-match"})])
def test_twins_saw_the_same_prompts_and_draws_differ(task, reading):
    dense, int8 = population("smollm2-dense", task, reading), population("smollm2-int8", task,
                                                                          reading)
    check_documents([("imported.x.dense", dense), ("imported.x.compressed.int8", int8)])
    check_twins(dense, int8, "imported.x.compressed.int8")
    assert identical_draws(dense, "imported.x.dense") is None


def test_twins_evaluated_with_other_few_shot_draws_are_refused():
    dense = population("smollm2-dense", MC)
    swapped = read([samples_file(s, "smollm2-int8", MC) for s in (1, 0)], seeds=[0, 1])
    with pytest.raises(PredictionsError, match=r"imported\.x\.compressed\.int8: member 0 saw "
                                               r"other prompts than dense member 0 for doc_id "
                                               r"0, 1, 2, 3, 4, … \(12 of 12 documents"):
        check_twins(dense, swapped, "imported.x.compressed.int8")


def test_members_of_one_draw_get_a_warning(tmp_path):
    copy = tmp_path / "copy.jsonl"
    shutil.copy(samples_file(0, "smollm2-dense", MC), copy)
    dense = read([samples_file(0, "smollm2-dense", MC), copy], seeds=[0, 1])
    said = identical_draws(dense, "imported.x.dense")
    assert said is not None and "the 2 dense members saw identical prompts" in said


def test_documents_paired_under_wrong_doc_ids_are_refused(tmp_path):
    """lm-evaluation-harness #4084: the same doc_id names another document in one file."""
    lines = [json.loads(line) for line in
             Path(samples_file(0, "smollm2-int8", MC)).read_text().splitlines()]
    lines[0]["doc_id"], lines[1]["doc_id"] = 1, 0
    shuffled = tmp_path / "shuffled.jsonl"
    shuffled.write_text("".join(json.dumps(s) + "\n" for s in lines))
    dense = population("smollm2-dense", MC)
    int8 = read([shuffled], seeds=[0])
    with pytest.raises(PredictionsError, match=r"doc_id 0 is a different document in .*line "
                                               r"1.* \(doc_hash differs\).*#4084"):
        check_documents([("imported.x.dense", dense), ("imported.x.compressed.int8", int8)])


def test_the_troubleshooting_page_names_every_refusal_made_here():
    page = (Path(__file__).resolve().parents[1] / "docs" / "troubleshooting.md").read_text()
    for said in ("2 samples files of task", "lines of several filters", "no lines of filter",
                 "appears more than once and the lines name no filter",
                 "no 0/1 value under 'exact_match'", "saw other prompts than dense member",
                 "(doc_hash differs): the files pair different documents",
                 "saw identical prompts for every document", "is one JSON array (0.4.0–0.4.2)"):
        assert said in page, said
