"""Summary tables over all cells: accuracy, PIE counts and their null rate, loss change
by EL2N bin, per-class scores, PIE classes, text features of PIEs, and example PIEs.

Pure functions of polars frames and numpy arrays, vectorised over examples (loops run
over splits, classes or cells only); cell identity comes from the results paths
``…/{dataset}/{model}/{method}/{sparsity}/…`` via ``cell_of``. Single-label frames have
``label``/``pred`` columns, multi-label ones ``labels``/``preds`` multi-hot lists; every
function here takes both.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import polars as pl

CELL_KEYS = ["dataset", "model", "method", "sparsity"]
EL2N_BINS = 20


def cell_of(path: str | Path) -> dict[str, object]:
    """(dataset, model, method, sparsity) from a cell file's path."""
    parts = Path(path).parts
    dataset, model, method, sparsity = parts[-5:-1]
    return {"dataset": dataset, "model": model, "method": method, "sparsity": int(sparsity)}


def with_cell(frame: pl.DataFrame, path: str | Path) -> pl.DataFrame:
    """Add the cell keys. A metrics frame's ``sparsity`` (the achieved share of zeros,
    0–1) becomes ``achieved_sparsity`` so the cell's nominal percent can take its name."""
    cell = cell_of(path)
    if "sparsity" in frame.columns:
        frame = frame.rename({"sparsity": "achieved_sparsity"})
    return frame.with_columns(
        pl.lit(cell["dataset"]).alias("dataset"), pl.lit(cell["model"]).alias("model"),
        pl.lit(cell["method"]).alias("method"),
        pl.lit(cell["sparsity"], dtype=pl.Int64).alias("sparsity"),
    )


def accuracy_table(metrics: pl.DataFrame) -> pl.DataFrame:
    """Mean ± std over seeds of accuracy, macro-F1 and achieved sparsity per cell and split."""
    return (
        metrics.group_by([*CELL_KEYS, "split"])
        .agg(
            pl.len().alias("n_seeds"),
            pl.col("accuracy").mean().alias("accuracy_mean"),
            pl.col("accuracy").std().alias("accuracy_std"),
            pl.col("macro_f1").mean().alias("macro_f1_mean"),
            pl.col("macro_f1").std().alias("macro_f1_std"),
            pl.col("achieved_sparsity").mean().alias("achieved_sparsity_mean"),
        )
        .sort([*CELL_KEYS, "split"])
    )


def correct_expr(predictions: pl.DataFrame) -> pl.Expr:
    """1.0 where a model is right: the label, or for multi-label every class (exact match)."""
    if "preds" in predictions.columns:
        return (pl.col("preds") == pl.col("labels")).cast(pl.Float64)
    return (pl.col("pred") == pl.col("label")).cast(pl.Float64)


def seed_accuracy_on(predictions: pl.DataFrame, pies: pl.DataFrame) -> pl.DataFrame:
    """Mean over seeds of each model's accuracy on PIEs, non-PIEs and all examples."""
    joined = predictions.join(pies.select("split", "example_id", "is_pie"),
                              on=["split", "example_id"])
    correct = correct_expr(predictions)
    per_seed = joined.group_by(["split", "seed"]).agg(
        correct.filter(pl.col("is_pie")).mean().alias("on_pies"),
        correct.filter(~pl.col("is_pie")).mean().alias("on_non_pies"),
        correct.mean().alias("on_all"),
    )
    return per_seed.group_by("split").agg(pl.col("on_pies", "on_non_pies", "on_all").mean())


def pie_summary(
    pies: pl.DataFrame,
    dense_predictions: pl.DataFrame,
    pruned_predictions: pl.DataFrame,
    influence: pl.DataFrame | None = None,
    collapse_margin: float = 0.01,
) -> pl.DataFrame:
    """PIE count and share per split of one cell, with accuracies and a collapse flag.

    A cell is ``collapsed`` when its pruned models are on average no better than always
    answering the most frequent class (+ ``collapse_margin``): its PIEs are then mostly
    the examples of every other class, not a finding about hard examples.
    """
    label_column = "labels" if "labels" in pies.columns else "label"
    counts = pies.group_by("split").agg(
        pl.len().alias("n_examples"),
        pl.col("is_pie").sum().alias("n_pies"),
        pl.col("is_pie").mean().alias("pie_share"),
        pl.col("tie").sum().alias("n_ties"),
        (pl.col(label_column).value_counts(sort=True).first().struct.field("count")
         / pl.len()).alias("majority_share"),
    )
    dense_acc = seed_accuracy_on(dense_predictions, pies).rename(
        {c: f"dense_accuracy_{c}" for c in ("on_pies", "on_non_pies", "on_all")})
    pruned_acc = seed_accuracy_on(pruned_predictions, pies).rename(
        {c: f"pruned_accuracy_{c}" for c in ("on_pies", "on_non_pies", "on_all")})
    summary = counts.join(dense_acc, on="split").join(pruned_acc, on="split")
    summary = summary.with_columns(
        (pl.col("pruned_accuracy_on_all") <= pl.col("majority_share") + collapse_margin)
        .alias("collapsed"))
    if influence is not None:
        top = top_el2n_pie_share(pies, influence)
        summary = summary.join(top, on="split", how="left")
    return summary.sort("split")


def top_el2n_pie_share(pies: pl.DataFrame, influence: pl.DataFrame,
                       top_share: float = 0.1) -> pl.DataFrame:
    """Share of the top-``top_share`` EL2N examples (per split) that are PIEs."""
    joined = pies.join(influence.select("split", "example_id", "el2n"),
                       on=["split", "example_id"])
    ranked = joined.with_columns(
        (pl.col("el2n").rank("ordinal", descending=True).over("split")
         <= (pl.len().over("split") * top_share).ceil()).alias("top"))
    return ranked.filter(pl.col("top")).group_by("split").agg(
        pl.col("is_pie").mean().alias("top_el2n_pie_share"))


def el2n_bins(
    dense_predictions: pl.DataFrame,
    pruned_predictions: pl.DataFrame,
    influence: pl.DataFrame,
    pies: pl.DataFrame | None = None,
    bins: int = EL2N_BINS,
) -> pl.DataFrame:
    """Mean (pruned − dense) loss per equal-frequency EL2N bin, over same-seed pairs.

    Bins are made from ranks (ordinal, ties broken by example order), so each holds
    n/bins examples even when EL2N values tie. The standard error is over the examples
    of a bin, each example contributing its loss difference averaged over seed pairs.
    """
    pairs = dense_predictions.select("seed", "split", "example_id", pl.col("loss").alias("d")).join(
        pruned_predictions.select("seed", "split", "example_id", pl.col("loss").alias("p")),
        on=["seed", "split", "example_id"],
    )
    per_example = pairs.group_by(["split", "example_id"]).agg(
        (pl.col("p") - pl.col("d")).mean().alias("loss_diff"))
    binned = influence.select("split", "example_id", "el2n").with_columns(
        ((pl.col("el2n").rank("ordinal").over("split") - 1) * bins
         // pl.len().over("split")).cast(pl.Int64).alias("el2n_bin"))
    frame = binned.join(per_example, on=["split", "example_id"])
    if pies is not None:
        frame = frame.join(pies.select("split", "example_id", "is_pie"),
                           on=["split", "example_id"])
    aggs = [
        pl.len().alias("n_examples"),
        pl.col("el2n").mean().alias("el2n_mean"),
        pl.col("loss_diff").mean().alias("loss_diff_mean"),
        (pl.col("loss_diff").std() / pl.len().sqrt()).alias("loss_diff_se"),
    ]
    if pies is not None:
        aggs.append(pl.col("is_pie").mean().alias("pie_share"))
    return frame.group_by(["split", "el2n_bin"]).agg(aggs).sort(["split", "el2n_bin"])


def majority_share(labels: np.ndarray) -> float:
    return float(np.bincount(labels).max() / len(labels)) if len(labels) else 0.0


# --------------------------------------------------------------------------------------
# Collapsed cells
# --------------------------------------------------------------------------------------

COLLAPSE_MARGIN = 0.01


def with_collapsed(table: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """Add the ``collapsed`` flag of each pruned cell × split from the PIE summary.

    Rows of the dense population (or of cells the summary lacks) get null: collapse is a
    property of a pruned cell (see :func:`pie_summary`).
    """
    keys = [*CELL_KEYS, "split"]
    flags = summary.select(*keys, pl.col("collapsed").cast(pl.Boolean))
    return table.drop("collapsed", strict=False).join(flags, on=keys, how="left")


def accuracy_with_collapse(accuracy: pl.DataFrame, summary: pl.DataFrame,
                           margin: float = COLLAPSE_MARGIN) -> pl.DataFrame:
    """The accuracy table with ``majority_share`` and ``collapsed`` for every row.

    Pruned cells take ``collapsed`` from the PIE summary; the dense population is judged
    by the same rule (mean accuracy ≤ majority share + ``margin``), so a dense
    population at chance is flagged too. ``majority_share`` is the share of the most
    frequent label (set) of the dataset's split.
    """
    majority = summary.group_by(["dataset", "split"]).agg(pl.col("majority_share").first())
    table = with_collapsed(accuracy, summary).join(majority, on=["dataset", "split"],
                                                   how="left")
    dense_rule = pl.col("accuracy_mean") <= pl.col("majority_share") + margin
    return table.with_columns(
        pl.when(pl.col("method") == "dense").then(dense_rule)
        .otherwise(pl.col("collapsed")).alias("collapsed"))


# --------------------------------------------------------------------------------------
# Null rate (beyond the study)
# --------------------------------------------------------------------------------------

NULL_REPEATS = 200
NULL_SEED = 0
NULL_CONFIDENCE = 0.95


def _rng_for(seed: int, split: str) -> np.random.Generator:
    """One generator per (seed, split), as :mod:`pieflow.nullrate` does for single-label."""
    return np.random.default_rng([seed, zlib.crc32(split.encode())])


def _draw_stats(null: np.ndarray, pies: np.ndarray, n_examples: int,
                confidence: float) -> dict[str, float]:
    """Mean and percentile interval of null, PIE and excess counts, and as shares."""
    quantiles = [(1 - confidence) / 2, (1 + confidence) / 2]
    stats: dict[str, float] = {}
    for name, values in (("null", null), ("pies", pies), ("excess", pies - null)):
        low, high = np.quantile(values, quantiles)
        stats[f"{name}_mean"] = float(values.mean())
        stats[f"{name}_low"], stats[f"{name}_high"] = float(low), float(high)
    shares = {key.replace("_", "_share_", 1): (value / n_examples if n_examples else np.nan)
              for key, value in stats.items()}
    return {**stats, **shares}


def _subset_weights(order: np.ndarray, start: int, size: int) -> np.ndarray:
    weights = np.zeros(order.shape, dtype=np.float32)
    np.put_along_axis(weights, order[:, start:start + size], 1.0, axis=1)
    return weights


def multi_label_null_draws(dense_votes: np.ndarray, pruned_votes: np.ndarray, repeats: int,
                           rng: np.random.Generator, block: int = 1 << 24
                           ) -> tuple[np.ndarray, np.ndarray, int]:
    """Per-repeat null and PIE counts for multi-label votes (seeds × examples × classes).

    The same resampling as :func:`pieflow.nullrate.excess_over_null`, with the
    multi-label PIE rule: per class a population votes "on" when more than half of its
    ``h`` models predict it, and an example counts when any class's vote differs.
    Each repeat splits the dense seeds into disjoint halves A and B of ``h`` and draws
    ``h`` pruned seeds; null = #(A ≠ B), PIEs = #(A ≠ pruned), sharing A.
    Vectorised over repeats × examples × classes (in chunks of at most ``block``
    elements). Returns (null, pies, h).
    """
    n_dense, n_pruned = dense_votes.shape[0], pruned_votes.shape[0]
    if n_dense < 2 or n_pruned < 1:
        raise ValueError(f"the null rate needs at least 2 dense and 1 pruned seed, got "
                         f"{n_dense} and {n_pruned}")
    if dense_votes.shape[1:] != pruned_votes.shape[1:]:
        raise ValueError("dense and pruned votes cover different examples or classes")
    size = min(n_dense // 2, n_pruned)
    n_examples, n_classes = dense_votes.shape[1:]
    dense = dense_votes.reshape(n_dense, -1).astype(np.float32)
    pruned = pruned_votes.reshape(n_pruned, -1).astype(np.float32)
    per_chunk = max(1, block // max(1, n_examples * n_classes))
    nulls, pies = [], []
    for start in range(0, repeats, per_chunk):
        chunk = min(per_chunk, repeats - start)
        order = rng.random((chunk, n_dense)).argsort(axis=1)
        pruned_order = rng.random((chunk, n_pruned)).argsort(axis=1)
        on_a = 2 * (_subset_weights(order, 0, size) @ dense) > size
        on_b = 2 * (_subset_weights(order, size, size) @ dense) > size
        on_p = 2 * (_subset_weights(pruned_order, 0, size) @ pruned) > size
        shape = (chunk, n_examples, n_classes)
        nulls.append((on_a != on_b).reshape(shape).any(axis=2).sum(axis=1))
        pies.append((on_a != on_p).reshape(shape).any(axis=2).sum(axis=1))
    return (np.concatenate(nulls).astype(np.int64), np.concatenate(pies).astype(np.int64),
            size)


def multi_label_null_rate_table(dense: pl.DataFrame, pruned: pl.DataFrame,
                                repeats: int = NULL_REPEATS, seed: int = NULL_SEED,
                                confidence: float = NULL_CONFIDENCE) -> pl.DataFrame:
    """:func:`pieflow.nullrate.null_rate_table` for multi-label predictions (same columns)."""
    from pieflow.pies import majority_votes, paired_populations

    rows = []
    for split, dense_votes, pruned_votes, _ in paired_populations(dense, pruned):
        null, pies, size = multi_label_null_draws(dense_votes, pruned_votes, repeats,
                                                  _rng_for(seed, split))
        n_examples = dense_votes.shape[1]
        full = (majority_votes(dense_votes)[0] != majority_votes(pruned_votes)[0]).any(axis=1)
        rows.append({"split": split, "n_examples": n_examples,
                     "n_dense_seeds": dense_votes.shape[0],
                     "n_pruned_seeds": pruned_votes.shape[0], "population_size": size,
                     "repeats": repeats, "confidence": confidence,
                     **_draw_stats(null, pies, n_examples, confidence),
                     "n_pies_full": int(full.sum())})
    if not rows:
        return pl.DataFrame(schema={"split": pl.String})
    return pl.DataFrame(rows)


def null_rate(dense: pl.DataFrame, pruned: pl.DataFrame, num_classes: int,
              repeats: int = NULL_REPEATS, seed: int = NULL_SEED,
              confidence: float = NULL_CONFIDENCE) -> pl.DataFrame:
    """PIEs in excess of the dense-vs-dense null per split of one cell (either kind).

    Single-label predictions go to :func:`pieflow.nullrate.null_rate_table`, multi-label
    ones to :func:`multi_label_null_rate_table`; both give the same columns.
    """
    if "preds" in pruned.columns:
        return multi_label_null_rate_table(dense, pruned, repeats, seed, confidence)
    from pieflow.nullrate import null_rate_table

    return null_rate_table(dense, pruned, num_classes, repeats=repeats, seed=seed,
                           confidence=confidence)


# --------------------------------------------------------------------------------------
# Classes
# --------------------------------------------------------------------------------------


def one_hot_matrix(frame: pl.DataFrame, column: str, num_classes: int) -> np.ndarray:
    """(rows × classes) bool: an int class column one-hot, or a multi-hot list column."""
    values = frame.get_column(column)
    if isinstance(values.dtype, pl.List):
        if frame.height == 0:
            return np.zeros((0, num_classes), dtype=bool)
        return values.list.to_array(num_classes).to_numpy().astype(bool)
    return np.eye(num_classes, dtype=bool)[values.to_numpy()]


def label_column(frame: pl.DataFrame) -> str:
    return "labels" if "labels" in frame.columns else "label"


def class_frequencies(data: pl.DataFrame, num_classes: int,
                      class_names: list[str] | None = None) -> pl.DataFrame:
    """Per class of a (training) split: ``n_train``, ``train_share`` and ``class_rank``.

    ``data`` is a split as ``results/{dataset}/data/{split}.parquet`` stores it: an int
    ``label``, or for multi-label data ``labels``, the list of the example's class
    indices. ``class_rank`` 0 is the most frequent class; ties go to the lower class
    index. For multi-label data a class counts every example that carries it (shares may
    sum > 1).
    """
    column = label_column(data)
    values = data.get_column(column)
    if isinstance(values.dtype, pl.List):
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


def _group_sums(keys: pl.DataFrame, matrices: dict[str, np.ndarray]
                ) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """Column sums of each (rows × classes) matrix within groups of equal ``keys`` rows."""
    codes = keys.with_row_index("_row").sort(keys.columns, maintain_order=True)
    order = codes.get_column("_row").to_numpy()
    sorted_keys = codes.drop("_row")
    if sorted_keys.height == 0:
        return sorted_keys, {k: m[:0] for k, m in matrices.items()}
    change = ~sorted_keys.select(
        pl.all_horizontal(pl.all() == pl.all().shift(1)).fill_null(False)).to_series()
    starts = np.flatnonzero(change.to_numpy())
    groups = sorted_keys[starts]
    return groups, {name: np.add.reduceat(m[order].astype(np.int64), starts, axis=0)
                    for name, m in matrices.items()}


def class_scores(predictions: pl.DataFrame, num_classes: int) -> pl.DataFrame:
    """Per split × class: the class's score per model, mean ± std over seeds.

    Single-label: accuracy on the examples of the class (its recall), NaN for a class
    absent from the split. Multi-label: the class's F1 (0 where undefined, as in the
    metrics). Columns: ``split``, ``class``, ``measure``, ``n_seeds``, ``score_mean``,
    ``score_std``.
    """
    multi = "preds" in predictions.columns
    target = one_hot_matrix(predictions, "labels" if multi else "label", num_classes)
    pred = one_hot_matrix(predictions, "preds" if multi else "pred", num_classes)
    groups, sums = _group_sums(predictions.select("split", "seed"), {
        "tp": target & pred, "fp": ~target & pred, "fn": target & ~pred})
    tp, fp, fn = sums["tp"].astype(np.float64), sums["fp"], sums["fn"]
    with np.errstate(divide="ignore", invalid="ignore"):
        if multi:
            denominator = 2 * tp + fp + fn
            score = np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 0.0)
        else:
            score = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
    long = pl.DataFrame({
        "split": np.repeat(groups.get_column("split").to_numpy(), num_classes),
        "seed": np.repeat(groups.get_column("seed").to_numpy(), num_classes),
        "class": np.tile(np.arange(num_classes, dtype=np.int64), groups.height),
        "score": score.reshape(-1),
    }, schema={"split": pl.String, "seed": pl.Int64, "class": pl.Int64,
               "score": pl.Float64}).with_columns(pl.col("score").fill_nan(None))
    return long.group_by(["split", "class"]).agg(
        pl.lit("f1" if multi else "accuracy").alias("measure"),
        pl.col("seed").n_unique().alias("n_seeds"),
        pl.col("score").mean().alias("score_mean"),
        pl.col("score").std().alias("score_std"),
    ).sort(["split", "class"])


def split_class_counts(predictions_or_pies: pl.DataFrame, num_classes: int) -> pl.DataFrame:
    """Per split × class: ``n_examples`` carrying the class and its ``class_share``."""
    frame = predictions_or_pies
    if "seed" in frame.columns:
        frame = frame.filter(pl.col("seed") == pl.col("seed").min())
    groups, sums = _group_sums(frame.select("split"), {
        "n": one_hot_matrix(frame, label_column(frame), num_classes)})
    totals = frame.group_by("split").len()
    return pl.DataFrame({
        "split": np.repeat(groups.get_column("split").to_numpy(), num_classes),
        "class": np.tile(np.arange(num_classes, dtype=np.int64), groups.height),
        "n_examples": sums["n"].reshape(-1),
    }, schema={"split": pl.String, "class": pl.Int64, "n_examples": pl.Int64}).join(
        totals, on="split").with_columns(
        (pl.col("n_examples") / pl.col("len")).alias("class_share")).drop("len")


def class_accuracy(predictions: pl.DataFrame, num_classes: int,
                   frequencies: pl.DataFrame) -> pl.DataFrame:
    """Per split × class of one cell: score (mean ± std over seeds) with class frequency.

    ``frequencies`` is :func:`class_frequencies` of the training split (names, ranks).
    """
    scores = class_scores(predictions, num_classes)
    counts = split_class_counts(predictions, num_classes)
    return (counts.join(scores, on=["split", "class"], how="left")
            .join(frequencies, on="class", how="left")
            .select("split", "class", "class_name", "class_rank", "n_train", "train_share",
                    "n_examples", "class_share", "measure", "n_seeds", "score_mean",
                    "score_std")
            .sort(["split", "class_rank"]))


def pie_class_distribution(pies: pl.DataFrame, num_classes: int,
                           frequencies: pl.DataFrame) -> pl.DataFrame:
    """Per split × class of one cell: how the PIEs' classes compare with the data's.

    ``n_pies``: PIEs carrying the class (their true label); ``pie_share`` = n_pies / all
    PIEs of the split, ``class_share`` = the class's share of all examples,
    ``over_representation`` = pie_share / class_share (> 1: the class is more common
    among PIEs than in the data), ``pie_rate`` = share of the class's examples that are
    PIEs. ``n_pies_dense_votes`` / ``n_pies_pruned_votes``: PIEs on which the dense /
    pruned population votes the class (the modal label; for multi-label a majority "on"
    vote); ``n_flipped``: PIEs on which the two populations' votes for the class differ.
    """
    is_pie = pies.get_column("is_pie").to_numpy().astype(bool)
    truth = one_hot_matrix(pies, label_column(pies), num_classes)
    dense = one_hot_matrix(pies, "dense_modal", num_classes)
    pruned = one_hot_matrix(pies, "pruned_modal", num_classes)
    pie_rows = is_pie[:, None]
    groups, sums = _group_sums(pies.select("split"), {
        "n_examples": truth, "n_pies": truth & pie_rows,
        "n_pies_dense_votes": dense & pie_rows, "n_pies_pruned_votes": pruned & pie_rows,
        "n_flipped": (dense != pruned) & pie_rows})
    totals = pies.group_by("split").agg(pl.len().alias("n_split"),
                                        pl.col("is_pie").sum().alias("n_split_pies"))
    frame = pl.DataFrame({
        "split": np.repeat(groups.get_column("split").to_numpy(), num_classes),
        "class": np.tile(np.arange(num_classes, dtype=np.int64), groups.height),
        **{name: values.reshape(-1) for name, values in sums.items()},
    }, schema={"split": pl.String, "class": pl.Int64, **dict.fromkeys(sums, pl.Int64)})
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


# --------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------

TEXT_ID_COLUMNS = ("split", "example_id")


def joined_text(data: pl.DataFrame) -> pl.Series:
    """The text a model reads: ``text``, then `` `` and ``text_pair`` when there is one."""
    pair = (pl.col("text_pair") if "text_pair" in data.columns
            else pl.lit(None, dtype=pl.String))
    return data.select(
        pl.when(pair.is_not_null() & (pair != ""))
        .then(pl.col("text").fill_null("") + " " + pair)
        .otherwise(pl.col("text").fill_null("")).alias("text")).to_series()


def dataset_text_features(splits: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """:func:`pieflow.textstats.text_features` of every split's examples, with ids."""
    from pieflow.textstats import text_features

    frames = []
    for split, data in sorted(splits.items()):
        features = text_features(joined_text(data).to_list())
        frames.append(pl.concat([
            data.select(pl.lit(split).alias("split"), pl.col("example_id")), features],
            how="horizontal"))
    return pl.concat(frames)


TOKENIZER_KEYS = ("family", "pretrained", "vectors", "trust_remote_code", "max_length",
                  "word_vectors")


def tokenizer_view(spec: dict) -> dict:
    """The part of a model's inference spec that decides its tokens (rule count_tokens'
    params: a new learning rate or hidden size recounts nothing)."""
    return {key: spec[key] for key in TOKENIZER_KEYS if key in spec}


def token_counts(tokenizer, data: pl.DataFrame, max_length: int | None = None
                 ) -> pl.DataFrame:
    """Model tokens per example (text + pair, no special tokens, never truncated).

    ``truncated`` marks examples longer than ``max_length`` once the tokenizer's special
    tokens are added: the model read only their beginning.
    """
    texts = data.get_column("text").fill_null("").to_list()
    pairs = (data.get_column("text_pair").to_list() if "text_pair" in data.columns
             else [None] * data.height)
    has_pairs = any(p for p in pairs)
    out = tokenizer(texts, [p or "" for p in pairs] if has_pairs else None,
                    truncation=False, add_special_tokens=False)
    lengths = np.fromiter((len(ids) for ids in out["input_ids"]), dtype=np.int64,
                          count=data.height)
    special = 0
    if hasattr(tokenizer, "num_special_tokens_to_add"):
        special = int(tokenizer.num_special_tokens_to_add(pair=has_pairs))
    frame = data.select("example_id").with_columns(pl.Series("n_tokens", lengths))
    if max_length is None:
        return frame.with_columns(pl.lit(None, dtype=pl.Boolean).alias("truncated"))
    return frame.with_columns((pl.col("n_tokens") + special > max_length).alias("truncated"))


def text_comparison(pies: pl.DataFrame, features: pl.DataFrame) -> pl.DataFrame:
    """PIEs vs. non-PIEs per split and text feature (:func:`textstats.compare_groups`).

    ``features`` has ``split``, ``example_id`` and one numeric column per feature. Holm's
    correction (``p_holm``) runs over the features of one split of one cell.
    """
    from pieflow.textstats import compare_groups

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
    from pieflow.textstats import holm

    return pl.Series(f"{column.removesuffix('_value')}_holm_all",
                     holm(table.get_column(column).to_numpy()), dtype=pl.Float64)


# --------------------------------------------------------------------------------------
# Example PIEs
# --------------------------------------------------------------------------------------

EXAMPLES_PER_CELL = 10
NO_LABEL = "(none)"


def _names_expr(column: str, names: list[str], multi_hot: bool) -> pl.Expr:
    """Class names of an int label, or of a multi-hot list (joined with ", ")."""
    mapping = dict(enumerate(names))
    if not multi_hot:
        return pl.col(column).replace_strict(mapping, return_dtype=pl.String)
    indices = pl.col(column).list.eval(pl.arg_where(pl.element() == 1))
    return _index_names_expr(indices, mapping)


def _index_names_expr(indices: pl.Expr, mapping: dict[int, str]) -> pl.Expr:
    joined = indices.list.eval(
        pl.element().cast(pl.Int64).replace_strict(mapping, return_dtype=pl.String)
    ).list.join(", ")
    return pl.when(joined == "").then(pl.lit(NO_LABEL)).otherwise(joined)


def pie_examples(pies: pl.DataFrame, data: pl.DataFrame, class_names: list[str],
                 influence: pl.DataFrame | None = None,
                 k: int = EXAMPLES_PER_CELL) -> pl.DataFrame:
    """The ``k`` PIEs per split on which the pruned population agrees most.

    Ordered by ``pruned_agreement`` (descending), then ``dense_agreement`` (descending),
    then ``example_id``: confident, shared changes of answer first. ``data`` holds the
    texts (``split``, ``example_id``, ``text``, ``text_pair``). Labels are class names;
    for multi-label, the names of every class on, joined with ", " (``(none)`` when no
    class is on), and ``flipped_class_names`` lists the classes whose vote changed.
    """
    multi = "labels" in pies.columns
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
    mapping = dict(enumerate(class_names))
    flipped = (_index_names_expr(pl.col("flipped_classes"), mapping) if multi
               else pl.lit(None, dtype=pl.String))
    return top.select(
        "split", "rank", "example_id", "text", "text_pair",
        _names_expr("labels" if multi else "label", class_names, multi).alias("label_name"),
        _names_expr("dense_modal", class_names, multi).alias("dense_modal_name"),
        _names_expr("pruned_modal", class_names, multi).alias("pruned_modal_name"),
        flipped.alias("flipped_class_names"),
        "dense_agreement", "pruned_agreement", "dense_correct", "pruned_correct", "tie",
        "el2n",
    ).sort(["split", "rank"])
