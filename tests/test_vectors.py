import numpy as np
import pytest
import torch

from pieflow.data.vectors import (
    WordTokenizer,
    dataset_words,
    read_glove,
    vocabulary_and_matrix,
    word_tokens,
)


def write_glove(path, rows: dict[str, list[float]]) -> None:
    path.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in rows.items()))


def test_read_glove_keeps_only_wanted_words_and_handles_spaces(tmp_path):
    path = tmp_path / "glove.txt"
    write_glove(path, {"the": [1, 2, 3], "The": [4, 5, 6], "cat": [7, 8, 9],
                       ". . .": [0, 0, 1], "dog": [1, 1, 1]})
    words, matrix = read_glove(path, {"The", "cat", ". . .", "zebra"})
    assert words == ["The", "cat", ". . ."]
    assert matrix.tolist() == [[4, 5, 6], [7, 8, 9], [0, 0, 1]]


def test_lookup_as_written_then_lower_cased(tmp_path):
    itos, matrix = vocabulary_and_matrix(["The", "cat"], np.ones((2, 3), np.float32))
    assert itos[:2] == ["<pad>", "<unk>"] and torch.equal(matrix[:2], torch.zeros(2, 3))
    tokenizer = WordTokenizer(itos)
    out = tokenizer(["The CAT sat", ""], None, truncation=True, max_length=2)
    # "The" found as written, "CAT" found lower-cased, "sat" unknown (cut by max_length)
    assert out["input_ids"] == [[2, 3], []]
    assert tokenizer(["The cat sat"], ["cat"])["input_ids"] == [[2, 3, 1, 3]]


def test_dataset_words_include_lower_case_forms():
    assert dataset_words(["Hi, There!"]) == {"Hi", "hi", ",", "There", "there", "!"}
    assert word_tokens("don't") == ["don", "'", "t"]


@pytest.mark.parametrize("max_length", [3])
def test_bilstm_reads_prepared_vectors(tmp_path, max_length):
    from pieflow import io
    from pieflow.models.classifiers import build_model, load_tokenizer

    itos, matrix = vocabulary_and_matrix(["good", "bad"], np.eye(2, 4, dtype=np.float32))
    io.save_tensors({"vectors": matrix}, tmp_path / "vectors.safetensors")
    io.write_json(itos, tmp_path / "vocab.json")
    spec = {"family": "bilstm", "vectors": "/data/glove.840B.300d.txt",
            "word_vectors": str(tmp_path), "hidden_size": 4}
    model = build_model(spec, 2, seed=0)
    assert model.embedding.weight.shape == (4, 4)
    assert not model.embedding.weight.requires_grad
    ids = load_tokenizer(spec)(["good bad ugly"], max_length=max_length)["input_ids"]
    assert ids == [[2, 3, 1]]
