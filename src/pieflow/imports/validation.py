"""Checks of imported populations, each refusal naming the file and the rows.

* every seed predicts each example of a split once, and every seed the same examples
  (the population matrices of the diff need a full seeds × examples grid);
* the files agree on each example's label (dense and compressed, every seed);
* a compressed population covers exactly the dense population's examples;
* imported examples exist in the dataset's prepared splits, with the same labels;
* generated answers: every row has its score (``correct``), an answer equal to the
  target is scored right, and the same answer to the same example is scored the same
  everywhere (any seed, dense and compressed), so a modal answer has one correctness.
"""

from __future__ import annotations

import polars as pl

from pieflow.imports.files import PredictionsError, location, rows_text
from pieflow.imports.reading import fail
from pieflow.labels import label_kind_of

KEY = ["split", "example_id"]
_SHOWN = 5


def _ids(values: list[int]) -> str:
    return ", ".join(map(str, values[:_SHOWN])) + (", …" if len(values) > _SHOWN else "")


def label_column(frame: pl.DataFrame) -> str:
    return label_kind_of(frame).label_column


def check_population(frame: pl.DataFrame, where: str) -> None:
    """Each (seed, split, example) once, and every seed over the same examples."""
    ordered = frame.sort("_file", "_row")
    repeated = ordered.filter(pl.struct("seed", *KEY).is_duplicated())
    if repeated.height:
        first = repeated.row(0, named=True)
        again = repeated.filter((pl.col("seed") == first["seed"]) & (
            pl.col("split") == first["split"]) & (pl.col("example_id") == first[
                "example_id"])).row(1, named=True)
        raise PredictionsError(
            f"{location(again['_file'], again['_row'])}: example {first['example_id']} of "
            f"split {first['split']} again for seed {first['seed']} (first at "
            f"{location(first['_file'], first['_row'])}); each file gives one prediction "
            "per example")
    for split in sorted(frame.get_column("split").unique().to_list()):
        part = frame.filter(pl.col("split") == split)
        every = set(part.get_column("example_id").to_list())
        for (seed,), rows in part.group_by("seed", maintain_order=True):
            missing = sorted(every - set(rows.get_column("example_id").to_list()))
            if missing:
                other = part.filter(pl.col("example_id") == missing[0]).row(0, named=True)
                files = ", ".join(sorted(set(rows.get_column("_file").to_list())))
                raise PredictionsError(
                    f"{where}: seed {seed} ({files}) has no prediction for {len(missing)} "
                    f"example{'s' * (len(missing) > 1)} of split {split} that other seeds "
                    f"have: example_id {_ids(missing)} (e.g. seed {other['seed']} at "
                    f"{location(other['_file'], other['_row'])}); every seed must predict "
                    "the same examples")


def check_labels(frame: pl.DataFrame) -> None:
    """Every row of an example (any file, any seed) gives it the same label."""
    column = label_column(frame)
    first = frame.sort("_file", "_row").group_by(KEY, maintain_order=True).first().select(
        *KEY, pl.col(column).alias("_label"), pl.col("_file").alias("_first_file"),
        pl.col("_row").alias("_first_row"))
    joined = frame.join(first, on=KEY).filter(pl.col(column) != pl.col("_label"))
    if joined.height:
        row = joined.sort("_file", "_row").row(0, named=True)
        raise PredictionsError(
            f"{location(row['_file'], row['_row'])}: label {row[column]!r} for example "
            f"{row['example_id']} (split {row['split']}) disagrees with "
            f"{location(row['_first_file'], row['_first_row'])}, which says "
            f"{row['_label']!r}; every file must give an example the same label")


def check_within(frame: pl.DataFrame, reference: pl.DataFrame, name: str) -> None:
    """Every imported example is one of ``reference``'s (``split``, ``example_id``, the
    label column), with the same label."""
    column = label_column(frame)
    joined = frame.join(reference.select(*KEY, pl.col(column).alias("_reference"),
                                         pl.lit(True).alias("_known")), on=KEY, how="left")
    unknown = joined.filter(pl.col("_known").is_null())
    if unknown.height:
        path = unknown.get_column("_file")[0]
        rows = unknown.filter(pl.col("_file") == path)
        raise PredictionsError(
            f"{path}, {rows_text(path, rows.get_column('_row').to_list())}: example_id "
            f"{_ids(rows.get_column('example_id').to_list())} of split "
            f"{rows.get_column('split')[0]} not in {name}")
    fail(joined, pl.col(column) != pl.col("_reference"),
         f"column {column!r}: labels differ from {name}'s")


def check_covers(frame: pl.DataFrame, reference: pl.DataFrame, name: str, where: str) -> None:
    """``frame`` has every (split, example) of ``reference``."""
    missing = reference.select(KEY).unique().join(frame.select(KEY).unique(), on=KEY,
                                                 how="anti").sort(KEY)
    if missing.height:
        split = missing.get_column("split")[0]
        ids = missing.filter(pl.col("split") == split).get_column("example_id").to_list()
        raise PredictionsError(
            f"{where}: no prediction for {len(ids)} example{'s' * (len(ids) > 1)} of split "
            f"{split} that {name} has: example_id {_ids(ids)}; the dense and compressed "
            "populations must predict the same examples")


def _verdict(correct: bool) -> str:
    return "right" if correct else "wrong"


def check_answer_scores(frame: pl.DataFrame, reference: pl.DataFrame | None = None,
                        name: str = "") -> None:
    """Generated answers: ``correct`` (the line's metric) on every row, and one score per
    (split, example, answer) across the rows of ``frame``; with ``reference`` (the dense
    population's ``predictions.parquet`` rows, answers as ids like ``frame``'s), the same
    score as there too."""
    fail(frame, pl.col("correct").is_null(), "column 'correct': no score (the line's metric)")
    fail(frame, (pl.col("pred") == pl.col("label")) & ~pl.col("correct"),
         "column 'correct': an answer equal to its target is scored wrong (pieflow counts "
         "every answer the metric calls right as the target, and the target as right)")
    key = [*KEY, "pred"]
    ordered = frame.sort("_file", "_row")
    first = ordered.group_by(key, maintain_order=True).first().select(
        *key, pl.col("correct").alias("_first"), pl.col("_file").alias("_first_file"),
        pl.col("_row").alias("_first_row"))
    clash = ordered.join(first, on=key).filter(pl.col("correct") != pl.col("_first"))
    if clash.height:
        row = clash.row(0, named=True)
        raise PredictionsError(
            f"{location(row['_file'], row['_row'])}: answer {row['pred']!r} to example "
            f"{row['example_id']} (split {row['split']}) is scored {_verdict(row['correct'])}"
            f", but {_verdict(row['_first'])} at "
            f"{location(row['_first_file'], row['_first_row'])}; the same answer must get "
            "the same score in every file (one metric, one lm-eval version)")
    if reference is None:
        return
    scores = reference.select(*key, pl.col("correct").alias("_reference")).unique(key)
    joined = frame.join(scores, on=key, how="inner")
    fail(joined, pl.col("correct") != pl.col("_reference"),
         f"column 'correct': an answer is scored otherwise than the same answer in {name}; "
         "the same answer must get the same score in every file (one metric, one lm-eval "
         "version)")
