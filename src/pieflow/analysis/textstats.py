"""Length and complexity of texts, and PIEs vs. non-PIEs compared with a rank test.

Are PIEs longer, harder to read or rarer in vocabulary than other examples? Features
per text come from maintained libraries, and each is compared between the two groups
with a Mann–Whitney U test, a rank-biserial effect size and a Holm correction over the
features.

Offline by construction: ``wordfreq`` ships its word lists in the wheel. ``textstat``
(≥ 0.7.9) counts syllables with NLTK's CMU dictionary, which it *downloads at run time*
when missing (and fails without network). Features here therefore always count
syllables with ``pyphen`` (hyphenation dictionaries shipped in its wheel; textstat's
own fallback for words outside CMUdict, and its only method before 0.7.4), whether or
not NLTK data is installed: the numbers do not depend on the machine, and nothing is
ever downloaded. Pyphen counts hyphenation points, so it undercounts some syllables
("every" → 2); the indices are comparable between groups, not exact grade levels.

Features (one row per text, in input order):

- ``n_chars``, ``n_words`` (``wordfreq.tokenize`` word tokens, punctuation dropped),
  ``n_sentences`` (textstat), ``n_tokens`` (model tokens, only when counts are given).
- ``flesch_reading_ease``, ``flesch_kincaid_grade``, ``gunning_fog`` (textstat,
  English constants, unrounded); NaN for a text without words.
- ``difficult_words``: textstat's count of word tokens (not unique types) outside the
  Dale–Chall easy-word list with at least 2 syllables; ``difficult_word_share`` divides
  it by textstat's word count.
- ``type_token_ratio``: plain TTR, distinct lowercased word types / word tokens (same
  ``wordfreq`` tokens as ``n_words``). It falls with length, so compare it together with
  ``n_words``; NaN for a text without words.
- ``mean_zipf``: mean Zipf frequency (``wordfreq.zipf_frequency``, English "best" list:
  log10 of occurrences per billion words; 0 for unseen words) over the word tokens that
  contain a letter; ``rare_word_share``: share of those tokens with Zipf < 3 (rarer than
  about once per million words). NaN when a text has no such token.
"""

from __future__ import annotations

import importlib
import math
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import polars as pl
import wordfreq
from scipy.stats import mannwhitneyu
from textstat.textstat import textstatistics

LANG = "en"
RARE_ZIPF = 3.0
# Columns of a features frame that are identifiers, never compared.
ID_COLUMNS = ("example_id", "seed", "split", "label")


def _textstat_caches() -> list:
    """Every ``lru_cache`` in the loaded textstat modules (results depend on syllables)."""
    caches, seen = [], set()
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "textstat" or name.startswith("textstat.")):
            continue
        for obj in vars(module).values():
            if hasattr(obj, "cache_clear") and id(obj) not in seen:
                seen.add(id(obj))
                caches.append(obj)
    return caches


@contextmanager
def pyphen_syllables() -> Iterator[None]:
    """Within the block, textstat counts syllables with pyphen only (never CMUdict/NLTK).

    textstat looks the dictionary up through ``get_cmudict`` in its syllable counter and
    falls back to pyphen when that gives nothing; the block makes it give nothing. Its
    caches are cleared on entry and exit so no result crosses the boundary.
    """
    try:
        module = importlib.import_module("textstat.backend.counts._count_syllables")
        original = module.get_cmudict
    except (ImportError, AttributeError) as error:  # pragma: no cover - textstat changed
        raise RuntimeError("this textstat version has no get_cmudict hook; pin "
                           "textstat>=0.7.9,<0.8 (see pieflow.analysis.textstats)") from error
    for cache in _textstat_caches():
        cache.cache_clear()
    module.get_cmudict = lambda lang: None
    try:
        yield
    finally:
        module.get_cmudict = original
        for cache in _textstat_caches():
            cache.cache_clear()


def _words(text: str) -> list[str]:
    return wordfreq.tokenize(text, LANG)


def _one_text(stats: textstatistics, text: str) -> dict[str, float]:
    words = _words(text)
    lexical = [w for w in words if any(ch.isalpha() for ch in w)]
    zipf = np.array([wordfreq.zipf_frequency(w, LANG) for w in lexical], dtype=np.float64)
    ts_words = stats.lexicon_count(text)
    nan = math.nan
    difficult = stats.difficult_words(text, unique=False) if ts_words else 0
    return {
        "n_chars": len(text),
        "n_words": len(words),
        "n_sentences": stats.sentence_count(text) if text.strip() else 0,
        "flesch_reading_ease": stats.flesch_reading_ease(text) if ts_words else nan,
        "flesch_kincaid_grade": stats.flesch_kincaid_grade(text) if ts_words else nan,
        "gunning_fog": stats.gunning_fog(text) if ts_words else nan,
        "difficult_words": difficult,
        "difficult_word_share": difficult / ts_words if ts_words else nan,
        "type_token_ratio": len(set(words)) / len(words) if words else nan,
        "mean_zipf": float(zipf.mean()) if zipf.size else nan,
        "rare_word_share": float((zipf < RARE_ZIPF).mean()) if zipf.size else nan,
    }


def text_features(texts: Sequence[str], token_counts: Sequence[int] | None = None
                  ) -> pl.DataFrame:
    """Length, readability, lexical diversity and word rarity per text (module doc)."""
    if token_counts is not None and len(token_counts) != len(texts):
        raise ValueError(f"{len(token_counts)} token counts for {len(texts)} texts")
    stats = textstatistics()
    stats.set_lang("en_US")
    stats.set_rounding_points(None)
    with pyphen_syllables():
        rows = [_one_text(stats, "" if text is None else str(text)) for text in texts]
    schema = {"n_chars": pl.Int64, "n_words": pl.Int64, "n_sentences": pl.Int64,
              "flesch_reading_ease": pl.Float64, "flesch_kincaid_grade": pl.Float64,
              "gunning_fog": pl.Float64, "difficult_words": pl.Int64,
              "difficult_word_share": pl.Float64, "type_token_ratio": pl.Float64,
              "mean_zipf": pl.Float64, "rare_word_share": pl.Float64}
    frame = pl.DataFrame(rows, schema=schema)
    if token_counts is not None:
        frame = frame.with_columns(pl.Series("n_tokens", list(token_counts), dtype=pl.Int64))
    return frame


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (step-down, monotone, capped at 1).

    NaN p-values stay NaN and do not count as hypotheses. (scipy has no Holm and
    statsmodels is not a dependency, hence these few lines.)
    """
    p = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = finite.size
    if m == 0:
        return adjusted
    order = finite[np.argsort(p[finite], kind="stable")]
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def rank_biserial(u_statistic: float, n_first: int, n_second: int) -> float:
    """Rank-biserial correlation ``2U/(n1·n2) − 1`` from the U of the *first* group.

    Sign: positive when the first group (PIEs, in ``compare_groups``) tends to have the
    larger values; +1 when every first value exceeds every second, −1 the reverse. It
    equals P(X > Y) − P(X < Y) for X from the first group and Y from the second.
    """
    return 2.0 * u_statistic / (n_first * n_second) - 1.0


def compare_groups(features: pl.DataFrame, is_pie: np.ndarray | Sequence[bool],
                   columns: Sequence[str] | None = None) -> pl.DataFrame:
    """Per feature: medians of PIEs and non-PIEs, Mann–Whitney U, effect size, Holm p.

    Two-sided test; missing (null/NaN) values are dropped per feature. A feature whose
    group is empty gets NaN statistics and a ``note`` instead of an exception; Holm
    counts only the features that have a p-value.
    """
    is_pie = np.asarray(is_pie, dtype=bool)
    if is_pie.shape != (features.height,):
        raise ValueError(f"is_pie has shape {is_pie.shape}, features have "
                         f"{features.height} rows")
    if columns is None:
        columns = [name for name, dtype in features.schema.items()
                   if dtype.is_numeric() and name not in ID_COLUMNS]
    rows = []
    for name in columns:
        values = features.get_column(name).cast(pl.Float64).fill_null(np.nan).to_numpy()
        ok = np.isfinite(values)
        pies, others = values[ok & is_pie], values[ok & ~is_pie]
        row = {"feature": name, "n_pies": int(pies.size), "n_non_pies": int(others.size),
               "median_pies": float(np.median(pies)) if pies.size else np.nan,
               "median_non_pies": float(np.median(others)) if others.size else np.nan,
               "u_statistic": np.nan, "rank_biserial": np.nan, "p_value": np.nan,
               "note": None}
        if pies.size and others.size:
            test = mannwhitneyu(pies, others, alternative="two-sided")
            row.update(u_statistic=float(test.statistic), p_value=float(test.pvalue),
                       rank_biserial=rank_biserial(float(test.statistic), pies.size,
                                                   others.size))
        else:
            missing = [group for group, n in (("PIEs", pies.size), ("non-PIEs", others.size))
                       if n == 0]
            row["note"] = "no " + " and no ".join(missing) + " with a value"
        rows.append(row)
    schema = {"feature": pl.String, "n_pies": pl.Int64, "n_non_pies": pl.Int64,
              "median_pies": pl.Float64, "median_non_pies": pl.Float64,
              "u_statistic": pl.Float64, "rank_biserial": pl.Float64, "p_value": pl.Float64,
              "note": pl.String}
    frame = pl.DataFrame(rows, schema=schema)
    p_holm = holm(frame.get_column("p_value").to_numpy())
    return frame.with_columns(pl.Series("p_holm", p_holm, dtype=pl.Float64)).select(
        *[c for c in schema if c != "note"], "p_holm", "note")
