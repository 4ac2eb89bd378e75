"""The analysis rules' jobs: read every cell's results, write tables, figures and views.

Each job loops over *cells* (never over examples) and calls the pure functions of
:mod:`pieflow.analysis`; files next to a cell's are found by the results layout
``results/{dataset}/{model}/{method}/{sparsity}/…`` (the rules declare them as inputs).
Every table is written as Parquet and, for the report, as an HTML view.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from pieflow import io

log = logging.getLogger(__name__)

SORT_KEYS = ["dataset", "model", "method", "sparsity", "split"]


# --------------------------------------------------------------------------------------
# Paths in the results layout
# --------------------------------------------------------------------------------------


def model_dir(cell_file: str | Path) -> Path:
    """``results/{dataset}/{model}`` of a cell file."""
    return Path(cell_file).parent.parent.parent


def dataset_dir(cell_file: str | Path) -> Path:
    """``results/{dataset}`` of a cell file."""
    return model_dir(cell_file).parent


def dense_predictions_path(cell_file: str | Path) -> Path:
    return model_dir(cell_file) / "dense" / "0" / "predictions.parquet"


def classes_of(dataset_path: Path) -> list[str]:
    return io.read_json(dataset_path / "data" / "classes.json")


def prediction_columns(path: str | Path, extra: Iterable[str] = ()) -> list[str]:
    """The columns of a predictions file the analyses need (never the logits)."""
    schema = pl.read_parquet_schema(path)
    wanted = ["seed", "split", "example_id", "label", "pred", "labels", "preds", *extra]
    return [c for c in wanted if c in schema]


def read_predictions(path: str | Path, extra: Iterable[str] = ()) -> pl.DataFrame:
    return pl.read_parquet(path, columns=prediction_columns(path, extra))


def read_splits(dataset_path: Path, splits: Iterable[str]) -> pl.DataFrame:
    """Texts of a dataset's splits: ``split``, ``example_id``, ``text``, ``text_pair``."""
    frames = []
    for split in sorted(set(splits)):
        data = pl.read_parquet(dataset_path / "data" / f"{split}.parquet")
        pair = (pl.col("text_pair") if "text_pair" in data.columns
                else pl.lit(None, dtype=pl.String).alias("text_pair"))
        frames.append(data.select(pl.lit(split).alias("split"), "example_id", "text", pair))
    return pl.concat(frames)


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Cells' tables stacked (single- and multi-label alike); an empty result keeps the
    columns, so a run without any PIE still writes a table with the documented schema."""
    if not frames:
        return pl.DataFrame()
    table = pl.concat([f for f in frames if f.height] or frames, how="diagonal_relaxed")
    keys = [k for k in SORT_KEYS if k in table.columns]
    return table.select(*keys, pl.exclude(keys)).sort(keys, maintain_order=True)


def _collapse_flags(summary_path: str | Path | None) -> pl.DataFrame | None:
    return None if summary_path is None else pl.read_parquet(summary_path)


def _flag(table: pl.DataFrame, summary: pl.DataFrame | None) -> pl.DataFrame:
    from pieflow.analysis import with_collapsed

    if summary is None or table.is_empty():
        return table
    return with_collapsed(table, summary)


def _write(table: pl.DataFrame, outputs: dict[str, str], key: str, title: str,
           description: str) -> None:
    from pieflow.plots import write_table_view

    io.write_parquet(table, outputs[key])
    if f"{key}_view" in outputs:
        write_table_view(table, outputs[f"{key}_view"], title, description,
                         source=str(outputs[key]))


# --------------------------------------------------------------------------------------
# Accuracy, PIEs, EL2N
# --------------------------------------------------------------------------------------


def summarise_accuracy_job(metrics_paths: list[str], outputs: dict[str, str],
                           pie_summary_path: str | None = None) -> None:
    from pieflow.analysis import accuracy_table, accuracy_with_collapse, with_cell
    from pieflow.plots import plot_accuracy

    metrics = pl.concat([with_cell(pl.read_parquet(p), p) for p in metrics_paths],
                        how="diagonal_relaxed")
    table = accuracy_table(metrics)
    summary = _collapse_flags(pie_summary_path)
    if summary is not None:
        table = accuracy_with_collapse(table, summary).sort(SORT_KEYS)
    _write(table, outputs, "table", "Accuracy per population",
           "Accuracy and macro-F1 per dataset × model × method × sparsity and split, mean "
           "and standard deviation over seeds (dense = method 'dense', sparsity 0).")
    plot_accuracy(table, outputs["figure"])
    log.info("accuracy table: %d rows", table.height)


def summarise_pies_job(pies_paths: list[str], outputs: dict[str, str]) -> None:
    """PIE summary and EL2N bins of every pruned cell; inputs found next to each pies file."""
    from pieflow.analysis import cell_of, el2n_bins, pie_summary, with_cell, with_collapsed
    from pieflow.plots import plot_el2n_bins, plot_pie_accuracy, plot_pie_share

    summaries, bins = [], []
    current: tuple[Path | None, pl.DataFrame | None, pl.DataFrame | None] = (None, None, None)
    for path in pies_paths:  # cells come grouped by dataset × model: one dense at a time
        cell = cell_of(path)
        cell_dir, models = Path(path).parent, model_dir(path)
        pies = pl.read_parquet(path)
        if current[0] != models:
            current = (models, read_predictions(dense_predictions_path(path), ["loss"]),
                       pl.read_parquet(models / "influence.parquet"))
        _, dense, influence = current
        pruned = read_predictions(cell_dir / "predictions.parquet", ["loss"])
        summaries.append(with_cell(pie_summary(pies, dense, pruned, influence), path))
        bins.append(with_cell(el2n_bins(dense, pruned, influence, pies), path))
        log.info("%s: %d PIEs", "/".join(map(str, cell.values())), pies["is_pie"].sum())
    summary = _concat(summaries)
    binned = with_collapsed(_concat(bins), summary).sort([*SORT_KEYS, "el2n_bin"])
    _write(summary, outputs, "summary", "PIEs per pruned cell",
           "PIE count and share per pruned cell and split, with the accuracy of the dense "
           "and pruned populations on PIEs, non-PIEs and all examples (mean over seeds), "
           "the collapse flag and the share of top-decile EL2N examples that are PIEs.")
    _write(binned, outputs, "el2n_bins", "Loss change by EL2N bin",
           "Mean (pruned − dense) loss over same-seed pairs in 20 equal-frequency EL2N "
           "bins (0 = easiest), with standard errors and the share of PIEs per bin.")
    plot_pie_share(summary, outputs["pie_figure"])
    plot_el2n_bins(binned, outputs["el2n_figure"])
    if "accuracy_figure" in outputs:
        plot_pie_accuracy(summary, outputs["accuracy_figure"])


# --------------------------------------------------------------------------------------
# Null rate
# --------------------------------------------------------------------------------------


def null_rate_job(dense_path: str, pruned_path: str, classes_path: str, output: str,
                  repeats: int, seed: int, confidence: float) -> None:
    """PIEs in excess of the dense-vs-dense null for one pruned cell."""
    from pieflow.analysis import null_rate

    num_classes = len(io.read_json(classes_path))
    table = null_rate(read_predictions(dense_path), read_predictions(pruned_path),
                      num_classes, repeats=repeats, seed=seed, confidence=confidence)
    io.write_parquet(table, output)
    for row in table.iter_rows(named=True):  # one row per split
        log.info("%s: PIEs %.1f, null %.1f, excess %.1f [%.1f, %.1f] (h = %d, %d repeats)",
                 row["split"], row["pies_mean"], row["null_mean"], row["excess_mean"],
                 row["excess_low"], row["excess_high"], row["population_size"], repeats)


def summarise_null_rate_job(null_paths: list[str], pie_summary_path: str,
                            outputs: dict[str, str]) -> None:
    from pieflow.analysis import with_cell
    from pieflow.plots import plot_null_rate

    table = _concat([with_cell(pl.read_parquet(p), p) for p in null_paths])
    table = _flag(table, _collapse_flags(pie_summary_path))
    _write(table, outputs, "table", "PIEs in excess of the null rate",
           "Per pruned cell and split: modal-label disagreements between two disjoint "
           "halves of the dense seeds (null), between a dense half and as many pruned "
           "seeds (PIEs) and their difference (excess), as counts and shares: mean and "
           "95 % percentile interval over random seed draws.")
    plot_null_rate(table, outputs["figure"])


# --------------------------------------------------------------------------------------
# Classes
# --------------------------------------------------------------------------------------


def summarise_classes_job(prediction_paths: list[str], pies_paths: list[str],
                          pie_summary_path: str, outputs: dict[str, str]) -> None:
    """Per-class scores of every population and the PIE class distribution per cell."""
    from pieflow.analysis import (
        class_accuracy,
        class_frequencies,
        pie_class_distribution,
        with_cell,
    )
    from pieflow.plots import plot_class_accuracy, plot_pie_classes

    summary = _collapse_flags(pie_summary_path)
    frequencies: dict[Path, tuple[int, pl.DataFrame]] = {}

    def classes(cell_file: str) -> tuple[int, pl.DataFrame]:
        folder = dataset_dir(cell_file)
        if folder not in frequencies:
            names = classes_of(folder)
            train = pl.read_parquet(folder / "data" / "train.parquet")
            frequencies[folder] = (len(names), class_frequencies(train, len(names), names))
        return frequencies[folder]

    scores = []
    for path in prediction_paths:
        num_classes, frequency = classes(path)
        scores.append(with_cell(class_accuracy(read_predictions(path), num_classes,
                                               frequency), path))
    distribution = []
    for path in pies_paths:
        num_classes, frequency = classes(path)
        distribution.append(with_cell(pie_class_distribution(
            pl.read_parquet(path), num_classes, frequency), path))
    scores_table = _flag(_concat(scores), summary)
    scores_table = scores_table.with_columns(pl.col("n_seeds").cast(pl.Int64))
    distribution_table = _flag(_concat(distribution), summary)
    order = [*SORT_KEYS, "class_rank"]
    scores_table = scores_table.sort(order)
    distribution_table = distribution_table.sort(order)
    _write(scores_table, outputs, "class_accuracy", "Per-class accuracy / F1",
           "Per population, split and class: the class's accuracy (its recall; "
           "single-label) or F1 (multi-label), mean and standard deviation over seeds, "
           "with the class's frequency; class_rank 0 = most frequent class in training.")
    _write(distribution_table, outputs, "pie_classes", "PIE class distribution",
           "Per pruned cell, split and class: the class's share among all examples vs. "
           "among PIEs (over_representation = pie_share / class_share), the share of the "
           "class's examples that are PIEs, and how often the dense / pruned vote is the "
           "class on PIEs.")
    plot_class_accuracy(scores_table, outputs["class_accuracy_figure"])
    plot_pie_classes(distribution_table, outputs["pie_classes_figure"])


# --------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------


def text_features_job(split_paths: dict[str, str], output: str) -> None:
    """Length, readability and vocabulary features of every example of a dataset."""
    from pieflow.analysis import dataset_text_features

    splits = {split: pl.read_parquet(path) for split, path in split_paths.items()}
    features = dataset_text_features(splits)
    io.write_parquet(features, output)
    log.info("text features of %d examples (%s)", features.height, ", ".join(sorted(splits)))


def token_counts_job(spec: dict[str, Any], split_paths: dict[str, str], output: str) -> None:
    """Tokens per example under the model's own tokenizer (untruncated)."""
    from pieflow.analysis import token_counts
    from pieflow.models import load_tokenizer

    tokenizer = load_tokenizer(spec)
    frames = [token_counts(tokenizer, pl.read_parquet(path), spec.get("max_length"))
              .with_columns(pl.lit(split).alias("split"))
              for split, path in sorted(split_paths.items())]
    table = pl.concat(frames).select("split", "example_id", "n_tokens", "truncated")
    io.write_parquet(table, output)
    log.info("tokens per example: median %s, %d truncated", table["n_tokens"].median(),
             table["truncated"].sum())


def summarise_text_job(pies_paths: list[str], pie_summary_path: str,
                       outputs: dict[str, str]) -> None:
    """PIEs vs. non-PIEs on every text feature, per cell and split."""
    from pieflow.analysis import holm_over_table, text_comparison, with_cell
    from pieflow.plots import plot_text_effects

    features: dict[Path, pl.DataFrame] = {}
    tables = []
    for path in pies_paths:
        models = model_dir(path)
        if models not in features:
            words = pl.read_parquet(dataset_dir(path) / "text_features.parquet")
            tokens = pl.read_parquet(models / "token_counts.parquet",
                                     columns=["split", "example_id", "n_tokens"])
            joined = words.join(tokens, on=["split", "example_id"], how="left")
            features[models] = joined.select("split", "example_id", "n_tokens",
                                             pl.exclude("split", "example_id", "n_tokens"))
        tables.append(with_cell(text_comparison(pl.read_parquet(path), features[models]),
                                path))
    table = _flag(_concat(tables), _collapse_flags(pie_summary_path))
    if table.height:
        table = table.with_columns(holm_over_table(table))
        table = table.select(pl.exclude("p_holm_all", "note", "collapsed"), "p_holm_all",
                             "note", "collapsed")
    _write(table, outputs, "table", "Text features: PIEs vs. non-PIEs",
           "Per pruned cell, split and text feature: medians of PIEs and non-PIEs, "
           "two-sided Mann–Whitney U, rank-biserial effect (> 0: PIEs higher), Holm "
           "p-value over the features of a cell and split (p_holm) and over the whole "
           "table (p_holm_all).")
    plot_text_effects(table, outputs["figure"])


# --------------------------------------------------------------------------------------
# Example PIEs
# --------------------------------------------------------------------------------------


def summarise_pie_examples_job(pies_paths: list[str], pie_summary_path: str,
                               outputs: dict[str, str], k: int) -> None:
    from pieflow.analysis import pie_examples, with_cell

    texts: dict[Path, pl.DataFrame] = {}
    influences: dict[Path, pl.DataFrame] = {}
    tables = []
    for path in pies_paths:
        folder, models = dataset_dir(path), model_dir(path)
        pies = pl.read_parquet(path)
        if folder not in texts:
            texts[folder] = read_splits(folder, pies.get_column("split").unique().to_list())
        if models not in influences:
            influences[models] = pl.read_parquet(models / "influence.parquet")
        tables.append(with_cell(pie_examples(pies, texts[folder], classes_of(folder),
                                             influences[models], k=k), path))
    table = _flag(_concat(tables), _collapse_flags(pie_summary_path))
    if table.height:
        table = table.sort([*SORT_KEYS, "rank"])
    _write(table, outputs, "table", "Example PIEs",
           f"Per pruned cell and split, the {k} PIEs on which the pruned population agrees "
           "most (pruned_agreement, then dense_agreement): text, true label and both "
           "populations' modal labels.")
