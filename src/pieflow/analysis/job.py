"""The analysis rules' jobs: the stage's only I/O.

Each job receives from its rule every file it reads and the keys that go with them:
per-cell files with ``cells`` (one key dict per file, in order), per-dataset files with
``datasets``, per-model files with ``models`` (``{"dataset", "model"}`` dicts). It reads
what it needs (never the logits), calls the pure functions of the table modules, and
writes each table as Parquet and, for the report, as an HTML view (:mod:`views` returns
the page), with its figures (the :mod:`plots` return them). Loops run over cells, never
over examples.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from pieflow import io
from pieflow.analysis.accuracy import accuracy_table, cell_metrics
from pieflow.analysis.cells import SORT_KEYS, noted_cells, stack, with_compression, with_keys
from pieflow.analysis.classes import (
    CLASS_ACCURACY_SCHEMA,
    NO_CLASS_LIST,
    PIE_CLASSES_SCHEMA,
    class_accuracy,
    class_frequencies,
    pie_class_distribution,
)
from pieflow.analysis.examples import pie_examples, split_texts
from pieflow.analysis.findings import EFFECT, findings_description, findings_table, findings_view
from pieflow.analysis.flags import accuracy_with_flags, with_flags, with_flags_unless_empty
from pieflow.analysis.pies import difficulty_source, el2n_bins, pie_summary
from pieflow.analysis.plots.accuracy import plot_accuracy
from pieflow.analysis.plots.classes import plot_class_accuracy, plot_pie_classes
from pieflow.analysis.plots.nullrate import plot_null_rate
from pieflow.analysis.plots.pies import plot_el2n_bins, plot_pie_accuracy, plot_pie_share
from pieflow.analysis.plots.predictors import plot_pie_predictors
from pieflow.analysis.plots.text import plot_text_effects
from pieflow.analysis.plots.training import plot_training_curves
from pieflow.analysis.predictors import (
    DECILE_SCHEMA,
    PREDICTOR_CONFIDENCE,
    PREDICTOR_REPEATS,
    cell_predictors,
)
from pieflow.analysis.text import (
    dataset_text_features,
    text_comparison,
    with_holm_over_table,
    with_token_counts,
)
from pieflow.analysis.tokens import token_counts
from pieflow.analysis.training import convergence_notes, training_table
from pieflow.analysis.views import table_view_html
from pieflow.influence.scores import DIFFICULTY_SCORES, IMPORTED, TRAINED
from pieflow.labels import LabelKind, label_kind

log = logging.getLogger(__name__)

Keys = Mapping[str, Any]
Model = tuple[str, str]
INFLUENCE_COLUMNS = ["split", "example_id", "el2n"]


# --------------------------------------------------------------------------------------
# Reading and writing
# --------------------------------------------------------------------------------------


def _by_dataset(paths: Sequence[str], datasets: Sequence[str]) -> dict[str, str]:
    return dict(zip(datasets, paths, strict=True))


def _by_model(paths: Sequence[str], models: Sequence[Keys]) -> dict[Model, str]:
    return {(m["dataset"], m["model"]): p for p, m in zip(paths, models, strict=True)}


def _model(keys: Keys) -> Model:
    return keys["dataset"], keys["model"]


def _label_kinds(meta: Sequence[str], datasets: Sequence[str]) -> dict[str, LabelKind]:
    """Each dataset's label kind, as recorded when it was prepared."""
    return {dataset: label_kind(io.read_json(path))
            for dataset, path in _by_dataset(meta, datasets).items()}


def _read_predictions(path: str, kind: LabelKind, extra: Iterable[str] = ()) -> pl.DataFrame:
    """The columns of a predictions file the analyses need (never the logits; generated
    answers: with ``correct``, their correctness)."""
    columns = ["seed", "split", "example_id", *kind.prediction_columns, *extra]
    return pl.read_parquet(path, columns=columns)


def _columns(path: str) -> list[str]:
    """The column names of a Parquet file (its schema only)."""
    return pq.read_schema(path).names


def _difficulty_sources(influence: str) -> pl.Series | None:
    """An influence file's ``difficulty_source`` column; None if it has none (trained
    models' files)."""
    if "difficulty_source" not in _columns(influence):
        return None
    return pl.read_parquet(influence, columns=["difficulty_source"]).get_column(
        "difficulty_source")


def _stacked(paths: Sequence[str], cells: Sequence[Keys]) -> pl.DataFrame:
    return stack([with_keys(pl.read_parquet(path), keys)
                  for path, keys in zip(paths, cells, strict=True)])


def _write(table: pl.DataFrame, outputs: Mapping[str, str], key: str, title: str,
           description: str, view: pl.DataFrame | None = None) -> None:
    """``table`` as Parquet and, where the rule asks for ``<key>_view``, as an HTML page
    showing ``view`` (default: the table)."""
    io.write_parquet(table, outputs[key])
    if f"{key}_view" in outputs:
        page = table_view_html(table if view is None else view, title, description,
                               source=str(outputs[key]))
        io.write_text(page, outputs[f"{key}_view"])


# --------------------------------------------------------------------------------------
# Accuracy, PIEs, EL2N, null rate
# --------------------------------------------------------------------------------------


def summarise_accuracy_job(metrics: Sequence[str], cells: Sequence[Keys], summary: str,
                           outputs: Mapping[str, str],
                           compression: Mapping[str, str] | None = None) -> None:
    """Accuracy of every population (dense, control, pruned), flagged by the PIE summary."""
    frames = [cell_metrics(pl.read_parquet(path), keys)
              for path, keys in zip(metrics, cells, strict=True)]
    table = accuracy_table(pl.concat(frames, how="diagonal_relaxed"))
    table = accuracy_with_flags(table, pl.read_parquet(summary)).sort(SORT_KEYS)
    if compression:
        table = with_compression(table, compression)
    _write(table, outputs, "table", "Accuracy per population",
           "Accuracy and macro-F1 per dataset × model × method × sparsity and split, mean "
           "and standard deviation over seeds (dense = method 'dense', sparsity 0; the "
           "training-budget control = method 'control', sparsity 0).")
    io.write_figure(plot_accuracy(table), outputs["figure"])
    log.info("accuracy table: %d rows", table.height)


def summarise_pies_job(pies: Sequence[str], pruned: Sequence[str], cells: Sequence[Keys],
                       dense: Sequence[str], influence: Sequence[str],
                       models: Sequence[Keys], meta: Sequence[str],
                       datasets: Sequence[str], outputs: Mapping[str, str]) -> None:
    """PIE summary and EL2N bins of every pruned (and control) cell against its dense
    population."""
    kinds = _label_kinds(meta, datasets)
    dense_of, influence_of = _by_model(dense, models), _by_model(influence, models)
    summaries, bins = [], []
    current: tuple[Model | None, pl.DataFrame | None, pl.DataFrame | None] = (None, None, None)
    # grouped by dataset × model (stable), so one dense population is in memory at a time
    ordered = sorted(zip(pies, pruned, cells, strict=True), key=lambda c: _model(c[2]))
    for pies_path, pruned_path, keys in ordered:
        kind, model = kinds[keys["dataset"]], _model(keys)
        if current[0] != model:
            current = (model, _read_predictions(dense_of[model], kind, ["loss"]),
                       pl.read_parquet(influence_of[model], columns=INFLUENCE_COLUMNS))
            source = difficulty_source(_difficulty_sources(influence_of[model]))
        _, dense_predictions, scores = current
        cell_pies = pl.read_parquet(pies_path)
        pruned_predictions = _read_predictions(pruned_path, kind, ["loss"])
        labelled = pl.lit(source).alias("difficulty_source")
        summaries.append(with_keys(pie_summary(cell_pies, dense_predictions,
                                               pruned_predictions, kind, scores), keys)
                         .with_columns(labelled))
        bins.append(with_keys(el2n_bins(dense_predictions, pruned_predictions, scores,
                                        cell_pies), keys).with_columns(labelled))
        log.info("%s: %d PIEs", "/".join(map(str, keys.values())), cell_pies["is_pie"].sum())
    summary = stack(summaries)
    binned = with_flags(stack(bins), summary).sort([*SORT_KEYS, "el2n_bin"])
    _write(summary, outputs, "summary", "PIEs per pruned cell",
           "PIE count and share per pruned cell (and the training-budget control, method "
           "'control') and split, with the accuracy of the dense and pruned populations on "
           "PIEs, non-PIEs and all examples (mean over seeds), the collapsed and "
           "undertrained flags and the share of top-decile EL2N examples that are PIEs.")
    _write(binned, outputs, "el2n_bins", "Loss change by EL2N bin",
           "Mean (pruned − dense) loss over same-seed pairs in 20 equal-frequency EL2N "
           "bins (0 = easiest), with standard errors and the share of PIEs per bin.")
    io.write_figure(plot_pie_share(summary), outputs["pie_figure"])
    io.write_figure(plot_el2n_bins(binned), outputs["el2n_figure"])
    if "accuracy_figure" in outputs:
        io.write_figure(plot_pie_accuracy(summary), outputs["accuracy_figure"])


def summarise_null_rate_job(null_rates: Sequence[str], cells: Sequence[Keys], summary: str,
                            outputs: Mapping[str, str]) -> None:
    """The per-cell null rates (diff stage) in one table, flagged and drawn."""
    table = stack([with_keys(pl.read_parquet(path), keys)
                   for path, keys in zip(null_rates, cells, strict=True)])
    table = with_flags_unless_empty(table, pl.read_parquet(summary))
    said = noted_cells(table)  # imported cells without a null rate
    _write(table, outputs, "table", "PIEs in excess of the null rate",
           "Per pruned cell and split: modal-label disagreements between two disjoint "
           "halves of the dense seeds (null), between a dense half and as many pruned "
           "seeds (PIEs) and their difference (excess), as counts and shares: mean and "
           "95 % percentile interval over random seed draws." + (
               f" Without a null rate (note):{said}" if said else ""))
    io.write_figure(plot_null_rate(table), outputs["figure"])


# --------------------------------------------------------------------------------------
# Difficulty scores as predictors of PIEs
# --------------------------------------------------------------------------------------


def _score_sources(influence: str) -> dict[str, tuple[str, str]]:
    """name → (hard, what it is computed from) of every registered score for the origin
    of an influence file (imported files say where their ``el2n`` comes from)."""
    sources = _difficulty_sources(influence)
    origin = TRAINED if sources is None else IMPORTED
    found = {}
    for name, score in DIFFICULTY_SCORES.items():
        computation = score.computation(origin)
        if computation is not None:
            found[name] = (score.hard, difficulty_source(sources) if name == "el2n"
                           else computation.source)
    return found


def summarise_pie_predictors_job(pies: Sequence[str], cells: Sequence[Keys],
                                 influence: Sequence[str], models: Sequence[Keys],
                                 summary: str, outputs: Mapping[str, str]) -> None:
    """How well each registered difficulty score separates every cell's PIEs from its
    other examples (AUROC with a bootstrap interval, the PIE share of its hardest decile)
    and the PIE rate per score decile."""
    influence_of = _by_model(influence, models)
    per_model: dict[Model, tuple[pl.DataFrame, dict[str, tuple[str, str]]]] = {}
    tables, binned = [], []
    for path, keys in zip(pies, cells, strict=True):
        model = _model(keys)
        if model not in per_model:
            scores = _score_sources(influence_of[model])
            present = [c for c in scores if c in _columns(influence_of[model])]
            per_model[model] = (pl.read_parquet(influence_of[model],
                                                columns=["split", "example_id", *present]),
                                {name: scores[name] for name in present})
        table, bins = cell_predictors(pl.read_parquet(path, columns=["split", "example_id",
                                                                     "is_pie"]),
                                      *per_model[model], keys)
        tables.append(with_keys(table, keys))
        binned.append(with_keys(bins, keys))
    order = {name: i for i, name in enumerate(DIFFICULTY_SCORES)}
    rank = pl.col("score").replace_strict(order, default=len(order), return_dtype=pl.Int64)
    flags = pl.read_parquet(summary)
    table = with_flags_unless_empty(stack(tables), flags)
    deciles = with_flags_unless_empty(stack(binned), flags)
    if table.height:
        table = table.sort([*SORT_KEYS, rank])
        deciles = deciles.sort([*SORT_KEYS, rank, "decile"])
    elif not deciles.columns:
        deciles = pl.DataFrame(schema=DECILE_SCHEMA)
    described = "; ".join(f"{name} ({s.hard} = hard): {s.description.rstrip('.')}"
                          for name, s in DIFFICULTY_SCORES.items())
    _write(table, outputs, "table", "Difficulty scores as predictors of PIEs",
           "Per pruned cell, split and difficulty score: AUROC of the score (oriented so "
           "that higher = harder) for telling PIEs from the other examples — 0.5 is chance, "
           "1 a perfect separation, ties count half (Mann–Whitney U) — with a "
           f"{PREDICTOR_CONFIDENCE * 100:.0f} % percentile interval over {PREDICTOR_REPEATS} "
           "seeded bootstrap resamples of the examples, the share of PIEs among the 10 % "
           "hardest examples by the score (top_decile_pie_share) against the share among "
           "all (base_pie_share). A score without values for a cell's examples has no row. "
           f"Scores: {described}.")
    _write(deciles, outputs, "deciles", "PIE rate by difficulty decile",
           "Per pruned cell, split, difficulty score and decile of the score (0 = easiest, "
           "9 = hardest; each a tenth of the examples, tied scores shared out evenly over "
           "the deciles they span, so counts can be fractional): examples, PIEs, PIE rate "
           "and the range of the score in the decile.")
    io.write_figure(plot_pie_predictors(table, deciles), outputs["figure"])
    log.info("PIE predictors: %d rows over %d cells", table.height, len(tables))


# --------------------------------------------------------------------------------------
# Classes
# --------------------------------------------------------------------------------------


def summarise_classes_job(predictions: Sequence[str], cells: Sequence[Keys],
                          pies: Sequence[str], pie_cells: Sequence[Keys],
                          train: Sequence[str], classes: Sequence[str], meta: Sequence[str],
                          datasets: Sequence[str], summary: str,
                          outputs: Mapping[str, str]) -> None:
    """Per-class scores of every population and the PIE class distribution per cell.

    ``cells`` go with ``predictions`` (dense and pruned), ``pie_cells`` with ``pies``;
    ``train``, ``classes`` and ``meta`` with ``datasets``. Datasets of generated answers
    have no class list: their cells add no rows (nothing is read for them), and the
    tables' pages and figures say so.
    """
    kinds = _label_kinds(meta, datasets)
    train_of, classes_of = _by_dataset(train, datasets), _by_dataset(classes, datasets)
    frequencies: dict[str, tuple[int, pl.DataFrame]] = {}
    for dataset, kind in kinds.items():
        if not kind.has_classes:
            continue
        names = io.read_json(classes_of[dataset])
        data = pl.read_parquet(train_of[dataset], columns=[kind.label_column])
        frequencies[dataset] = (len(names), class_frequencies(data, len(names), kind, names))
    skipped = sorted(dataset for dataset, kind in kinds.items() if not kind.has_classes)

    scores = []
    for path, keys in zip(predictions, cells, strict=True):
        kind = kinds[keys["dataset"]]
        if not kind.has_classes:
            scores.append(with_keys(pl.DataFrame(schema=CLASS_ACCURACY_SCHEMA), keys))
            continue
        num_classes, frequency = frequencies[keys["dataset"]]
        scores.append(with_keys(class_accuracy(_read_predictions(path, kind), num_classes,
                                               frequency, kind), keys))
    distribution = []
    for path, keys in zip(pies, pie_cells, strict=True):
        kind = kinds[keys["dataset"]]
        if not kind.has_classes:
            distribution.append(with_keys(pl.DataFrame(schema=PIE_CLASSES_SCHEMA), keys))
            continue
        num_classes, frequency = frequencies[keys["dataset"]]
        distribution.append(with_keys(pie_class_distribution(
            pl.read_parquet(path), num_classes, frequency, kind), keys))
    flags = pl.read_parquet(summary)
    order = [*SORT_KEYS, "class_rank"]
    scores_table = (_with_flags_if_keyed(stack(scores), flags)
                    .with_columns(pl.col("n_seeds").cast(pl.Int64)).sort(order))
    distribution_table = _with_flags_if_keyed(stack(distribution), flags).sort(order)
    note = (f" This table {NO_CLASS_LIST}: dataset{'s' * (len(skipped) > 1)} "
            f"{', '.join(skipped)} (generated answers) ha{'ve' if len(skipped) > 1 else 's'} "
            "no rows." if skipped else "")
    _write(scores_table, outputs, "class_accuracy", "Per-class accuracy / F1",
           "Per population, split and class: the class's accuracy (its recall; "
           "single-label) or F1 (multi-label), mean and standard deviation over seeds, "
           "with the class's frequency; class_rank 0 = most frequent class in training."
           + note)
    _write(distribution_table, outputs, "pie_classes", "PIE class distribution",
           "Per pruned cell, split and class: the class's share among all examples vs. "
           "among PIEs (over_representation = pie_share / class_share), the share of the "
           "class's examples that are PIEs, and how often the dense / pruned vote is the "
           "class on PIEs." + note)
    io.write_figure(plot_class_accuracy(scores_table, skipped=skipped),
                    outputs["class_accuracy_figure"])
    io.write_figure(plot_pie_classes(distribution_table, skipped=skipped),
                    outputs["pie_classes_figure"])
    if skipped:
        log.info("per-class tables %s: %s", NO_CLASS_LIST, ", ".join(skipped))


def _with_flags_if_keyed(table: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """:func:`with_flags` for a table with the cell keys (rows or not), so a table whose
    cells all lack rows (generated answers) still has both flag columns."""
    if not set(SORT_KEYS) <= set(table.columns):
        return table
    return with_flags(table, summary)


# --------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------


def text_features_job(split_paths: Mapping[str, str], output: str) -> None:
    """Length, readability and vocabulary features of every example of a dataset."""
    splits = {split: pl.read_parquet(path) for split, path in split_paths.items()}
    features = dataset_text_features(splits)
    io.write_parquet(features, output)
    log.info("text features of %d examples (%s)", features.height, ", ".join(sorted(splits)))


def token_counts_job(spec: Mapping[str, Any], split_paths: Mapping[str, str],
                     output: str) -> None:
    """Tokens per example under the model's own tokenizer (untruncated)."""
    from pieflow.models.classifiers import load_tokenizer  # torch: only this job needs it

    tokenizer = load_tokenizer(dict(spec))
    frames = [token_counts(tokenizer, pl.read_parquet(path), spec.get("max_length"))
              .with_columns(pl.lit(split).alias("split"))
              for split, path in sorted(split_paths.items())]
    table = pl.concat(frames).select("split", "example_id", "n_tokens", "truncated")
    io.write_parquet(table, output)
    log.info("tokens per example: median %s, %d truncated", table["n_tokens"].median(),
             table["truncated"].sum())


def summarise_text_job(pies: Sequence[str], cells: Sequence[Keys],
                       features: Sequence[str], datasets: Sequence[str],
                       tokens: Sequence[str], models: Sequence[Keys], summary: str,
                       outputs: Mapping[str, str], skipped: Sequence[str] = ()) -> None:
    """PIEs vs. non-PIEs on every text feature, per cell and split (``cells``: those of
    datasets with texts; ``models``: those with token counts, the trained ones)."""
    features_of, tokens_of = _by_dataset(features, datasets), _by_model(tokens, models)
    per_model: dict[Model, pl.DataFrame] = {}
    tables = []
    for path, keys in zip(pies, cells, strict=True):
        model = _model(keys)
        if model not in per_model:  # imported models have no tokenizer: no n_tokens
            features = pl.read_parquet(features_of[keys["dataset"]])
            per_model[model] = features if model not in tokens_of else with_token_counts(
                features, pl.read_parquet(tokens_of[model],
                                          columns=["split", "example_id", "n_tokens"]))
        tables.append(with_keys(text_comparison(pl.read_parquet(path), per_model[model]),
                                keys))
    flags = pl.read_parquet(summary)
    table = (with_holm_over_table(with_flags_unless_empty(stack(tables), flags)) if tables
             else pl.DataFrame(schema={**dict.fromkeys(SORT_KEYS, pl.String),
                                       "sparsity": pl.Int64, "feature": pl.String}))
    _write(table, outputs, "table", "Text features: PIEs vs. non-PIEs",
           "Per pruned cell, split and text feature: medians of PIEs and non-PIEs, "
           "two-sided Mann–Whitney U, rank-biserial effect (> 0: PIEs higher), Holm "
           "p-value over the features of a cell and split (p_holm) and over the whole "
           "table (p_holm_all)." + (f" Not analysed (no texts were imported): dataset"
                                    f"{'s' * (len(skipped) > 1)} {', '.join(skipped)}."
                                    if skipped else ""))
    io.write_figure(plot_text_effects(table), outputs["figure"])


# --------------------------------------------------------------------------------------
# Example PIEs
# --------------------------------------------------------------------------------------


def summarise_pie_examples_job(pies: Sequence[str], cells: Sequence[Keys],
                               texts: Sequence[str], text_keys: Sequence[Keys],
                               classes: Sequence[str], meta: Sequence[str],
                               datasets: Sequence[str], influence: Sequence[str],
                               models: Sequence[Keys], summary: str,
                               outputs: Mapping[str, str], k: int) -> None:
    """The ``k`` most agreed-on PIEs of every pruned cell, with texts and class names.

    ``texts`` are the prepared splits, ``text_keys`` their ``{"dataset", "split"}``.
    """
    kinds = _label_kinds(meta, datasets)
    classes_of, influence_of = _by_dataset(classes, datasets), _by_model(influence, models)
    text_of = {(t["dataset"], t["split"]): p for p, t in zip(texts, text_keys, strict=True)}
    read_texts: dict[tuple[str, str], pl.DataFrame] = {}
    scores: dict[Model, pl.DataFrame] = {}
    tables = []
    for path, keys in zip(pies, cells, strict=True):
        dataset, model = keys["dataset"], _model(keys)
        cell_pies = pl.read_parquet(path)
        splits = sorted(cell_pies.get_column("split").unique().to_list())
        for split in splits:
            if (dataset, split) not in read_texts:
                read_texts[dataset, split] = pl.read_parquet(text_of[dataset, split])
        if model not in scores:
            scores[model] = pl.read_parquet(influence_of[model], columns=INFLUENCE_COLUMNS)
        data = split_texts({split: read_texts[dataset, split] for split in splits})
        tables.append(with_keys(pie_examples(
            cell_pies, data, io.read_json(classes_of[dataset]), kinds[dataset],
            scores[model], k=k), keys))
    table = with_flags_unless_empty(stack(tables), pl.read_parquet(summary))
    if table.height:
        table = table.sort([*SORT_KEYS, "rank"])
    _write(table, outputs, "table", "Example PIEs",
           f"Per pruned cell and split, the {k} PIEs on which the pruned population agrees "
           "most (pruned_agreement, then dense_agreement): text, true label and both "
           "populations' modal labels.")


# --------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------


def summarise_findings_job(accuracy: str, summary: str, null_rate: str, text: str,
                           paired: Sequence[str], cells: Sequence[Keys],
                           vs_control: Sequence[str], vs_control_cells: Sequence[Keys],
                           outputs: Mapping[str, str],
                           compression: Mapping[str, str] | None = None,
                           no_text_datasets: Sequence[str] = (),
                           predictors: str | None = None,
                           null_meanings: Mapping[str, str] | None = None) -> None:
    """One row per cell × split with its verdict and a sentence reading its numbers;
    what was skipped (a null rate, a text analysis) is said on the page.

    Reads the analysis tables (``predictors``: the difficulty scores as predictors of
    PIEs, for each row's best one), each cell's ``paired.parquet`` (``cells``: pruned
    cells and controls) and each iterative cell's ``vs_control/null_rate.parquet``
    (``vs_control_cells``), both with their keys from the rule, aligned with the files.
    """
    table = findings_table(
        pl.read_parquet(accuracy), pl.read_parquet(summary), pl.read_parquet(null_rate),
        pl.read_parquet(text), _stacked(paired, cells), _stacked(vs_control, vs_control_cells),
        no_text_datasets=tuple(no_text_datasets),
        predictors=None if predictors is None else pl.read_parquet(predictors),
        null_meanings=null_meanings)
    if compression:
        table = with_compression(table, compression)
    _write(table, outputs, "table", "Findings: which cells show a real PIE effect",
           findings_description(table, no_text_datasets), view=findings_view(table))
    effects = table.filter(pl.col("verdict") == EFFECT)
    for row in effects.iter_rows(named=True):  # one per cell × split
        log.info("%s", row["finding"])
    log.info("findings: %d rows, %d with a PIE effect beyond seed noise", table.height,
             effects.height)


# --------------------------------------------------------------------------------------
# Training curves
# --------------------------------------------------------------------------------------


def summarise_training_job(histories: Sequence[str], seeds: Sequence[Keys],
                           validation: Sequence[str], meta: Sequence[str],
                           datasets: Sequence[str], outputs: Mapping[str, str]) -> None:
    """Validation accuracy and training loss per epoch of the dense and control
    populations, with each population's plateau judgement (``converged``).

    ``seeds``: ``{"dataset", "model", "method", "seed"}`` of each history file;
    ``validation`` and ``meta``: each dataset's validation split and metadata (the
    majority-class floor is drawn for single-label datasets).
    """
    kinds = _label_kinds(meta, datasets)
    labels = {dataset: pl.read_parquet(path, columns=["label"]).get_column("label")
              for dataset, path in _by_dataset(validation, datasets).items()
              if kinds[dataset] is LabelKind.SINGLE}
    curves = training_table([pl.read_parquet(path) for path in histories], seeds, labels)
    _write(curves, outputs, "table", "Training curves",
           "Per dataset × model × population (dense; the training-budget control, which "
           "continues it) and epoch: validation accuracy (mean, standard deviation, minimum "
           "and maximum over seeds), mean training and validation loss, and converged: the "
           "last epoch's gain in mean validation accuracy over the best earlier epoch "
           "(last_epoch_gain) is at most the seeds' standard deviation.")
    io.write_figure(plot_training_curves(curves), outputs["figure"])
    for note in convergence_notes(curves):  # one per dataset × model
        log.info("%s", note)
