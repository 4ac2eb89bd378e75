"""The findings row read out as one English sentence, with its warnings.

A table of thirty numbers per cell hides its one message; the sentence says it in the
order a reader checks it: how many PIEs, how many beyond seed noise, what pruning does on
them, what it costs overall, whether the paired test agrees, which difficulty score of
the dense models predicts them, how much of it the extra training of an iterative
schedule explains — then every reason to doubt the row. A pure
function of one row (a mapping of the findings columns), so it is tested by hand.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pieflow.analysis.flags import FEW_PIES, SMALL_POPULATION
from pieflow.layout import CONTROL

Row = Mapping[str, Any]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value: float, digits: int = 1) -> str:
    """``-1.25`` → ``"−1.2"``: a true minus sign, fixed decimals."""
    return f"{value:.{digits}f}".replace("-", "−")


def _signed(value: float, digits: int = 1) -> str:
    return f"{value:+.{digits}f}".replace("-", "−")


def _percent(share: float, digits: int = 1) -> str:
    return f"{_number(share * 100, digits)} %"


def _interval(row: Row, prefix: str) -> str | None:
    """``"31.4 [13.9, 52.0]"`` from ``<prefix>_mean``, ``_low``, ``_high``; None if absent."""
    values = [row.get(f"{prefix}_{part}") for part in ("mean", "low", "high")]
    if any(_missing(v) for v in values):
        return None
    mean, low, high = values
    return f"{_number(mean)} [{_number(low)}, {_number(high)}]"


def p_value_text(p: float) -> str:
    """``p < 0.001``, ``p = 0.003`` or ``p = 0.42``."""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def _subject(row: Row) -> str:
    where = f"{row['dataset']} · {row['model']}"
    if row["method"] == CONTROL:
        return f"{where}, control (same training budget, unpruned) on {row['split']}"
    return f"{where}, {row['method']} at {row['sparsity']} % on {row['split']}"


def _pies(row: Row) -> str:
    """``"71 PIEs"``; for the control, whose "PIEs" are answers extra training changed,
    ``"71 changed answers"``."""
    n_pies = int(row["n_pies"])
    noun = "changed answer" if row["method"] == CONTROL else "PIE"
    return f"{n_pies} {noun}{'' if n_pies == 1 else 's'}"


def _clauses(row: Row) -> list[str]:
    population = "control" if row["method"] == CONTROL else "pruned"
    n_pies = int(row["n_pies"])
    head = f"{_subject(row)}: {_pies(row)} ({_percent(row['pie_share'])})"
    excess = _interval(row, "excess")
    note = row.get("null_rate_note")
    meaning = row.get("null_meaning")
    null = f"what {meaning} does" if meaning else "the dense-vs-dense null"
    head += (f", {excess} beyond {null}" if excess
             else f", {note}" if note else ", no null rate to compare with")
    clauses = [head]
    on_pies = (row.get("pruned_accuracy_on_pies"), row.get("dense_accuracy_on_pies"))
    if n_pies and not any(_missing(v) for v in on_pies):
        clauses.append(f"on them the {population} population is right "
                       f"{_percent(on_pies[0], 0)} of the time vs. {_percent(on_pies[1], 0)} "
                       "for the dense one")
    if not _missing(row.get("accuracy_change")):
        clauses.append(f"accuracy {_signed(row['accuracy_change'] * 100)} points")
    if not any(_missing(row.get(c)) for c in ("correct_to_wrong", "wrong_to_correct",
                                               "mcnemar_p")):
        clauses.append(f"modal answers {int(row['correct_to_wrong'])} right → wrong, "
                       f"{int(row['wrong_to_correct'])} wrong → right "
                       f"(McNemar {p_value_text(row['mcnemar_p'])})")
    if (predictor := _predictor(row)) is not None:
        clauses.append(predictor)
    by_training, vs_control = _interval(row, "control_excess"), _interval(row, "vs_control_excess")
    if by_training or vs_control:
        clauses.append(f"extra training alone gives {by_training or 'n/a'}; against the "
                       f"control (same budget), {vs_control or 'n/a'}")
    return clauses


def _predictor(row: Row) -> str | None:
    """``"best predictor of its PIEs: dense_agreement, AUROC 0.81 [0.78, 0.84] (the 10 %
    hardest by it: 45 % PIEs vs. 12 % of all)"``, or that no difficulty score beats
    chance; None without a best predictor (no PIEs, no scores)."""
    name = row.get("best_predictor")
    values = [row.get(f"best_predictor_auroc{part}") for part in ("", "_low", "_high")]
    if _missing(name) or any(_missing(v) for v in values):
        return None
    auroc = f"AUROC {values[0]:.2f} [{values[1]:.2f}, {values[2]:.2f}]"
    pies = "changed answers" if row["method"] == CONTROL else "PIEs"
    if not row.get("best_predictor_beats_chance"):
        return (f"no difficulty score tells its {pies} apart better than chance (best: "
                f"{name}, {auroc})")
    top = row.get("best_predictor_top_decile_pie_share")
    share = ("" if _missing(top) or _missing(row.get("pie_share")) else
             f" (the 10 % hardest by it: {_percent(top, 0)} {pies} vs. "
             f"{_percent(row['pie_share'], 0)} of all)")
    return f"best predictor of its {pies}: {name}, {auroc}{share}"


def _warnings(row: Row) -> list[str]:
    control = row["method"] == CONTROL
    models = "control" if control else "pruned"
    warnings = []
    if row.get("collapsed"):
        warnings.append(f"collapsed — the {models} models do no better than always "
                        "answering the majority class, so these PIEs are mostly its other "
                        "classes")
    if row.get("undertrained"):
        gain = ("" if _missing(row.get("accuracy_change")) or _missing(
            row.get("dense_accuracy_std")) else
            f" by {_number(row['accuracy_change'] * 100)} points, more than the dense "
            f"seeds' standard deviation ({_number(row['dense_accuracy_std'] * 100)})")
        if control:
            warnings.append(f"undertrained — the control beats the dense models{gain}: the "
                            "dense models had room to learn, so every iterative cell's PIEs "
                            "mix in extra training")
        else:
            advice = ("; read the comparison against the control"
                      if not _missing(row.get("vs_control_excess_mean")) else "")
            warnings.append(f"undertrained — the pruned models beat the dense ones{gain}, so "
                            f"these PIEs mix in extra training{advice}")
    if row.get("small_population"):
        warnings.append(f"only {row['population_size']} seeds per population in the null "
                        f"draws (< {SMALL_POPULATION}): its intervals are unreliable; use at "
                        f"least {2 * SMALL_POPULATION} seeds")
    if row.get("few_pies") and int(row["n_pies"]):  # none: the sentence says so already
        warnings.append(f"only {_pies(row)} (< {FEW_PIES}): too few to say what they are")
    if row.get("many_ties"):
        seeds = row.get("n_seeds")
        odd = (f"; {seeds} seeds is even: an odd number avoids ties of two-class and "
               "multi-label votes" if not _missing(seeds) and int(seeds) % 2 == 0 else "")
        warnings.append(f"{_percent(row['tie_share'])} of the examples have a tied vote, "
                        f"broken towards the lowest class{odd}")
    return warnings


def finding_sentence(row: Row) -> str:
    """One sentence reading a findings row, e.g. ``"d · m, imp at 50 % on test: 71 PIEs
    (17.8 %), 31.4 [13.9, 52.0] beyond the dense-vs-dense null; on them …; accuracy
    −1.2 points; … (McNemar p = 0.003)."``, then ``"Warning: …"`` where one applies."""
    sentence = "; ".join(_clauses(row)) + "."
    warnings = _warnings(row)
    if warnings:
        label = "Warning" if len(warnings) == 1 else "Warnings"
        sentence += f" {label}: " + "; ".join(warnings) + "."
    return sentence
