"""Hub and file datasets through the same load_dataset code, on local fixtures."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hub_fixtures import make_imdb, make_reuters, make_snli

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


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_local_files_with_a_column_mapping(tmp_path, fmt):
    rows = {"sentence": [f"text {i}" for i in range(30)],
            "sentiment": [["pos", "neg", "neu"][i % 3] for i in range(30)]}
    files = {}
    for split in ("train", "test"):
        path = tmp_path / f"{split}.{fmt}"
        frame = pl.DataFrame(rows)
        if fmt == "csv":
            frame.write_csv(path)
        elif fmt == "jsonl":
            path.write_text("\n".join(json.dumps(r) for r in frame.to_dicts()))
        else:
            frame.write_parquet(path)
        files[split] = str(path)
    data = load_dataset_from_config("mine", {
        "source": "files", "files": files,
        "columns": {"text": "sentence", "label": "sentiment"}})
    assert data.classes == ["neg", "neu", "pos"]
    assert set(data.splits) == {"train", "validation", "test"}
    assert data.splits["test"]["label"].to_list()[:3] == [2, 0, 1]


def test_a_missing_column_is_named(tmp_path):
    folder = make_imdb(tmp_path / "imdb")
    with pytest.raises(DataError, match="no column.*'review'"):
        load_dataset_from_config("imdb", {"source": "hub", "hub_id": str(folder),
                                          "config_name": "plain_text",
                                          "columns": {"text": "review"}})
