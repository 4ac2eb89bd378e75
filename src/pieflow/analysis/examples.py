"""Example PIEs: the texts behind the numbers, with class names instead of indices."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from pieflow.labels import LabelKind

EXAMPLES_PER_CELL = 10
NO_LABEL = "(none)"


def split_texts(splits: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Texts of a dataset's splits: ``split``, ``example_id``, ``text``, ``text_pair``."""
    frames = []
    for split, data in sorted(splits.items()):
        pair = (pl.col("text_pair") if "text_pair" in data.columns
                else pl.lit(None, dtype=pl.String).alias("text_pair"))
        frames.append(data.select(pl.lit(split).alias("split"), "example_id", "text", pair))
    return pl.concat(frames)


def _names_expr(column: str, names: list[str], kind: LabelKind) -> pl.Expr:
    """Class names of an int label (generated answers: the answer's text), or of a
    multi-hot list (joined with ", ")."""
    mapping = dict(enumerate(names))
    if kind is not LabelKind.MULTI:
        return pl.col(column).replace_strict(mapping, return_dtype=pl.String)
    indices = pl.col(column).list.eval(pl.arg_where(pl.element() == 1))
    return _index_names_expr(indices, mapping)


def _index_names_expr(indices: pl.Expr, mapping: dict[int, str]) -> pl.Expr:
    joined = indices.list.eval(
        pl.element().cast(pl.Int64).replace_strict(mapping, return_dtype=pl.String)
    ).list.join(", ")
    return pl.when(joined == "").then(pl.lit(NO_LABEL)).otherwise(joined)


def pie_examples(pies: pl.DataFrame, data: pl.DataFrame, class_names: list[str],
                 kind: LabelKind, influence: pl.DataFrame | None = None,
                 k: int = EXAMPLES_PER_CELL) -> pl.DataFrame:
    """The ``k`` PIEs per split on which the pruned population agrees most.

    Ordered by ``pruned_agreement`` (descending), then ``dense_agreement`` (descending),
    then ``example_id``: confident, shared changes of answer first. ``data`` holds the
    texts (``split``, ``example_id``, ``text``, ``text_pair``). Labels are class names
    (generated answers: the target and the modal answers as text); for multi-label, the
    names of every class on, joined with ", " (``(none)`` when no class is on), and
    ``flipped_class_names`` lists the classes whose vote changed.
    """
    top = (pies.filter(pl.col("is_pie"))
           .sort(["split", "pruned_agreement", "dense_agreement", "example_id"],
                 descending=[False, True, True, False])
           .with_columns(pl.int_range(pl.len()).over("split").alias("rank"))
           .filter(pl.col("rank") < k))
    texts = data.select("split", "example_id", "text",
                        pl.col("text_pair") if "text_pair" in data.columns
                        else pl.lit(None, dtype=pl.String).alias("text_pair"))
    top = top.join(texts, on=["split", "example_id"], how="left")
    if influence is not None:
        top = top.join(influence.select("split", "example_id", "el2n"),
                       on=["split", "example_id"], how="left")
    else:
        top = top.with_columns(pl.lit(None, dtype=pl.Float64).alias("el2n"))
    flipped = (_index_names_expr(pl.col("flipped_classes"), dict(enumerate(class_names)))
               if kind is LabelKind.MULTI else pl.lit(None, dtype=pl.String))
    return top.select(
        "split", "rank", "example_id", "text", "text_pair",
        _names_expr(kind.label_column, class_names, kind).alias("label_name"),
        _names_expr("dense_modal", class_names, kind).alias("dense_modal_name"),
        _names_expr("pruned_modal", class_names, kind).alias("pruned_modal_name"),
        flipped.alias("flipped_class_names"),
        "dense_agreement", "pruned_agreement", "dense_correct", "pruned_correct", "tie",
        "el2n",
    ).sort(["split", "rank"])
