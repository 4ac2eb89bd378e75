"""Hub and file datasets through the same load_dataset code, on local fixtures."""

from __future__ import annotations

import polars as pl
import pytest
from hub_fixtures import make_hub_folder, make_imdb, make_reuters, make_snli, write_rows

from pieflow.data.prepare import load_dataset_from_config
from pieflow.data.splits import DataError


def test_snli_pairs_drop_unlabelled(tmp_path):
    folder = make_snli(tmp_path / "snli")
    data = load_dataset_from_config("snli", {
        "source": "hub", "hub_id": str(folder), "config_name": "plain_text",
        "columns": {"text": "premise", "text_pair": "hypothesis"}, "drop_labels": [-1]})
    assert data.classes == ["entailment", "neutral", "contradiction"]
    for split, frame in data.splits.items():
        assert frame.height == 54, split  # 6 of 60 had label -1
        assert frame["label"].is_in([0, 1, 2]).all()
        assert frame["text_pair"].null_count() == 0
    ids = [set(f["example_id"]) for f in data.splits.values()]
    assert not (ids[0] & ids[1] or ids[1] & ids[2] or ids[0] & ids[2])
    assert "split 'train': drop_labels [-1] dropped 6 of 60 examples" in " ".join(data.notes)


def test_imdb_validation_is_carved_from_train_deterministically(tmp_path):
    folder = make_imdb(tmp_path / "imdb")
    spec = {"source": "hub", "hub_id": str(folder), "config_name": "plain_text",
            "validation_fraction": 0.2}
    first = load_dataset_from_config("imdb", spec)
    second = load_dataset_from_config("imdb", spec)
    assert first.classes == ["neg", "pos"]
    assert first.splits["train"].height + first.splits["validation"].height == 60
    assert 4 <= first.splits["validation"].height <= 20
    assert first.splits["validation"].equals(second.splits["validation"])
    assert first.splits["test"].height == 60  # the unsupervised split is not used


def test_reuters_is_multi_label(tmp_path):
    folder = make_reuters(tmp_path / "reuters")
    data = load_dataset_from_config("reuters", {
        "source": "hub", "hub_id": str(folder), "config_name": "ModApte",
        "columns": {"labels": "topics"}})
    assert data.classes == sorted(["earn", "acq", "crude", "trade", "grain"])
    train = data.splits["train"]
    assert train.schema["labels"] == pl.List(pl.Int64)
    assert "label" not in train.columns
    assert train["labels"].list.len().max() == 2


SENTIMENTS = ["pos", "neg", "neu"]
TOPICS = ["sports", "arts", "money"]


def _rows(kind: str, n: int, offset: int = 0) -> dict[str, list]:
    """Texts and labels: one sentiment each, or one or two topics each."""
    texts = [f"text {i + offset}" for i in range(n)]
    if kind == "single":
        return {"text": texts, "label": [SENTIMENTS[i % 3] for i in range(n)]}
    return {"text": texts, "labels": [[TOPICS[i % 3]] + ([TOPICS[(i + 1) % 3]] if i % 2 else [])
                                      for i in range(n)]}


def _spec(tmp_path, fmt: str, kind: str, names: str) -> dict:
    """A dataset in one of four shapes, with pieflow's column names or the user's own."""
    renamed = {"text": "sentence", "label": "sentiment", "labels": "topics"}
    splits = {}
    for split, offset in (("train", 0), ("validation", 100), ("test", 200)):
        rows = _rows(kind, 30, offset)
        splits[split] = rows if names == "default" else {renamed[c]: v for c, v in rows.items()}
    columns = {} if names == "default" else {
        "text": "sentence", **({"label": "sentiment"} if kind == "single" else
                               {"labels": "topics"})}
    if fmt == "hub":
        folder = make_hub_folder(tmp_path / f"hub-{kind}-{names}", splits)  # distinct names:
        # the datasets cache keys a local folder by its name and file times
        return {"source": "hub", "hub_id": str(folder), "columns": columns}
    files = {split: str(write_rows(tmp_path / f"{split}.{fmt}", rows))
             for split, rows in splits.items()}
    return {"source": "files", "files": files, "columns": columns}


@pytest.mark.parametrize("names", ["default", "mapped"])
@pytest.mark.parametrize("kind", ["single", "multi"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet", "hub"])
def test_every_format_with_default_and_mapped_column_names(tmp_path, fmt, kind, names):
    """Issue #11: ``text,label`` — the README's default names — used to fail."""
    data = load_dataset_from_config("mine", _spec(tmp_path, fmt, kind, names))
    assert data.warnings == []
    assert [data.splits[s].height for s in ("train", "validation", "test")] == [30, 30, 30]
    test = data.splits["test"]
    if kind == "single":
        assert data.classes == ["neg", "neu", "pos"]
        assert test.columns == ["example_id", "text", "text_pair", "label"]
        assert test["label"].to_list()[:3] == [2, 0, 1]
    else:
        assert data.classes == ["arts", "money", "sports"]
        assert test.schema["labels"] == pl.List(pl.Int64)
        assert test["labels"].to_list()[:2] == [[2], [0, 1]]
    assert test["text"][0] == "text 200"
    assert test["example_id"][0] == 2_000_000_000


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_local_files_with_a_column_mapping_and_a_carved_validation(tmp_path, fmt):
    rows = {"sentence": [f"text {i}" for i in range(60)],
            "sentiment": [["pos", "neg", "neu"][i % 3] for i in range(60)]}
    files = {split: str(write_rows(tmp_path / f"{split}.{fmt}", rows))
             for split in ("train", "test")}
    data = load_dataset_from_config("mine", {
        "source": "files", "files": files, "validation_fraction": 0.2,
        "columns": {"text": "sentence", "label": "sentiment"}})
    assert data.classes == ["neg", "neu", "pos"]
    assert set(data.splits) == {"train", "validation", "test"}
    assert data.splits["test"]["label"].to_list()[:3] == [2, 0, 1]
    assert any("validation carved from train" in note for note in data.notes)
    # the same rows in train and test: kept, and warned about
    assert any("also occur in train" in warning for warning in data.warnings)


def test_integer_classes_keep_numeric_order(tmp_path):
    """Classes 1, 2, 10 — not 1, 10, 2 — for integer labels, single- and multi-label."""
    values = [1, 2, 10] * 4
    files = {}
    for split in ("train", "validation", "test"):
        files[split] = str(write_rows(tmp_path / f"{split}.jsonl", {
            "text": [f"{split} {i}" for i in range(12)], "label": values,
            "labels": [[v, 10] if v != 10 else [v] for v in values]}))
    single = load_dataset_from_config("one", {"source": "files", "files": files})
    assert single.classes == ["1", "2", "10"]
    assert single.splits["test"]["label"].to_list()[:3] == [0, 1, 2]
    multi = load_dataset_from_config("many", {"source": "files", "files": files,
                                              "columns": {"labels": "labels"}})
    assert multi.classes == ["1", "2", "10"]
    assert multi.splits["test"]["labels"].to_list()[:3] == [[0, 2], [1, 2], [2]]
    as_text = {split: str(write_rows(tmp_path / f"t{split}.jsonl", {
        "text": [f"{split} {i}" for i in range(12)], "label": [str(v) for v in values]}))
        for split in ("train", "validation", "test")}
    assert load_dataset_from_config("t", {"source": "files", "files": as_text}).classes == \
        ["1", "2", "10"]


def test_a_missing_column_is_named(tmp_path):
    folder = make_imdb(tmp_path / "imdb")
    with pytest.raises(DataError, match="no column.*'review'"):
        load_dataset_from_config("imdb", {"source": "hub", "hub_id": str(folder),
                                          "config_name": "plain_text",
                                          "columns": {"text": "review"}})
