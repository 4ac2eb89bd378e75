"""Per-class tables: each population's score per class, and which classes become PIEs.

Class frequencies come from the training split (``class_rank`` 0 = most frequent), so
rare classes can be told apart from common ones. Counting is vectorised over examples
with (rows × classes) indicator matrices; loops run over (split, seed) groups only.

Generated answers have no fixed class list (every distinct answer would be a "class",
thousands of one-example rows): both tables have no rows for them, and the job says why
(:data:`NO_CLASS_LIST`).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from pieflow.labels import LabelKind, f1_per_class, one_hot

_SPLIT = {"split": pl.String}
NO_CLASS_LIST = "does not apply to free-text answers (no fixed class list)"
CLASS_ACCURACY_SCHEMA = {
    **_SPLIT, "class": pl.Int64, "class_name": pl.String, "class_rank": pl.Int64,
    "n_train": pl.Int64, "train_share": pl.Float64, "n_examples": pl.Int64,
    "class_share": pl.Float64, "measure": pl.String, "n_seeds": pl.Int64,
    "score_mean": pl.Float64, "score_std": pl.Float64}
PIE_CLASSES_SCHEMA = {
    **_SPLIT, "class": pl.Int64, "class_name": pl.String, "class_rank": pl.Int64,
    "n_examples": pl.Int64, "class_share": pl.Float64, "n_pies": pl.Int64,
    "pie_share": pl.Float64, "pie_rate": pl.Float64, "over_representation": pl.Float64,
    "n_pies_dense_votes": pl.Int64, "n_pies_pruned_votes": pl.Int64, "n_flipped": pl.Int64}


def one_hot_matrix(frame: pl.DataFrame, column: str, num_classes: int,
                   kind: LabelKind) -> np.ndarray:
    """(rows × classes) bool: a class-index column one-hot, or a multi-hot list column."""
    values = frame.get_column(column)
    if kind is LabelKind.MULTI:
        if frame.height == 0:
            return np.zeros((0, num_classes), dtype=bool)
        return values.list.to_array(num_classes).to_numpy().astype(bool)
    return one_hot(values.to_numpy(), num_classes)


def class_frequencies(data: pl.DataFrame, num_classes: int, kind: LabelKind,
                      class_names: list[str] | None = None) -> pl.DataFrame:
    """Per class of a (training) split: ``n_train``, ``train_share`` and ``class_rank``.

    ``data`` is a prepared split: an int ``label``, or for multi-label data ``labels``,
    the list of the example's class indices. ``class_rank`` 0 is the most frequent class;
    ties go to the lower class index. For multi-label data a class counts every example
    that carries it (shares may sum > 1).
    """
    values = data.get_column(kind.label_column)
    if kind is LabelKind.MULTI:
        values = values.explode().drop_nulls()
    counts = np.bincount(values.cast(pl.Int64).to_numpy(), minlength=num_classes)[:num_classes]
    order = np.lexsort((np.arange(num_classes), -counts))
    rank = np.empty(num_classes, dtype=np.int64)
    rank[order] = np.arange(num_classes)
    names = class_names or [str(c) for c in range(num_classes)]
    return pl.DataFrame({
        "class": np.arange(num_classes, dtype=np.int64),
        "class_name": names,
        "n_train": counts.astype(np.int64),
        "train_share": counts / max(data.height, 1),
        "class_rank": rank,
    })


def _groups(keys: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Rows grouped by equal ``keys``: (one key row per group, row order, group starts)."""
    codes = keys.with_row_index("_row").sort(keys.columns, maintain_order=True)
    order = codes.get_column("_row").to_numpy()
    sorted_keys = codes.drop("_row")
    if sorted_keys.height == 0:
        return sorted_keys, order, np.zeros(0, dtype=np.int64)
    change = ~sorted_keys.select(
        pl.all_horizontal(pl.all() == pl.all().shift(1)).fill_null(False)).to_series()
    starts = np.flatnonzero(change.to_numpy())
    return sorted_keys[starts], order, starts


def _group_sums(keys: pl.DataFrame, matrices: dict[str, np.ndarray]
                ) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """Column sums of each (rows × classes) matrix within groups of equal ``keys`` rows."""
    groups, order, starts = _groups(keys)
    if groups.height == 0:
        return groups, {k: m[:0] for k, m in matrices.items()}
    return groups, {name: np.add.reduceat(m[order].astype(np.int64), starts, axis=0)
                    for name, m in matrices.items()}


def _per_class(groups: pl.DataFrame, num_classes: int, values: dict[str, np.ndarray],
               keys: dict[str, pl.DataType], dtype: pl.DataType) -> pl.DataFrame:
    """(groups × classes) arrays as a long frame: one row per group × class."""
    return pl.DataFrame({
        **{key: np.repeat(groups.get_column(key).to_numpy(), num_classes) for key in keys},
        "class": np.tile(np.arange(num_classes, dtype=np.int64), groups.height),
        **{name: array.reshape(-1) for name, array in values.items()},
    }, schema={**keys, "class": pl.Int64, **dict.fromkeys(values, dtype)})


def class_scores(predictions: pl.DataFrame, num_classes: int, kind: LabelKind
                 ) -> pl.DataFrame:
    """Per split × class: the class's score per model, mean ± std over seeds.

    Single-label: accuracy on the examples of the class (its recall), null for a class
    absent from the split. Multi-label: the class's F1 (:func:`pieflow.labels.f1_per_class`,
    0 where undefined, as in the metrics). Columns: ``split``, ``class``, ``measure``,
    ``n_seeds``, ``score_mean``, ``score_std``.
    """
    target = one_hot_matrix(predictions, kind.label_column, num_classes, kind)
    pred = one_hot_matrix(predictions, kind.pred_column, num_classes, kind)
    keys = predictions.select("split", "seed")
    if kind is LabelKind.MULTI:
        groups, order, starts = _groups(keys)
        rows = np.split(order, starts[1:]) if starts.size else []
        score = np.array([f1_per_class(target[r], pred[r]) for r in rows],
                         dtype=np.float64).reshape(-1, num_classes)
    else:
        groups, sums = _group_sums(keys, {"tp": target & pred, "fn": target & ~pred})
        tp, fn = sums["tp"].astype(np.float64), sums["fn"]
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
    long = _per_class(groups, num_classes, {"score": score},
                      {**_SPLIT, "seed": pl.Int64}, pl.Float64)
    return long.with_columns(pl.col("score").fill_nan(None)).group_by(["split", "class"]).agg(
        pl.lit("f1" if kind is LabelKind.MULTI else "accuracy").alias("measure"),
        pl.col("seed").n_unique().alias("n_seeds"),
        pl.col("score").mean().alias("score_mean"),
        pl.col("score").std().alias("score_std"),
    ).sort(["split", "class"])


def split_class_counts(frame: pl.DataFrame, num_classes: int, kind: LabelKind
                       ) -> pl.DataFrame:
    """Per split × class: ``n_examples`` carrying the class and its ``class_share``.

    ``frame``: predictions (counted once, from the first seed) or PIEs.
    """
    if "seed" in frame.columns:
        frame = frame.filter(pl.col("seed") == pl.col("seed").min())
    groups, sums = _group_sums(frame.select("split"), {
        "n_examples": one_hot_matrix(frame, kind.label_column, num_classes, kind)})
    totals = frame.group_by("split").len()
    return _per_class(groups, num_classes, sums, _SPLIT, pl.Int64).join(
        totals, on="split").with_columns(
        (pl.col("n_examples") / pl.col("len")).alias("class_share")).drop("len")


def class_accuracy(predictions: pl.DataFrame, num_classes: int,
                   frequencies: pl.DataFrame, kind: LabelKind) -> pl.DataFrame:
    """Per split × class of one cell: score (mean ± std over seeds) with class frequency.

    ``frequencies`` is :func:`class_frequencies` of the training split (names, ranks).
    Generated answers: no rows (:data:`NO_CLASS_LIST`).
    """
    if not kind.has_classes:
        return pl.DataFrame(schema=CLASS_ACCURACY_SCHEMA)
    scores = class_scores(predictions, num_classes, kind)
    counts = split_class_counts(predictions, num_classes, kind)
    return (counts.join(scores, on=["split", "class"], how="left")
            .join(frequencies, on="class", how="left")
            .select("split", "class", "class_name", "class_rank", "n_train", "train_share",
                    "n_examples", "class_share", "measure", "n_seeds", "score_mean",
                    "score_std")
            .sort(["split", "class_rank"]))


def pie_class_distribution(pies: pl.DataFrame, num_classes: int,
                           frequencies: pl.DataFrame, kind: LabelKind) -> pl.DataFrame:
    """Per split × class of one cell: how the PIEs' classes compare with the data's.

    ``n_pies``: PIEs carrying the class (their true label); ``pie_share`` = n_pies / all
    PIEs of the split, ``class_share`` = the class's share of all examples,
    ``over_representation`` = pie_share / class_share (> 1: the class is more common
    among PIEs than in the data), ``pie_rate`` = share of the class's examples that are
    PIEs. ``n_pies_dense_votes`` / ``n_pies_pruned_votes``: PIEs on which the dense /
    pruned population votes the class (the modal label; for multi-label a majority "on"
    vote); ``n_flipped``: PIEs on which the two populations' votes for the class differ.
    Generated answers: no rows (:data:`NO_CLASS_LIST`).
    """
    if not kind.has_classes:
        return pl.DataFrame(schema=PIE_CLASSES_SCHEMA)
    is_pie = pies.get_column("is_pie").to_numpy().astype(bool)
    truth = one_hot_matrix(pies, kind.label_column, num_classes, kind)
    dense = one_hot_matrix(pies, "dense_modal", num_classes, kind)
    pruned = one_hot_matrix(pies, "pruned_modal", num_classes, kind)
    pie_rows = is_pie[:, None]
    groups, sums = _group_sums(pies.select("split"), {
        "n_examples": truth, "n_pies": truth & pie_rows,
        "n_pies_dense_votes": dense & pie_rows, "n_pies_pruned_votes": pruned & pie_rows,
        "n_flipped": (dense != pruned) & pie_rows})
    totals = pies.group_by("split").agg(pl.len().alias("n_split"),
                                        pl.col("is_pie").sum().alias("n_split_pies"))
    frame = _per_class(groups, num_classes, sums, _SPLIT, pl.Int64)
    return (frame.join(totals, on="split")
            .with_columns(
                (pl.col("n_examples") / pl.col("n_split")).alias("class_share"),
                pl.when(pl.col("n_split_pies") > 0)
                .then(pl.col("n_pies") / pl.col("n_split_pies")).alias("pie_share"),
                pl.when(pl.col("n_examples") > 0)
                .then(pl.col("n_pies") / pl.col("n_examples")).alias("pie_rate"))
            .with_columns(
                pl.when(pl.col("class_share") > 0)
                .then(pl.col("pie_share") / pl.col("class_share"))
                .alias("over_representation"))
            .join(frequencies.select("class", "class_name", "class_rank"), on="class",
                  how="left")
            .select("split", "class", "class_name", "class_rank", "n_examples",
                    "class_share", "n_pies", "pie_share", "pie_rate",
                    "over_representation", "n_pies_dense_votes", "n_pies_pruned_votes",
                    "n_flipped")
            .sort(["split", "class_rank"]))
