"""Did the members see the prompts they should have? Checks on lm-evaluation-harness
samples that carry ``doc_hash`` and ``prompt_hash`` (v0.4.3+).

* A document keeps its ``doc_hash`` across every file: where files pair different
  documents under one ``doc_id`` (lm-evaluation-harness issue #4084: ``--samples`` with
  an unsorted list logged wrong ``doc_id``s), joining runs on ``doc_id`` would silently
  compare different questions. Refused.
* Dense member *i* and each compressed member *i* (its twin) must have seen the same
  prompt per document — the same few-shot draw — or a changed answer may come from the
  prompt rather than the compression. Refused, naming the first documents that differ.
* Dense members that all saw identical prompts are not different few-shot draws: the
  dense-vs-dense null is then empty. A warning, since a population of one draw is legal.

Pure: frames in, messages out (``_file`` and ``_row`` name the place).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from pieflow.imports.files import PredictionsError, location

_SHOWN = 5
_KEYS = ["split", "example_id"]


def _hashed(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    if column not in frame.columns:
        return frame.clear().select("_file", "_row", "seed", *_KEYS).with_columns(
            pl.lit(None, pl.String).alias(column))
    return frame.filter(pl.col(column).is_not_null()).select(
        "_file", "_row", "seed", *_KEYS, column)


def check_documents(populations: Sequence[tuple[str, pl.DataFrame]]) -> None:
    """Every ``(split, doc_id)`` has one ``doc_hash`` over all populations' files."""
    rows = pl.concat([_hashed(frame, "doc_hash").with_columns(pl.lit(where).alias("_where"))
                      for where, frame in populations], how="vertical_relaxed")
    if rows.is_empty():
        return
    clash = rows.filter(pl.col("doc_hash").n_unique().over(_KEYS) > 1).sort(
        "example_id", "_file", "_row")
    if clash.is_empty():
        return
    doc = clash.row(0, named=True)
    other = clash.filter((pl.col("example_id") == doc["example_id"])
                         & (pl.col("split") == doc["split"])
                         & (pl.col("doc_hash") != doc["doc_hash"])).row(0, named=True)
    raise PredictionsError(
        f"{doc['_where']}: doc_id {doc['example_id']} is a different document in "
        f"{location(doc['_file'], doc['_row'])} and in {location(other['_file'], other['_row'])}"
        " (doc_hash differs): the files pair different documents under one doc_id, as "
        "lm-evaluation-harness logs them with --samples and an unsorted list (its issue "
        "#4084); rerun those evaluations without --samples, or with the ids sorted")


def check_twins(dense: pl.DataFrame, compressed: pl.DataFrame, where: str) -> None:
    """Compressed member *i* saw dense member *i*'s prompt for every document both hold."""
    pairs = _hashed(compressed, "prompt_hash").join(
        _hashed(dense, "prompt_hash"), on=["seed", *_KEYS], suffix="_dense")
    differ = pairs.filter(pl.col("prompt_hash") != pl.col("prompt_hash_dense")).sort(
        "seed", "example_id")
    if differ.is_empty():
        return
    first = differ.row(0, named=True)
    seed = first["seed"]
    ids = differ.filter(pl.col("seed") == seed).get_column("example_id").to_list()
    shown = ", ".join(map(str, ids[:_SHOWN])) + (", …" if len(ids) > _SHOWN else "")
    raise PredictionsError(
        f"{where}: member {seed} saw other prompts than dense member {seed} for doc_id "
        f"{shown} ({len(ids)} of {pairs.filter(pl.col('seed') == seed).height} documents; "
        f"prompt_hash differs: {location(first['_file'], first['_row'])} vs. "
        f"{location(first['_file_dense'], first['_row_dense'])}): twins must be evaluated "
        "with the same few-shot draw (lm_eval --seed's fourth value), or their changed "
        "answers may come from the prompt, not the compression")


def identical_draws(dense: pl.DataFrame, where: str) -> str | None:
    """A warning where two or more dense members saw the same prompt for every document."""
    rows = _hashed(dense, "prompt_hash")
    members = rows.get_column("seed").n_unique()
    if members < 2:
        return None
    varied = rows.group_by(_KEYS).agg(pl.col("prompt_hash").n_unique() > 1)
    if varied.get_column("prompt_hash").any():
        return None
    return (f"{where}: the {members} dense members saw identical prompts for every document "
            "(prompt_hash): they are not different few-shot draws, so the dense-vs-dense "
            "null has no variation to measure; evaluate each member with its own few-shot "
            "seed (lm_eval --seed's fourth value)")
