"""pieflow.llm.tasks: prepared datasets as lm_eval multiple-choice tasks, loading tasks with
one-line refusals, limits, and calibration texts from the few-shot pool. No model, no
network: every task is built in tmp_path."""

from __future__ import annotations

import json
import logging

import pytest

pytest.importorskip("lm_eval")
pl = pytest.importorskip("polars")

from pieflow.llm.tasks import (  # noqa: E402
    TaskError,
    check_limit,
    dataset_task,
    load_task,
    task_texts,
)

CLASSES = ["negative", "yes", "null: 'odd' name"]  # YAML-awkward names on purpose


def frame(rows: list[tuple], pair: bool = False) -> pl.DataFrame:
    data = {"example_id": [r[0] for r in rows], "text": [r[1] for r in rows],
            "text_pair": [r[2] if pair else None for r in rows],
            "label": [r[-1] for r in rows]}
    return pl.DataFrame(data, schema={"example_id": pl.Int64, "text": pl.String,
                                      "text_pair": pl.String, "label": pl.Int64})


@pytest.fixture
def frames():
    return {"train": frame([(0, "good {day}", "a", 1), (1, "bad", "b", 0),
                            (2, "meh", "c", 2)], pair=True),
            "test": frame([(10, "fine", "d", 1), (11, "awful", None, 0),
                           (12, "so-so", "e", 2), (13, "great", "f", 1)], pair=True)}


def test_dataset_task_round_trip(tmp_path, frames):
    name = dataset_task("pf_toy", "Text: {text} / {text_pair}\nIs it {{x}}?", frames,
                        CLASSES, str(tmp_path / "tasks"))
    assert name == "pf_toy"
    docs = [json.loads(line) for line in
            (tmp_path / "tasks" / "pf_toy_test.jsonl").read_text().splitlines()]
    assert [d["example_id"] for d in docs] == [10, 11, 12, 13]
    assert docs[1] == {"example_id": 11, "text": "awful", "label": 0, "text_pair": ""}
    yaml_text = (tmp_path / "tasks" / "pf_toy.yaml").read_text()
    assert str((tmp_path / "tasks" / "pf_toy_train.jsonl").resolve()) in yaml_text

    task = load_task("pf_toy", str(tmp_path / "tasks"))
    assert task.OUTPUT_TYPE == "multiple_choice"
    assert check_limit(task, None) == 4
    doc = task.eval_docs[0]
    assert doc["example_id"] == 10
    assert task.doc_to_text(doc) == "Text: fine / d\nIs it {x}?"
    assert task.doc_to_choice(doc) == CLASSES
    assert task.doc_to_target(doc) == 1
    assert task.config.target_delimiter == " "
    # the few-shot pool is train; braces in the data stay as they are
    assert task_texts(task) == ["Text: good {day} / a\nIs it {x}? yes",
                                "Text: bad / b\nIs it {x}? negative",
                                f"Text: meh / c\nIs it {{x}}? {CLASSES[2]}"]


def test_dataset_task_without_text_pair(tmp_path):
    frames = {"train": frame([(0, "a", 0), (1, "b", 1)]),
              "test": frame([(5, "c", 1)])}
    dataset_task("pf_single", "{text}", frames, ["no", "yes"], str(tmp_path))
    docs = [json.loads(line) for line in (tmp_path / "pf_single_test.jsonl").read_text()
            .splitlines()]
    assert docs == [{"example_id": 5, "text": "c", "label": 1}]
    with pytest.raises(TaskError, match=r"uses \{text_pair\} but the data has no text_pair"):
        dataset_task("pf_single", "{text} {text_pair}", frames, ["no", "yes"], str(tmp_path))


@pytest.mark.parametrize("template, message", [
    ("Review: {review}", r"unknown placeholder \{review\}"),
    ("Review: {}", r"unknown placeholder \{\}"),
    ("Review: {text!r}", "no format spec"),
    ("Review: {text", "template"),
])
def test_bad_templates_refused(tmp_path, frames, template, message):
    with pytest.raises(TaskError, match=message) as error:
        dataset_task("pf_bad", template, frames, CLASSES, str(tmp_path))
    assert "\n" not in str(error.value)


def test_bad_frames_refused(tmp_path, frames):
    multi = {"train": pl.DataFrame({"example_id": [0], "text": ["a"], "labels": [[0, 1]]}),
             "test": frames["test"]}
    with pytest.raises(TaskError, match="multi-label"):
        dataset_task("pf_multi", "{text}", multi, CLASSES, str(tmp_path))
    strings = {"train": frames["train"].with_columns(pl.col("label").cast(pl.String)),
               "test": frames["test"]}
    with pytest.raises(TaskError, match="integer class index"):
        dataset_task("pf_str", "{text}", strings, CLASSES, str(tmp_path))
    with pytest.raises(TaskError, match="class indices 0..1"):
        dataset_task("pf_range", "{text}", frames, CLASSES[:2], str(tmp_path))
    with pytest.raises(TaskError, match="no 'validation' split"):
        dataset_task("pf_split", "{text}", frames, CLASSES, str(tmp_path),
                     eval_split="validation")
    with pytest.raises(TaskError, match="the 'train' split is empty"):
        dataset_task("pf_empty", "{text}", {"train": frames["train"].head(0),
                                            "test": frames["test"]}, CLASSES, str(tmp_path))
    with pytest.raises(TaskError, match="task name"):
        dataset_task("../up", "{text}", frames, CLASSES, str(tmp_path))


def test_unknown_task_refused(tmp_path):
    with pytest.raises(TaskError) as error:
        load_task("pf_no_such_task", str(tmp_path))
    assert str(error.value) == (f"task pf_no_such_task: not in lm-evaluation-harness's "
                                f"registry nor in {tmp_path}")


def write_yaml(folder, name: str, output_type: str, extra: str = "") -> None:
    (folder / f"{name}_data.jsonl").write_text(
        "".join(json.dumps({"q": f"{a} plus 1?", "a": str(a + 1)}) + "\n" for a in range(5)))
    (folder / f"{name}.yaml").write_text(f"""task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    train: "{folder / f'{name}_data.jsonl'}"
    test: "{folder / f'{name}_data.jsonl'}"
output_type: {output_type}
test_split: test
doc_to_text: "Q: {{{{q}}}}\\nA:"
doc_to_target: a
{extra}metadata:
  version: 1.0
""")


def test_generate_until_accepted_and_rolling_refused(tmp_path):
    write_yaml(tmp_path, "pf_gen", "generate_until",
               'training_split: train\ngeneration_kwargs:\n  until: ["\\n"]\n'
               "metric_list:\n  - metric: exact_match\n")
    write_yaml(tmp_path, "pf_roll", "loglikelihood_rolling",
               "metric_list:\n  - metric: word_perplexity\n")
    task = load_task("pf_gen", str(tmp_path))
    assert task.OUTPUT_TYPE == "generate_until"
    assert task_texts(task)[:2] == ["Q: 0 plus 1?\nA: 1", "Q: 1 plus 1?\nA: 2"]
    with pytest.raises(TaskError, match="output_type loglikelihood_rolling is not supported"):
        load_task("pf_roll", str(tmp_path))


def test_group_refused(tmp_path, frames):
    dataset_task("pf_a", "{text}", frames, CLASSES, str(tmp_path))
    dataset_task("pf_b", "{text}", frames, CLASSES, str(tmp_path))
    (tmp_path / "pf_group.yaml").write_text("group: pf_group\ntask:\n  - pf_a\n  - pf_b\n"
                                            "metadata:\n  version: 1.0\n")
    with pytest.raises(TaskError, match="task pf_group: is a group of 2 tasks"):
        load_task("pf_group", str(tmp_path))


def test_check_limit(tmp_path, frames):
    dataset_task("pf_lim", "{text}", frames, CLASSES, str(tmp_path))
    task = load_task("pf_lim", str(tmp_path))
    assert check_limit(task, 3) == 3
    assert check_limit(task, 4) == 4
    with pytest.raises(TaskError) as error:
        check_limit(task, 5)
    assert str(error.value) == "limit 5 is larger than task pf_lim's 4 documents"
    for bad in (0, -1, 0.5, True):
        with pytest.raises(TaskError, match="positive whole number"):
            check_limit(task, bad)


def test_task_texts_falls_back_and_logs(tmp_path, frames, caplog):
    # no few-shot split and no training split: the evaluated docs, with a warning
    write_yaml(tmp_path, "pf_gen_only_test", "generate_until",
               'generation_kwargs:\n  until: ["\\n"]\nmetric_list:\n  - metric: exact_match\n')
    task = load_task("pf_gen_only_test", str(tmp_path))
    with caplog.at_level(logging.INFO, logger="pieflow.llm.tasks"):
        texts = task_texts(task, count_hint=10)
    assert len(texts) == 5
    messages = [r.getMessage() for r in caplog.records]
    assert any("from its evaluated documents" in m for m in messages)
    assert any("10 calibration texts wanted" in m for m in messages)
    caplog.clear()
    dataset_task("pf_pool", "{text}", frames, CLASSES, str(tmp_path))
    with caplog.at_level(logging.INFO, logger="pieflow.llm.tasks"):
        assert len(task_texts(load_task("pf_pool", str(tmp_path)))) == 3
    assert any("from its fewshot (train)" in r.getMessage() for r in caplog.records)
