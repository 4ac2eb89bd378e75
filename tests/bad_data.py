"""A table of bad data files: how to make each, what pieflow says, what the user should do.

Each :class:`Case` writes a small dataset into a folder and returns its config entry.
``tests/test_data_errors.py`` runs every case in-process and checks what pieflow says;
the same table, with the messages pieflow really prints, is the data errors table of
``docs/troubleshooting.md``. After changing a message or a case, regenerate it:

    .venv/bin/python tests/bad_data.py

Cases marked ``issue`` come from issue #11 (a new user's 21 bad files).
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from hub_fixtures import make_snli, write_rows  # noqa: E402

DOC = Path(__file__).resolve().parents[1] / "docs" / "troubleshooting.md"
START, END = "<!-- data-cases:start -->", "<!-- data-cases:end -->"
CLASSES = ["neg", "neu", "pos"]
TOPICS = ["arts", "money", "sports"]


@dataclass(frozen=True)
class Case:
    """One bad dataset. ``kind``: ``error`` (a DataError), ``warning`` (kept, warned
    about in the log and meta.json) or ``classes`` (accepted; ``says`` is the classes)."""

    id: str
    make: Callable[[Path], dict]
    kind: str
    says: str
    todo: str
    issue: bool = False


def rows(split: str, n: int, labels: list | None = None, multi: bool = False) -> dict:
    """``n`` distinct texts of one split with labels cycling through three classes."""
    texts = [f"{split} text number {i}" for i in range(n)]
    if multi:
        return {"text": texts, "labels": labels or [[TOPICS[i % 3]] for i in range(n)]}
    return {"text": texts, "label": labels or [CLASSES[i % 3] for i in range(n)]}


def files(folder: Path, fmt: str = "csv", multi: bool = False, **splits) -> dict:
    """Write train (15 rows), validation and test (6 rows each) unless given; a split
    given as ``None`` is left out, one given as ``bytes`` is written as they are."""
    spec = {"source": "files", "files": {}}
    for split, n in (("train", 15), ("validation", 6), ("test", 6)):
        content = splits.get(split, rows(split, n, multi=multi))
        if content is None:
            continue
        path = folder / "data" / f"{split}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            write_rows(path, content)
        spec["files"][split] = str(path)
    if multi:
        spec["columns"] = {"labels": "labels"}
    return spec


def _with(spec: dict, **extra) -> dict:
    return {**spec, **extra}


def _prepared(folder: Path) -> dict:
    (folder / "data" / "prepared").mkdir(parents=True)
    return {"source": "parquet", "path": str(folder / "data" / "prepared")}


CASES = [
    # --- files that cannot be read --------------------------------------------------
    Case("empty_file", lambda f: files(f, train=b""), "error",
         "the file is empty (0 bytes)", "Point 'files' at the right file, or fill it.",
         issue=True),
    Case("blank_lines_jsonl", lambda f: files(f, "jsonl", test=b"\n\n"), "error",
         "the file is empty (only blank lines)", "Write one JSON record per line."),
    Case("header_only_csv", lambda f: files(f, test=b"text,label\n"), "error",
         "the file has a header but no rows", "Add the split's rows under the header."),
    Case("missing_file", lambda f: _with(files(f), files={
        "train": str(f / "data" / "nope.csv"), "test": str(f / "data" / "nope.csv")}),
        "error", "the file does not exist", "Fix the path in 'files' (relative to the "
        "working directory)."),
    Case("unknown_suffix", lambda f: {"source": "files", "files": {
        "train": str(f / "train.txt"), "test": str(f / "test.txt")}}, "error",
        "cannot tell the format of", "Set 'format: csv' (or jsonl, parquet)."),
    Case("undecodable_csv", lambda f: files(
        f, train=b"text,label\ngood one,pos\ncaf\xe9 au lait,neg\n"), "error",
        "not valid UTF-8: byte 0xe9 at line 3 (data row 2",
        "Re-save the file as UTF-8 (iconv -f latin1 -t utf-8 in.csv > out.csv)."),
    Case("undecodable_jsonl", lambda f: files(
        f, "jsonl", test=b'{"text": "ok", "label": "pos"}\n{"text": "\xff", "label": "neg"}\n'),
        "error", "not valid UTF-8: byte 0xff at line 2", "Re-save the file as UTF-8."),
    Case("broken_json_line", lambda f: files(
        f, "jsonl", test=b'{"text": "ok", "label": "pos"}\n{"text": "no", label: "neg"}\n'),
        "error", "line 2 is not valid JSON", "Fix that line: keys and strings in double "
        "quotes, one object per line."),
    Case("semicolon_csv", lambda f: files(f, train=b"text;label\na;pos\nb;neg\n"), "error",
         "is the file not comma-separated?", "Write the CSV with commas, or convert it to "
         "JSONL."),
    Case("empty_parquet", lambda f: files(f, "parquet", validation=b""), "error",
         "the file is empty (0 bytes)", "Rewrite the Parquet file."),
    # --- columns ----------------------------------------------------------------------
    Case("wrong_text_column", lambda f: _with(files(f), columns={"text": "review"}), "error",
         "no column(s) ['review']", "Set 'columns.text' to the column that holds the text."),
    Case("list_in_single_label", lambda f: files(f, "jsonl", train=rows(
        "train", 15, [[c] for c in CLASSES * 5])), "error",
        "holds lists of labels, where one label per example is expected",
        "For multi-label data set 'columns: {labels: <column>}'."),
    Case("scalar_in_multi_label", lambda f: files(f, "jsonl", multi=True, train=rows(
        "train", 15, list(range(3)) * 5, multi=True)), "error",
        "holds single values (Int64) where a list of labels per example is expected",
        "Write each example's labels as a list, or map the column as 'label'."),
    # --- labels -----------------------------------------------------------------------
    Case("missing_label_csv", lambda f: files(f, train=rows(
        "train", 15, ["pos", "neg", None, "neu", None] * 3)), "error",
        "6 examples have no label: rows 3, 5, 8, 10, 13, … (1-based, after the header)",
        "Give every example a label, or remove those rows.", issue=True),
    Case("null_label_jsonl", lambda f: files(f, "jsonl", test=rows(
        "test", 6, ["pos", None, "neg", "neu", "pos", "neg"])), "error",
        "1 example has no label: row 2 (1-based, one JSON record per line)",
        "Give every example a label, or remove the row."),
    Case("null_label_parquet", lambda f: files(f, "parquet", validation=rows(
        "validation", 6, ["pos", "neg", "neu", None, "pos", "neg"])), "error",
        "1 example has no label: row 4 (1-based, in file order)", "Give every example a label."),
    Case("single_class", lambda f: files(f, train=rows("train", 15, ["pos"] * 15),
                                         validation=rows("validation", 6, ["pos"] * 6),
                                         test=rows("test", 6, ["pos"] * 6)),
         "error", "only one class occurs ('pos') in train's 15 examples",
         "Check the label column ('columns.label') and that train holds every class.",
         issue=True),
    Case("label_only_in_test", lambda f: files(f, test=rows(
        "test", 6, ["pos", "neg", "neutral", "neu", "neutral", "pos"])), "error",
        "2 examples have labels not seen in train ('neutral'): rows 3, 5",
        "Add training examples of that class, or fix the spelling.", issue=True),
    Case("unlabelled_hub_pairs", lambda f: {
        "source": "hub", "hub_id": str(make_snli(f / "data" / "snli-unlabelled")),
        "config_name": "plain_text",
        "columns": {"text": "premise", "text_pair": "hypothesis"}}, "error",
        "6 examples have labels outside the 3 classes 0..2 (-1)",
        "Drop them with 'drop_labels: [-1]' (SNLI marks pairs without a gold label -1)."),
    Case("drop_labels_empties_test", lambda f: _with(files(f, test=rows(
        "test", 6, ["junk"] * 6)), drop_labels=["junk"]), "error",
        "split 'test' (data/test.csv): no examples",
        "Check 'drop_labels': it removed every test example."),
    Case("comma_string_labels", lambda f: files(f, multi=True, train=b'text,labels\n'
                                                b'one,"arts,money"\ntwo,"[""arts""]"\n'),
         "error", "1 value is not a list of labels (e.g. 'arts,money'): row 1",
         'In a CSV write ["arts", "money"] (quoted); or use JSONL / Parquet list columns.',
         issue=True),
    Case("bare_string_labels_jsonl", lambda f: files(f, "jsonl", multi=True, test=rows(
        "test", 6, ["arts", "money"] * 3, multi=True)), "error",
        "6 values are not lists of labels (e.g. 'arts')",
        'Write "labels": ["arts"], a list even for one label.'),
    Case("null_labels", lambda f: files(f, "jsonl", multi=True, train=rows(
        "train", 15, [["arts"], None, ["money", "sports"]] * 5, multi=True)), "error",
        "5 examples have no labels (null): rows 2, 5, 8, 11, 14",
        "Write [] for an example without classes, or remove it.", issue=True),
    Case("null_inside_labels", lambda f: files(f, "parquet", multi=True, test=rows(
        "test", 6, [["arts", None], ["money"], ["sports"]] * 2, multi=True)), "error",
        "2 examples have labels that hold a null", "Remove the nulls from the lists."),
    # --- splits -----------------------------------------------------------------------
    Case("tiny_train_carved", lambda f: files(f, train=rows("train", 3), validation=None),
         "error", "validation_fraction 0.1 of its 3 examples leaves",
         "Add a validation file, or more training data.", issue=True),
    Case("class_carved_out_of_train", lambda f: _with(files(
        f, train={"text": ["a good day", "awful", "fine fine", "bad bad", "ok", "meh"],
                  "label": ["pos", "neg", "pos", "neg", "neu", "neu"]}, validation=None),
        validation_fraction=0.4), "error",
        "(carved from data/train.csv), column 'label': 2 examples have labels not seen in "
        "train ('neg')", "Add a validation file, or more training data of every class."),
    Case("max_examples_one", lambda f: _with(files(f), max_examples={"validation": 1}),
         "error", "max_examples.validation is 1; every split needs at least 2",
         "Raise max_examples to 2 or more (or remove it)."),
    Case("prepared_without_classes", _prepared, "error", "missing classes.json",
         "Write classes.json (the class names, in label order) next to the splits."),
    # --- kept, with a warning -----------------------------------------------------------
    Case("test_texts_in_train", lambda f: files(f, test=rows("train", 6)), "warning",
         "6 of 6 examples also occur in train (same text)",
         "Deduplicate across splits.", issue=True),
    Case("case_variants", lambda f: files(f, train=rows(
        "train", 18, ["pos", "pos ", "Pos", "neg", "neu", "neg"] * 3)), "warning",
        "labels 'Pos', 'pos', 'pos ' differ only in case or surrounding whitespace; they "
        "are kept as 3 separate classes", "Write each class one way in the data.",
        issue=True),
    Case("rare_class", lambda f: files(f, train=rows(
        "train", 15, ["pos", "neg"] * 6 + ["neu"] * 3)), "warning",
        "classes with fewer than 5 training examples (1 of 3): 'neu' (3)",
        "Add examples, or merge or remove the class."),
    Case("class_only_in_test", lambda f: files(f, "jsonl", multi=True, test=rows(
        "test", 6, [["arts"], ["money"], ["sports", "poetry"]] * 2, multi=True)), "warning",
        "'poetry' (0, never in train)", "Add training examples of the class."),
    Case("empty_texts", lambda f: files(f, train={
        "text": [f"t{i}" if i % 7 else "" for i in range(15)], "label": CLASSES * 5}),
        "warning", "3 examples have no text: rows 1, 8, 15",
        "Remove the rows, or fill in their text."),
    # --- accepted -----------------------------------------------------------------------
    Case("integer_multi_label_classes", lambda f: files(f, "jsonl", multi=True, **{
        split: rows(split, 6, [[1], [2], [10, 2]] * 2, multi=True)
        for split in ("train", "validation", "test")}), "classes", "classes: 1, 2, 10",
        "Nothing: integer classes keep their numeric order.", issue=True),
]


def observe(case: Case, folder: Path) -> str:
    """What pieflow says about the case's data (paths shown relative to ``folder``)."""
    from pieflow.data.job import prepare_dataset
    from pieflow.data.prepare import load_dataset_from_config
    from pieflow.data.splits import DataError

    spec = case.make(folder)
    try:
        if case.kind == "classes":
            classes = load_dataset_from_config("mine", spec).classes
            said = f"(no message) classes: {', '.join(classes)}"
        else:
            outputs = {name: str(folder / "results" / name) for name in
                       ("train", "validation", "test", "classes", "meta", "checks")}
            prepare_dataset("mine", spec, outputs)
            warnings = json.loads(Path(outputs["meta"]).read_text())["warnings"]
            said = next((f"warning: {w}" for w in warnings if case.says in w),
                        f"warnings: {warnings}")
    except DataError as error:
        said = f"DataError: {error}"
    return said.replace(f"{folder}/", "")


def markdown_row(said: str, case: Case) -> str:
    """One table row; a ``|`` inside a cell is escaped."""
    said, todo = (text.replace("|", "\\|") for text in (said, case.todo))
    return f"| {said} | {todo} |"


def markdown_table(said: dict[str, str]) -> str:
    """The troubleshooting table: one row per case, in table order."""
    lines = ["| what pieflow says | what to do |", "|---|---|"]
    return "\n".join(lines + [markdown_row(said[case.id], case) for case in CASES])


def main() -> None:
    """Run every case and write the table into the troubleshooting page."""
    import datasets

    datasets.disable_progress_bars()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        said = {case.id: observe(case, Path(tmp) / case.id) for case in CASES}
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(START)
    _, tail = rest.split(END)
    DOC.write_text(f"{head}{START}\n{markdown_table(said)}\n{END}{tail}", encoding="utf-8")
    print(f"{len(CASES)} cases written to {DOC}")


if __name__ == "__main__":
    main()
