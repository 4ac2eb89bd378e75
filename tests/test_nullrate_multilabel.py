"""Null rate of multi-label PIEs, and the diff_cell job of either label kind."""

from __future__ import annotations

import json
import zlib

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from prediction_frames import find_pies, multi_label_predictions, single_label_predictions

from pieflow.diff.job import diff_cell
from pieflow.diff.nullrate import excess_over_null, null_and_pie_draws, null_rate_table
from pieflow.diff.paired import PAIRED_SCHEMA, mcnemar_mid_p
from pieflow.diff.populations import paired_populations
from pieflow.labels import LabelKind

SINGLE, MULTI = LabelKind.SINGLE, LabelKind.MULTI


def draws(dense: np.ndarray, pruned: np.ndarray, num_classes: int, repeats: int,
          seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Multi-label draws; row i of dense and pruned is seed i (twins)."""
    return null_and_pie_draws(dense, pruned, MULTI, num_classes, repeats,
                              np.random.default_rng(seed), dense_seeds=np.arange(len(dense)),
                              pruned_seeds=np.arange(len(pruned)))


def excess(dense: np.ndarray, pruned: np.ndarray, num_classes: int, seed,
           repeats: int = 40, **seeds):
    seeds.setdefault("dense_seeds", np.arange(len(dense)))
    seeds.setdefault("pruned_seeds", np.arange(len(pruned)))
    return excess_over_null(dense, pruned, MULTI, num_classes, repeats=repeats, seed=seed,
                            **seeds)


def table(dense: pl.DataFrame, pruned: pl.DataFrame, kind: LabelKind, num_classes: int,
          **kwargs) -> pl.DataFrame:
    pies = find_pies(dense, pruned, kind, num_classes)
    return null_rate_table(paired_populations(dense, pruned, kind), pies, num_classes, **kwargs)


def test_multi_label_null_of_one_class_equals_the_binary_single_label_null():
    """One class "on"/"off" by majority is a binary vote whose ties go to 0 ("off"), so
    with the same draws the multi-label null must equal the single-label one exactly."""
    rng = np.random.default_rng(7)
    dense = rng.integers(0, 2, size=(6, 40))
    pruned = (rng.random((5, 40)) < 0.7).astype(np.int64)
    labels = np.zeros(40, dtype=np.int64)
    single = table(single_label_predictions(dense, labels),
                   single_label_predictions(pruned, labels), SINGLE, 2, repeats=50, seed=3)
    multi = table(multi_label_predictions(dense[..., None], labels[:, None]),
                  multi_label_predictions(pruned[..., None], labels[:, None]), MULTI, 1,
                  repeats=50, seed=3)
    assert multi.columns == single.columns
    for column in single.columns:
        assert multi[column].to_list() == pytest.approx(single[column].to_list()), column


def test_multi_label_null_counts_an_example_once_however_many_classes_flip():
    dense = np.zeros((4, 3, 2), dtype=np.int64)
    pruned = np.zeros((2, 3, 2), dtype=np.int64)
    pruned[:, 0, :] = 1  # example 0: both classes flip
    pruned[:, 1, 1] = 1  # example 1: one class flips
    null, pies, size = draws(dense, pruned, 2, 5, 0)
    assert size == 1  # 2 common seeds
    assert null.tolist() == [0] * 5
    assert pies.tolist() == [2] * 5


def test_multi_label_null_half_votes_are_off():
    # One example, one class, dense votes 1, 1, 0, 0 in halves of 2: a half is "on" only
    # when it holds both 1s (2 of the 3 splits keep them apart: both halves tied, "off").
    dense = np.array([1, 1, 0, 0]).reshape(4, 1, 1)
    null, pies, _ = draws(dense, dense, 1, 3000, 1)
    assert null.mean() == pytest.approx(1 / 3, abs=0.04)
    assert pies.tolist() == null.tolist()  # pruned = dense: PIEs = null in every draw


@pytest.mark.parametrize(("seeds", "examples", "classes"),
                         [(2, 4, 1), (6, 30, 3), (9, 50, 5), (12, 8, 2)])
def test_a_multi_label_pruning_that_changes_nothing_has_exactly_zero_excess(seeds, examples,
                                                                           classes):
    dense = np.random.default_rng(seeds).integers(0, 2, size=(seeds, examples, classes))
    result = excess(dense, dense.copy(), classes, seed=0)
    assert result.population_size == seeds // 2
    assert result.excess_mean == result.excess_low == result.excess_high == 0


@pytest.mark.parametrize("twin_share", [0.0, 0.9])
def test_multi_label_populations_from_one_distribution_have_no_excess(twin_share):
    """Per example and class a fixed "on" probability; every seed samples its votes. A
    pruned seed copies its twin on a ``twin_share`` of the examples, samples afresh
    elsewhere. The 95 % interval covers 0 in at least 90 % of 120 cells."""
    rng = np.random.default_rng(12)
    covers, means = [], []
    for _ in range(120):
        on = rng.beta(0.5, 0.5, size=(200, 3))
        dense, fresh = (rng.random((2, 8, 200, 3)) < on).astype(np.int64)
        pruned = np.where(rng.random((8, 200, 1)) < twin_share, dense, fresh)
        result = excess(dense, pruned, 3, seed=rng)
        covers.append(result.excess_low <= 0 <= result.excess_high)
        means.append(result.excess_mean)
    means = np.array(means)
    assert np.mean(covers) >= 0.9
    assert abs(means.mean()) < 3 * means.std() / np.sqrt(means.size) + 0.5


def test_multi_label_seeds_are_aligned_by_id():
    rng = np.random.default_rng(8)
    dense = rng.integers(0, 2, size=(8, 40, 3))
    pruned = np.where(rng.random((8, 40, 1)) < 0.7, dense, rng.integers(0, 2, (8, 40, 3)))
    seeds = np.array([1, 3, 4, 9, 10, 12, 13, 40])
    expected = excess(dense, pruned, 3, seed=2, dense_seeds=seeds, pruned_seeds=seeds)
    shuffle = rng.permutation(8)
    assert excess(dense, pruned[shuffle], 3, seed=2, dense_seeds=seeds,
                  pruned_seeds=seeds[shuffle]) == expected
    # pruned seeds {1, 3, 4, 9, 10, 12} of the 8 dense: the 6 common take part
    fewer = excess(dense, pruned[:6], 3, seed=2, dense_seeds=seeds, pruned_seeds=seeds[:6])
    assert (fewer.n_common_seeds, fewer.population_size) == (6, 3)
    assert fewer.as_dict() == {**excess(dense[:6], pruned[:6], 3, seed=2).as_dict(),
                               "n_dense_seeds": 8}
    # the same through the tidy frames, rows shuffled
    labels = rng.integers(0, 2, size=(40, 3))
    dense_frame = multi_label_predictions(dense, labels, seeds=seeds)
    pruned_frame = multi_label_predictions(pruned, labels, seeds=seeds)
    expected = table(dense_frame, pruned_frame, MULTI, 3, repeats=20, seed=1)
    shuffled = pruned_frame.sample(fraction=1.0, shuffle=True, seed=4)
    assert table(dense_frame, shuffled, MULTI, 3, repeats=20, seed=1).equals(expected)
    assert paired_populations(dense_frame, shuffled, MULTI)[0].pruned_seeds.tolist() == (
        seeds.tolist())


# --------------------------------------------------------------------------------------
# The diff_cell job against a by-hand reference of the documented semantics
# --------------------------------------------------------------------------------------

PIE_SCHEMA = {
    SINGLE: {"split": pl.String, "example_id": pl.Int64, "label": pl.Int64,
             "dense_modal": pl.Int64, "pruned_modal": pl.Int64},
    MULTI: {"split": pl.String, "example_id": pl.Int64, "labels": pl.List(pl.Int8),
            "dense_modal": pl.List(pl.Int8), "pruned_modal": pl.List(pl.Int8)},
}
PIE_FLAGS = {"is_pie": pl.Boolean, "tie": pl.Boolean, "dense_agreement": pl.Float64,
             "pruned_agreement": pl.Float64, "dense_correct": pl.Boolean,
             "pruned_correct": pl.Boolean}
STATS = [f"{name}{share}_{end}" for share in ("", "_share") for name in ("null", "pies", "excess")
         for end in ("mean", "low", "high")]
NULL_SCHEMA = {"split": pl.String, **{c: pl.Int64 for c in (
    "n_examples", "n_dense_seeds", "n_pruned_seeds", "n_common_seeds", "population_size",
    "repeats")},
    "confidence": pl.Float64, **dict.fromkeys(STATS, pl.Float64), "n_pies_full": pl.Int64}


def vote(preds: np.ndarray, kind: LabelKind, num_classes: int) -> list[dict]:
    """Per example, the population's verdict, tie and agreement, one example at a time."""
    n = preds.shape[0]
    out = []
    for e in range(preds.shape[1]):
        if kind is SINGLE:
            counts = [int((preds[:, e] == c).sum()) for c in range(num_classes)]
            top = max(counts)
            out.append({"modal": counts.index(top), "tie": counts.count(top) > 1,
                        "agreement": top / n})
        else:
            counts = preds[:, e].sum(axis=0)
            out.append({"modal": [int(2 * c > n) for c in counts],
                        "tie": any(2 * c == n for c in counts),
                        "agreement": float(np.mean([max(c, n - c) / n for c in counts]))})
    return out


def reference(dense: np.ndarray, pruned: np.ndarray, labels: list, split: str,
              kind: LabelKind, num_classes: int, repeats: int, seed: int,
              confidence: float) -> tuple[list[dict], dict]:
    """Old pies.parquet rows and null_rate.parquet row of one split, by the module docs."""
    d, p = vote(dense, kind, num_classes), vote(pruned, kind, num_classes)
    pies = []
    for e, label in enumerate(labels):
        row = {"split": split, "example_id": 10 + 3 * e, kind.label_column: label,
               "dense_modal": d[e]["modal"], "pruned_modal": p[e]["modal"],
               "is_pie": d[e]["modal"] != p[e]["modal"], "tie": d[e]["tie"] or p[e]["tie"],
               "dense_agreement": d[e]["agreement"], "pruned_agreement": p[e]["agreement"],
               "dense_correct": d[e]["modal"] == label, "pruned_correct": p[e]["modal"] == label}
        if kind is MULTI:
            row["flipped_classes"] = [c for c in range(num_classes)
                                      if d[e]["modal"][c] != p[e]["modal"][c]]
        pies.append(row)
    # Each repeat: a permutation of the common seeds (row i of both arrays is seed i; the
    # dense population has more) into halves A and B of h, drawn as uniform keys from the
    # split's generator; PIEs compare dense A with the pruned twins of B.
    rng = np.random.default_rng([seed, zlib.crc32(split.encode())])
    n_common = min(dense.shape[0], pruned.shape[0])
    h = n_common // 2
    keys = rng.random((repeats, n_common))
    null, pie_counts = [], []
    for r in range(repeats):
        order = np.argsort(keys[r])
        a = [v["modal"] for v in vote(dense[order[:h]], kind, num_classes)]
        b = [v["modal"] for v in vote(dense[order[h:2 * h]], kind, num_classes)]
        q = [v["modal"] for v in vote(pruned[order[h:2 * h]], kind, num_classes)]
        null.append(sum(x != y for x, y in zip(a, b, strict=True)))
        pie_counts.append(sum(x != y for x, y in zip(a, q, strict=True)))
    n = len(labels)
    row = {"split": split, "n_examples": n, "n_dense_seeds": dense.shape[0],
           "n_pruned_seeds": pruned.shape[0], "n_common_seeds": n_common,
           "population_size": h, "repeats": repeats,
           "confidence": confidence}
    percent = [50 * (1 - confidence), 50 * (1 + confidence)]
    values = {"null": np.array(null), "pies": np.array(pie_counts)}
    values["excess"] = values["pies"] - values["null"]
    for share, scale in (("", 1), ("_share", n)):
        for name, v in values.items():
            low, high = np.percentile(v, percent)
            row[f"{name}{share}_mean"] = float(v.mean()) / scale
            row[f"{name}{share}_low"], row[f"{name}{share}_high"] = low / scale, high / scale
    row["n_pies_full"] = sum(r["is_pie"] for r in pies)
    return pies, row


def paired_reference(dense: np.ndarray, pruned: np.ndarray, logits: tuple, labels: list,
                     split: str, kind: LabelKind, pies: list[dict]) -> dict:
    """The paired.parquet row of one split, one example and one pair at a time."""
    b = sum(r["dense_correct"] and not r["pruned_correct"] for r in pies)
    c = sum(r["pruned_correct"] and not r["dense_correct"] for r in pies)
    pairs = min(len(dense), len(pruned))  # row i of both is seed i

    def right(pred, e):
        return list(np.ravel(pred)) == list(np.ravel(labels[e]))

    c2w = w2c = same = 0
    for i in range(pairs):
        for e in range(len(labels)):
            c2w += right(dense[i, e], e) and not right(pruned[i, e], e)
            w2c += right(pruned[i, e], e) and not right(dense[i, e], e)
            same += list(np.ravel(dense[i, e])) == list(np.ravel(pruned[i, e]))

    def mean_probs(z):  # (seeds × examples × classes) logits → (examples × classes)
        z = z.astype(np.float64)
        if kind is MULTI:
            return (1 / (1 + np.exp(-z))).mean(axis=0)
        e = np.exp(z - z.max(axis=2, keepdims=True))
        return (e / e.sum(axis=2, keepdims=True)).mean(axis=0)

    p, q = mean_probs(logits[0]), mean_probs(logits[1])
    if kind is MULTI:
        kl = np.mean([np.mean([p[e, k] * np.log(p[e, k] / q[e, k])
                               + (1 - p[e, k]) * np.log((1 - p[e, k]) / (1 - q[e, k]))
                               for k in range(p.shape[1])]) for e in range(len(p))])
    else:
        kl = np.mean([sum(p[e, k] * np.log(p[e, k] / q[e, k]) for k in range(p.shape[1]))
                      for e in range(len(p))])
    return {"split": split, "n_examples": len(labels), "n_pairs": pairs,
            "correct_to_wrong": b, "wrong_to_correct": c, "mcnemar_p": mcnemar_mid_p(b, c),
            "pair_correct_to_wrong": c2w / pairs, "pair_wrong_to_correct": w2c / pairs,
            "top1_agreement": same / (pairs * len(labels)), "kl_mean": kl,
            "n_dense_seeds": len(dense), "n_pruned_seeds": len(pruned)}


def tidy(preds: np.ndarray, logits: np.ndarray, labels: list, split: str, kind: LabelKind,
         rng: np.random.Generator) -> pl.DataFrame:
    """predictions.parquet rows, shuffled, with the loss the job must not need."""
    seeds, examples = preds.shape[:2]
    rows = [{"seed": s, "split": split, "example_id": 10 + 3 * e,
             kind.label_column: labels[e], kind.pred_column: preds[s, e].tolist(),
             "logits": logits[s, e].tolist(), "loss": float(rng.random())}
            for s in range(seeds) for e in range(examples)]
    overrides = ({"labels": pl.List(pl.Int8), "preds": pl.List(pl.Int8)} if kind is MULTI
                 else {"label": pl.Int64, "pred": pl.Int64})
    overrides["logits"] = pl.List(pl.Float32)
    return pl.DataFrame(rows, schema_overrides=overrides).sample(fraction=1.0, shuffle=True,
                                                                   seed=1)


@pytest.mark.parametrize("kind", [SINGLE, MULTI])
def test_diff_cell_writes_the_tables_of_the_documented_semantics(tmp_path, kind):
    rng = np.random.default_rng(5)
    num_classes, repeats, seed, confidence = 3, 40, 2, 0.9
    dense_frames, pruned_frames, pie_rows, null_rows, paired_rows = [], [], [], [], []
    for split, n_examples in (("train", 9), ("test", 7)):  # the tables sort the splits
        if kind is SINGLE:
            labels = rng.integers(0, num_classes, n_examples).tolist()
            dense = rng.integers(0, num_classes, (6, n_examples))
            pruned = rng.integers(0, num_classes, (5, n_examples))
        else:
            labels = rng.integers(0, 2, (n_examples, num_classes)).tolist()
            dense = rng.integers(0, 2, (6, n_examples, num_classes))
            pruned = (rng.random((5, n_examples, num_classes)) < 0.3).astype(np.int64)
        logits = (rng.normal(size=(6, n_examples, num_classes)).astype(np.float32),
                  rng.normal(size=(5, n_examples, num_classes)).astype(np.float32))
        dense_frames.append(tidy(dense, logits[0], labels, split, kind, rng))
        pruned_frames.append(tidy(pruned, logits[1], labels, split, kind, rng))
        pies, row = reference(dense, pruned, labels, split, kind, num_classes, repeats, seed,
                              confidence)
        pie_rows[:0], null_rows[:0] = pies, [row]
        paired_rows[:0] = [paired_reference(dense, pruned, logits, labels, split, kind, pies)]
    paths = {name: tmp_path / f"{name}.parquet" for name in ("dense", "pruned")}
    pl.concat(dense_frames).write_parquet(paths["dense"])
    pl.concat(pruned_frames).write_parquet(paths["pruned"])
    (tmp_path / "classes.json").write_text(json.dumps(["a", "b", "c"]))
    (tmp_path / "meta.json").write_text(json.dumps({"label_kind": str(kind)}))

    diff_cell(paths["dense"], paths["pruned"], tmp_path / "classes.json",
              tmp_path / "meta.json", tmp_path / "pies.parquet", tmp_path / "null.parquet",
              tmp_path / "paired.parquet", repeats=repeats, seed=seed, confidence=confidence)

    pie_schema = {**PIE_SCHEMA[kind], **PIE_FLAGS}
    if kind is MULTI:
        pie_schema["flipped_classes"] = pl.List(pl.UInt32)
    expected_pies = pl.DataFrame(pie_rows, schema=pie_schema)
    assert_frame_equal(pl.read_parquet(tmp_path / "pies.parquet"), expected_pies,
                       check_exact=True)
    assert_frame_equal(pl.read_parquet(tmp_path / "null.parquet"),
                       pl.DataFrame(null_rows, schema=NULL_SCHEMA), check_exact=True)
    assert_frame_equal(pl.read_parquet(tmp_path / "paired.parquet"),
                       pl.DataFrame(paired_rows, schema=PAIRED_SCHEMA), rel_tol=1e-9)
