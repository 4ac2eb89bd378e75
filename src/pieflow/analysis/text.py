"""Are PIEs longer, harder to read or rarer in vocabulary? Text features per example and
the PIE / non-PIE comparison per cell (the statistics are in :mod:`.textstats`)."""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from pieflow.analysis.flags import FLAGS
from pieflow.analysis.textstats import compare_groups, holm, text_features

TEXT_ID_COLUMNS = ("split", "example_id")


def joined_text(data: pl.DataFrame) -> pl.Series:
    """The text a model reads: ``text``, then `` `` and ``text_pair`` when there is one."""
    pair = (pl.col("text_pair") if "text_pair" in data.columns
            else pl.lit(None, dtype=pl.String))
    return data.select(
        pl.when(pair.is_not_null() & (pair != ""))
        .then(pl.col("text").fill_null("") + " " + pair)
        .otherwise(pl.col("text").fill_null("")).alias("text")).to_series()


def dataset_text_features(splits: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """:func:`.textstats.text_features` of every split's examples, with ids."""
    frames = []
    for split, data in sorted(splits.items()):
        features = text_features(joined_text(data).to_list())
        frames.append(pl.concat([
            data.select(pl.lit(split).alias("split"), pl.col("example_id")), features],
            how="horizontal"))
    return pl.concat(frames)


def with_token_counts(features: pl.DataFrame, tokens: pl.DataFrame) -> pl.DataFrame:
    """A dataset's text features with one model's ``n_tokens`` (tokens are per model)."""
    joined = features.join(tokens.select("split", "example_id", "n_tokens"),
                           on=["split", "example_id"], how="left")
    return joined.select("split", "example_id", "n_tokens",
                         pl.exclude("split", "example_id", "n_tokens"))


def text_comparison(pies: pl.DataFrame, features: pl.DataFrame) -> pl.DataFrame:
    """PIEs vs. non-PIEs per split and text feature (:func:`.textstats.compare_groups`).

    ``features`` has ``split``, ``example_id`` and one numeric column per feature. Holm's
    correction (``p_holm``) runs over the features of one split of one cell.
    """
    columns = [name for name, dtype in features.schema.items()
               if name not in TEXT_ID_COLUMNS and dtype.is_numeric()]
    joined = pies.select("split", "example_id", "is_pie").join(
        features, on=["split", "example_id"], how="left")
    frames = []
    for split in sorted(joined.get_column("split").unique().to_list()):
        part = joined.filter(pl.col("split") == split)
        frames.append(compare_groups(part.select(columns), part.get_column("is_pie")
                                     .to_numpy(), columns=columns)
                      .with_columns(pl.lit(split).alias("split")))
    if not frames:
        return pl.DataFrame(schema={"split": pl.String, "feature": pl.String})
    table = pl.concat(frames)
    return table.select("split", *[c for c in table.columns if c != "split"])


def holm_over_table(table: pl.DataFrame, column: str = "p_value") -> pl.Series:
    """Holm-adjusted p-values over every test of a table (one family for all cells)."""
    return pl.Series(f"{column.removesuffix('_value')}_holm_all",
                     holm(table.get_column(column).to_numpy()), dtype=pl.Float64)


def with_holm_over_table(table: pl.DataFrame) -> pl.DataFrame:
    """The stacked comparison with ``p_holm_all``; ``note`` and the flags stay last."""
    if not table.height:
        return table
    table = table.with_columns(holm_over_table(table))
    last = ["p_holm_all", "note", *(f for f in FLAGS if f in table.columns)]
    return table.select(pl.exclude(last), *last)
