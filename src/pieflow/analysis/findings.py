"""Findings: one row per cell × split that says whether its PIEs are a real effect.

The other tables each answer one question; a reader who must decide whether pruning
changed a model's answers needs them side by side — the PIE count, the excess over the
dense-vs-dense null, the training-budget control, the paired test — with every reason
not to trust a row spelled out. This module joins the analysis tables into that row,
decides its ``verdict`` by one rule (:func:`verdict_expr`) and has
:func:`pieflow.analysis.sentences.finding_sentence` read the numbers out as one sentence.

Pure functions of the summary tables (and the stacked per-cell paired statistics and
comparisons against the control), and of the findings table for its page (the view, the
description above it); :mod:`pieflow.analysis.job` does the I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from pieflow.analysis.cells import SORT_KEYS, cell_name
from pieflow.analysis.flags import warning_flags
from pieflow.analysis.predictors import best_predictors
from pieflow.analysis.sentences import finding_sentence
from pieflow.layout import CONTROL, DENSE

TEXT_SIGNIFICANCE = 0.05  # Holm-corrected p of a text feature
NO_TEXTS = "not analysed: the dataset has no texts"

EFFECT = "PIE effect beyond seed noise"
NO_EFFECT = "no PIE effect beyond seed noise"
FEWER = "fewer PIEs than seed noise"
UNRELIABLE_COLLAPSED = "unreliable: collapsed"
UNRELIABLE_UNDERTRAINED = "unreliable: undertrained"
NO_NULL = "no null rate"
EXTRA_TRAINING = "no PIE effect beyond extra training"

_EXCESS = ("excess_mean", "excess_low", "excess_high")
_BEST = ("best_predictor", "best_predictor_auroc", "best_predictor_auroc_low",
         "best_predictor_auroc_high", "best_predictor_top_decile_pie_share",
         "best_predictor_beats_chance")
_PAIRED = ("correct_to_wrong", "wrong_to_correct", "mcnemar_p", "kl_mean", "top1_agreement")
COLUMNS = (
    *SORT_KEYS, "n_seeds", "dense_accuracy", "pruned_accuracy", "accuracy_change",
    "dense_accuracy_std", "n_examples", "n_pies", "pie_share", *_EXCESS, "excess_share_mean",
    "population_size", "null_meaning", "null_rate_note", "dense_accuracy_on_pies",
    "pruned_accuracy_on_pies",
    *(f"control_{c}" for c in _EXCESS), *(f"vs_control_{c}" for c in _EXCESS),
    "top_el2n_pie_share", "strongest_text_effect", *_BEST, *_PAIRED, "collapsed",
    "undertrained",
    "small_population", "few_pies", "many_ties", "tie_share", "verdict", "finding",
)


def verdict_expr() -> pl.Expr:
    """The verdict of a row: flags first (they make the interval meaningless), then where
    the excess interval lies relative to 0 (``excess_low > 0``: an effect). An iterative
    cell trained longer than the dense models: its effect counts only when it also holds
    against the control of the same training budget (``vs_control_excess_low > 0``);
    otherwise extra training alone explains its PIEs."""
    low, high = (pl.col(c).fill_nan(None) for c in ("excess_low", "excess_high"))
    vs_control_low = pl.col("vs_control_excess_low").fill_nan(None)
    return (pl.when(pl.col("collapsed").fill_null(False)).then(pl.lit(UNRELIABLE_COLLAPSED))
            .when(pl.col("undertrained").fill_null(False))
            .then(pl.lit(UNRELIABLE_UNDERTRAINED))
            .when(low.is_null() | high.is_null()).then(pl.lit(NO_NULL))
            .when((low > 0) & (vs_control_low <= 0).fill_null(False))
            .then(pl.lit(EXTRA_TRAINING))
            .when(low > 0).then(pl.lit(EFFECT))
            .when(high < 0).then(pl.lit(FEWER))
            .otherwise(pl.lit(NO_EFFECT)).alias("verdict"))


def _empty(**columns: pl.DataType) -> pl.DataFrame:
    """A table with the cell keys and ``columns``, no rows: for a run without any."""
    keys = {k: pl.Int64 if k == "sparsity" else pl.String for k in SORT_KEYS}
    return pl.DataFrame(schema={**keys, **columns})


def strongest_text_effects(text: pl.DataFrame) -> pl.DataFrame:
    """Per cell × split, the Holm-significant text feature with the largest |effect|, as
    ``"rare_word_share: PIEs higher (r = 0.31)"``, or ``"none"``."""
    if text.is_empty() or "feature" not in text.columns:
        return _empty(strongest_text_effect=pl.String)
    r = pl.col("rank_biserial")
    significant = text.filter((pl.col("p_holm").fill_nan(None) < TEXT_SIGNIFICANCE)
                              & r.fill_nan(None).is_not_null())
    best = (significant.sort(r.abs(), "feature", descending=[True, False], maintain_order=True)
            .group_by(SORT_KEYS).first()
            .select(*SORT_KEYS, (
                pl.col("feature") + ": PIEs "
                + pl.when(r > 0).then(pl.lit("higher")).otherwise(pl.lit("lower"))
                + " (r = " + r.round(2).map_elements(_signed_plain, return_dtype=pl.String)
                + ")").alias("strongest_text_effect")))
    cells = text.select(SORT_KEYS).unique()
    return cells.join(best, on=SORT_KEYS, how="left").with_columns(
        pl.col("strongest_text_effect").fill_null("none"))


def _signed_plain(value: float) -> str:
    """0.31 → "0.31", −0.31 → "−0.31" (a true minus sign, as in the sentences)."""
    return f"{value:.2f}".replace("-", "−")


def _control_excess(null_rate: pl.DataFrame) -> pl.DataFrame:
    """The control's excess over the dense null, per dataset × model × split."""
    return null_rate.filter(pl.col("method") == CONTROL).select(
        "dataset", "model", "split", *(pl.col(c).alias(f"control_{c}") for c in _EXCESS))


def _vs_control(vs_control: pl.DataFrame) -> pl.DataFrame:
    """Each iterative cell's excess over the null against its control (``_iterative``
    marks the cells that have one, so the control's own excess joins only to them)."""
    if vs_control.is_empty():
        return _empty(**{f"vs_control_{c}": pl.Float64 for c in _EXCESS},
                      _iterative=pl.Boolean)
    return vs_control.select(*SORT_KEYS, *(pl.col(c).alias(f"vs_control_{c}") for c in _EXCESS),
                             pl.lit(True).alias("_iterative"))


def _paired(paired: pl.DataFrame) -> pl.DataFrame:
    if paired.is_empty():
        return _empty(**dict.fromkeys(_PAIRED, pl.Float64))
    return paired.select(*SORT_KEYS, *_PAIRED)


def _null_rate(null_rate: pl.DataFrame) -> pl.DataFrame:
    """The excess and, where a cell got no null rate, why (``null_rate_note``)."""
    note = (pl.col("note") if "note" in null_rate.columns
            else pl.lit(None, pl.String)).alias("null_rate_note")
    return null_rate.select(*SORT_KEYS, *_EXCESS, "excess_share_mean", "population_size",
                            note)


def findings_table(accuracy: pl.DataFrame, summary: pl.DataFrame, null_rate: pl.DataFrame,
                   text: pl.DataFrame, paired: pl.DataFrame, vs_control: pl.DataFrame,
                   no_text_datasets: tuple[str, ...] = (),
                   predictors: pl.DataFrame | None = None,
                   null_meanings: Mapping[str, str] | None = None) -> pl.DataFrame:
    """One row per cell × split of the PIE summary (pruned cells and controls).

    ``paired`` (per-cell ``paired.parquet``) and ``vs_control`` (iterative cells'
    ``vs_control/null_rate.parquet``) are stacked with their cells' keys. Control
    columns stay null for cells without a comparison against the control. Cells of
    ``no_text_datasets`` (imported without texts) say their text analysis was skipped.
    ``predictors`` (``pie_predictors.parquet``) gives each row its best predictor of PIEs
    (:func:`pieflow.analysis.predictors.best_predictors`; null without PIEs or scores).
    ``null_meanings``: model → what its dense-vs-dense null varies where that is not
    training seeds (a pretrained LLM: "changing the few-shot examples"), said in
    ``null_meaning`` and the sentence; null for trained and imported models.
    """
    dense = accuracy.filter(pl.col("method") == DENSE).select(
        "dataset", "model", "split", pl.col("accuracy_mean").alias("dense_accuracy"))
    cell_accuracy = accuracy.select(*SORT_KEYS, "n_seeds",
                                    pl.col("accuracy_mean").alias("pruned_accuracy"))
    table = (
        summary.select(*SORT_KEYS, "n_examples", "n_pies", "pie_share", "n_ties",
                       "dense_accuracy_std", "dense_accuracy_on_pies",
                       "pruned_accuracy_on_pies", "top_el2n_pie_share", "collapsed",
                       "undertrained")
        .join(cell_accuracy, on=SORT_KEYS, how="left")
        .join(dense, on=["dataset", "model", "split"], how="left")
        .join(_null_rate(null_rate), on=SORT_KEYS, how="left")
        .join(_vs_control(vs_control), on=SORT_KEYS, how="left")
        .join(_control_excess(null_rate), on=["dataset", "model", "split"], how="left")
        .join(_paired(paired), on=SORT_KEYS, how="left")
        .join(strongest_text_effects(text), on=SORT_KEYS, how="left")
        .join(best_predictors(pl.DataFrame() if predictors is None else predictors),
              on=SORT_KEYS, how="left")
    )
    iterative = pl.col("_iterative").fill_null(False)
    table = table.with_columns(
        (pl.col("pruned_accuracy") - pl.col("dense_accuracy")).alias("accuracy_change"),
        *(pl.when(iterative).then(pl.col(f"control_{c}")).alias(f"control_{c}")
          for c in _EXCESS),
        (pl.col("n_ties") / pl.col("n_examples")).alias("tie_share"),
        pl.when(pl.col("dataset").is_in(list(no_text_datasets))).then(pl.lit(NO_TEXTS))
        .otherwise(pl.col("strongest_text_effect").fill_null("none"))
        .alias("strongest_text_effect"),
        pl.col("model").replace_strict(dict(null_meanings or {}), default=None,
                                       return_dtype=pl.String).alias("null_meaning"),
    ).with_columns(*warning_flags(), verdict_expr())
    sentences = pl.Series("finding", [finding_sentence(row) for row in
                                      table.iter_rows(named=True)], dtype=pl.String)
    return table.with_columns(sentences).select(COLUMNS).sort(SORT_KEYS)


# --------------------------------------------------------------------------------------
# The findings page
# --------------------------------------------------------------------------------------


def findings_view(table: pl.DataFrame) -> pl.DataFrame:
    """The table as the report shows it: the verdict and the sentence next to the keys."""
    return table.select(*SORT_KEYS, "verdict", "finding", pl.exclude(*SORT_KEYS, "verdict",
                                                                     "finding"))


def effect_cells(table: pl.DataFrame, limit: int = 30) -> str:
    """``"tweets · m imp 50 % (test), …"``: the rows with a PIE effect, named."""
    effects = table.filter(pl.col("verdict") == EFFECT).sort(SORT_KEYS)
    names = [cell_name(*keys) for keys in effects.select(SORT_KEYS).head(limit).rows()]
    more = f", and {effects.height - limit} more" if effects.height > limit else ""
    return ", ".join(names) + more if names else "none"


def skipped_text(table: pl.DataFrame, no_text_datasets: Sequence[str]) -> str:
    """`` Skipped: …`` — rows without a null rate (and why), datasets without texts."""
    parts = []
    notes = table.filter(pl.col("null_rate_note").is_not_null())
    for (note,), rows in notes.group_by("null_rate_note", maintain_order=True):
        names = ", ".join(cell_name(*keys) for keys in
                          rows.select(SORT_KEYS).sort(SORT_KEYS).head(10).rows())
        parts.append(f"{rows.height} row{'s' * (rows.height != 1)} — {note}: {names}")
    if no_text_datasets:
        parts.append("text analysis of dataset" + "s" * (len(no_text_datasets) > 1) + " "
                     + ", ".join(no_text_datasets) + " (no texts were imported)")
    return (" Skipped: " + "; ".join(parts) + ".") if parts else ""


def verdict_counts(table: pl.DataFrame) -> str:
    """``"2 rows: PIE effect beyond seed noise; 1 row: unreliable: collapsed"``."""
    counts = table.group_by("verdict").len().sort(["len", "verdict"], descending=[True, False])
    return "; ".join(f"{n} row{'s' if n != 1 else ''}: {verdict}"
                     for verdict, n in counts.rows())


def findings_description(table: pl.DataFrame, no_text_datasets: Sequence[str] = ()) -> str:
    """The note above the findings table: how many rows show an effect and which, all
    verdicts, how a verdict is reached, and what was skipped."""
    effects = table.filter(pl.col("verdict") == EFFECT)
    return (
        f"{effects.height} of {table.height} rows show a PIE effect beyond seed noise: "
        f"{effect_cells(table)}. All verdicts: {verdict_counts(table) or 'no rows'}. "
        "One row per pruned cell (and training-budget control, method 'control') and "
        "split; verdict 'PIE effect beyond seed noise' when the lower end of the "
        "percentile interval of PIEs in excess of the dense-vs-dense null is above 0, "
        "unless the cell is collapsed or undertrained; finding reads the row's numbers."
        + skipped_text(table, no_text_datasets))
