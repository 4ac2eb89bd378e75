"""The difficulty scores computed from a dense population's final predictions
(``source: final predictions`` in :mod:`pieflow.influence.scores`), for trained and
imported populations alike.

Pure functions of a tidy ``predictions.parquet`` frame: its rows become the population
matrices the diff stage builds (:mod:`pieflow.diff.populations`: the same modal answers,
ties and pooled generated answers as ``pies.parquet``), then every registered score of
the population's origin fills a column.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from pieflow.diff.populations import multi_label_population, pooled_answers, population_matrix
from pieflow.influence.scores import FINAL_PREDICTIONS, FinalPredictions, scores_from
from pieflow.labels import LabelKind


def final_predictions(predictions: pl.DataFrame, split: str, kind: LabelKind
                      ) -> FinalPredictions:
    """One split of a dense population as matrices (generated answers: pool them first,
    :func:`pieflow.diff.populations.pooled_answers`)."""
    if kind is LabelKind.MULTI:
        preds, _, examples = multi_label_population(predictions, split)
        labels = np.stack(examples.get_column("labels").to_numpy()).astype(np.int64)
    else:
        preds, _, examples = population_matrix(predictions, split)
        labels = examples.get_column("label").to_numpy()
    part = predictions.filter(pl.col("split") == split).sort("example_id", "seed")
    members, n = preds.shape[0], preds.shape[1]

    def matrix(column: str) -> np.ndarray | None:  # (members × examples [× classes])
        if column not in part.columns or part.height == 0 or part[column].null_count():
            return None
        values = part.get_column(column)
        nested = values.dtype.is_nested()
        flat = (values.explode() if nested else values).to_numpy().astype(np.float64)
        by_example = flat.reshape(n, members, -1) if nested else flat.reshape(n, members)
        return np.moveaxis(by_example, 1, 0)

    return FinalPredictions(kind, examples.get_column("example_id").to_numpy(), labels,
                            preds, matrix("logits"), matrix("loss"))


def final_scores(predictions: pl.DataFrame, kind: LabelKind, origins: Sequence[str]
                 ) -> pl.DataFrame:
    """Per split × example, every score computed from the final predictions for any of
    ``origins``: the mean over the dense members (and ``<name>_std`` where the score has
    ``spread``), or the population's own value; Float64, null where the predictions cannot
    give it."""
    if kind is LabelKind.ANSWER:
        predictions = pooled_answers(predictions)
    entries = scores_from(FINAL_PREDICTIONS, tuple(origins))
    frames = []
    for split in sorted(predictions.get_column("split").unique().to_list()):
        final = final_predictions(predictions, split, kind)
        columns: dict[str, object] = {"split": [split] * len(final.example_ids),
                                      "example_id": final.example_ids.astype(np.int64)}
        for score, computation in entries:
            values = computation.function(final)
            columns.update(_columns(score.name, values, score.spread, len(final.example_ids)))
        frames.append(pl.DataFrame(columns))
    if not frames:
        return pl.DataFrame(schema={"split": pl.String, "example_id": pl.Int64, **{
            name: pl.Float64 for score, _ in entries
            for name in (score.name, *([f"{score.name}_std"] if score.spread else []))}})
    return pl.concat(frames)


def _columns(name: str, values: np.ndarray | None, spread: bool, n: int
             ) -> dict[str, pl.Series]:
    """A score's column (and its spread over members): means over members of a 2-D
    (members × examples) result, a 1-D one as it is, nulls for None."""
    if values is None:
        mean = std = pl.Series(name, [None] * n, dtype=pl.Float64)
    else:
        values = np.asarray(values, dtype=np.float64)
        mean = pl.Series(name, values.mean(axis=0) if values.ndim == 2 else values)
        std = pl.Series(name, values.std(axis=0) if values.ndim == 2 else np.zeros(n))
    columns = {name: mean.alias(name).fill_nan(None)}
    if spread:
        columns[f"{name}_std"] = std.alias(f"{name}_std").fill_nan(None)
    return columns
