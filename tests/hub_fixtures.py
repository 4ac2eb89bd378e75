"""Tiny local copies shaped like the hub datasets the study used.

Each folder mirrors the hub repository's layout: a README.md whose YAML header declares
the configurations and their data files, and Parquet files written by ``datasets`` (so
``ClassLabel`` names travel in the file's metadata, as on the hub). ``load_dataset`` on
the folder runs the same code path as on the hub id.
"""

from __future__ import annotations

from pathlib import Path

import datasets as hf

WORDS = ["good", "bad", "fine", "awful", "great", "poor", "nice", "dull", "bright", "grim"]


def _text(i: int, n: int = 6) -> str:
    return " ".join(WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(n)) + f" {i}"


def _write(folder: Path, config: str, splits: dict[str, hf.Dataset]) -> None:
    lines = ["---", "configs:", f"- config_name: {config}", "  data_files:"]
    for split, data in splits.items():
        path = folder / config / f"{split}-00000-of-00001.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        data.to_parquet(str(path))
        lines += [f"  - split: {split}", f"    path: {config}/{split}-*"]
    (folder / "README.md").write_text("\n".join(lines + ["---", "", "fixture"]) + "\n")


def make_snli(folder: Path, n: int = 60) -> Path:
    """stanfordnlp/snli: premise, hypothesis, label (ClassLabel, -1 = no gold label)."""
    features = hf.Features({
        "premise": hf.Value("string"), "hypothesis": hf.Value("string"),
        "label": hf.ClassLabel(names=["entailment", "neutral", "contradiction"]),
    })

    def split(offset: int) -> hf.Dataset:
        rows = {"premise": [_text(i + offset) for i in range(n)],
                "hypothesis": [_text(i + offset + 1, 3) for i in range(n)],
                "label": [(-1 if i % 10 == 9 else i % 3) for i in range(n)]}
        return hf.Dataset.from_dict(rows, features=features)

    _write(folder, "plain_text", {"test": split(0), "validation": split(1000),
                                  "train": split(2000)})
    return folder


def make_imdb(folder: Path, n: int = 60) -> Path:
    """stanfordnlp/imdb: text, label (neg/pos); train, test and unsupervised, no validation."""
    features = hf.Features({"text": hf.Value("string"),
                            "label": hf.ClassLabel(names=["neg", "pos"])})

    def split(offset: int, labelled: bool = True) -> hf.Dataset:
        return hf.Dataset.from_dict(
            {"text": [_text(i + offset, 12) for i in range(n)],
             "label": [i % 2 if labelled else -1 for i in range(n)]}, features=features)

    _write(folder, "plain_text", {"train": split(0), "test": split(500),
                                  "unsupervised": split(900, labelled=False)})
    return folder


def make_reuters(folder: Path, n: int = 60) -> Path:
    """Reuters-21578, ModApte: text, topics (a list of topic names, possibly empty)."""
    topics = ["earn", "acq", "crude", "trade", "grain"]
    features = hf.Features({"text": hf.Value("string"), "title": hf.Value("string"),
                            "topics": hf.Sequence(hf.Value("string"))})

    def split(offset: int) -> hf.Dataset:
        rows = {"text": [_text(i + offset, 10) for i in range(n)],
                "title": [f"t{i}" for i in range(n)],
                "topics": [[topics[i % 5]] + ([topics[(i + 1) % 5]] if i % 3 == 0 else [])
                           for i in range(n)]}
        return hf.Dataset.from_dict(rows, features=features)

    _write(folder, "ModApte", {"train": split(0), "test": split(300), "unused": split(700)})
    return folder


def write_rows(path: Path, rows: dict[str, list]) -> Path:
    """Write columns of rows as CSV, JSONL or Parquet, by the path's suffix.

    CSV cannot hold a list, so list cells are written as JSON lists (the form pieflow
    reads from a CSV); JSONL and Parquet keep them as lists.
    """
    import json

    import polars as pl

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jsonl":
        names = list(rows)
        lines = [json.dumps(dict(zip(names, values, strict=True)))
                 for values in zip(*rows.values(), strict=True)]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    elif path.suffix == ".csv":
        flat = {name: [json.dumps(v) if isinstance(v, list) else v for v in values]
                for name, values in rows.items()}
        pl.DataFrame(flat).write_csv(path)
    else:
        pl.DataFrame(rows).write_parquet(path)
    return path


def make_hub_folder(folder: Path, splits: dict[str, dict[str, list]],
                    config: str = "default") -> Path:
    """A hub-shaped folder from plain columns (no ``ClassLabel``: labels as written)."""
    _write(folder, config, {split: hf.Dataset.from_dict(rows) for split, rows in splits.items()})
    return folder
