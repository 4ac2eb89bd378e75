"""Time the per-cell analysis at the study's scale on synthetic predictions.

Default: 30 dense + 30 pruned seeds × 10,000 examples × 40 pruned cells, 3 classes, one
split; per cell the diff (``diff.populations.paired_populations`` and
``diff.pies.pie_table``), ``analysis.pies.el2n_bins`` and ``diff.nullrate.null_rate_table``
(200 repeats), plus ``analysis.pies.pie_summary`` reported separately. Prints per-stage
totals against a 60 s target; never asserts a timing.

    .venv/bin/python bench/bench_analysis.py            # full scale
    .venv/bin/python bench/bench_analysis.py --quick    # seconds, for a smoke run
    .venv/bin/python bench/bench_analysis.py --profile  # + cProfile of the slowest stage
"""

from __future__ import annotations

import os

# Two cores, like the machine the target is for; set before numpy/polars start pools.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "POLARS_MAX_THREADS"):
    os.environ.setdefault(_var, "2")

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from pieflow.analysis.pies import el2n_bins, pie_summary  # noqa: E402
from pieflow.diff.nullrate import null_rate_table  # noqa: E402
from pieflow.diff.pies import pie_table  # noqa: E402
from pieflow.diff.populations import paired_populations  # noqa: E402
from pieflow.labels import LabelKind  # noqa: E402

TARGET_S = 60.0
SPLIT = "test"
KIND = LabelKind.SINGLE


def find_pies(dense: pl.DataFrame, pruned: pl.DataFrame, num_classes: int
              ) -> tuple[list, pl.DataFrame]:
    """The diff of one cell: both populations per split, and its PIE table."""
    populations = paired_populations(dense, pruned, KIND)
    return populations, pie_table(populations, num_classes)


def population(rng: np.random.Generator, labels: np.ndarray, p_correct: np.ndarray,
               seeds: int, num_classes: int) -> pl.DataFrame:
    """Tidy predictions of ``seeds`` models: correct with per-example probability."""
    n = labels.size
    correct = rng.random((seeds, n)) < p_correct
    wrong = (labels + rng.integers(1, num_classes, size=(seeds, n))) % num_classes
    pred = np.where(correct, labels, wrong)
    # a cross-entropy-like loss, larger for wrong and for hard examples
    loss = np.where(correct, -np.log(np.clip(p_correct, 1e-3, 1)), 1.0 + rng.exponential(
        1.0, size=(seeds, n)))
    return pl.DataFrame({
        "seed": np.repeat(np.arange(seeds, dtype=np.int64), n),
        "split": pl.Series([SPLIT]).extend_constant(SPLIT, seeds * n - 1),
        "example_id": np.tile(np.arange(n, dtype=np.int64), seeds),
        "label": np.tile(labels, seeds),
        "pred": pred.ravel().astype(np.int64),
        "loss": loss.ravel(),
    })


def timed(totals: dict[str, float], stage: str, fn: Callable, *args) -> object:
    start = time.perf_counter()
    result = fn(*args)
    totals[stage] = totals.get(stage, 0.0) + time.perf_counter() - start
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=40)
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=30, help="per population")
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=200, help="null-rate repeats")
    parser.add_argument("--quick", action="store_true",
                        help="3 cells × 2,000 examples × 10 seeds")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile one cell of each stage and print the top calls")
    args = parser.parse_args()
    if args.quick:
        args.cells, args.examples, args.seeds = 3, 2_000, 10

    rng = np.random.default_rng(0)
    n, c = args.examples, args.classes
    start = time.perf_counter()
    labels = rng.integers(0, c, size=n).astype(np.int64)
    hardness = rng.beta(0.6, 2.5, size=n)  # most examples easy, a tail of hard ones
    dense = population(rng, labels, 1.0 - hardness, args.seeds, c)
    influence = pl.DataFrame({"split": [SPLIT] * n, "example_id": np.arange(n, dtype=np.int64),
                              "el2n": hardness + rng.normal(0, 0.05, size=n)})
    setup = time.perf_counter() - start

    totals: dict[str, float] = {}
    generate = 0.0
    n_pies, excess = [], []
    for cell in range(args.cells):
        start = time.perf_counter()
        damage = 0.02 + 0.3 * cell / max(args.cells - 1, 1)  # low to high sparsity
        p_correct = (1.0 - hardness) * (1.0 - 2 * damage * hardness)
        pruned = population(rng, labels, p_correct, args.seeds, c)
        generate += time.perf_counter() - start
        populations, pies = timed(totals, "diff (find_pies)", find_pies, dense, pruned, c)
        timed(totals, "el2n_bins", el2n_bins, dense, pruned, influence, pies)
        table = timed(totals, "null_rate_table", null_rate_table, populations, pies, c,
                      args.repeats)
        timed(totals, "pie_summary (extra)", pie_summary, pies, dense, pruned, KIND, influence)
        n_pies.append(int(pies.get_column("is_pie").sum()))
        excess.append(float(table.get_column("excess_mean").item()))

    print(f"pieflow analysis benchmark: {args.cells} cells × {args.seeds}+{args.seeds} seeds × "
          f"{n:,} examples × {c} classes, {args.repeats} null repeats, "
          f"threads={os.environ['POLARS_MAX_THREADS']}, cpus={os.cpu_count()}")
    print(f"synthetic data: setup {setup:.2f} s, pruned cells {generate:.2f} s (not counted)")
    print(f"PIEs per cell: {min(n_pies)}..{max(n_pies)}; excess over null: "
          f"{min(excess):.1f}..{max(excess):.1f}")
    for stage, seconds in totals.items():
        print(f"  {stage:<22} {seconds:8.2f} s total  {seconds / args.cells * 1e3:8.1f} ms/cell")
    core = sum(v for k, v in totals.items() if "extra" not in k)
    full = sum(totals.values())
    verdict = "within" if core <= TARGET_S else "OVER"
    print(f"diff + el2n_bins + null rate: {core:.2f} s ({verdict} the {TARGET_S:.0f} s target)")
    print(f"with pie_summary:             {full:.2f} s")
    if args.cells and args.quick:
        scale = 40 / args.cells * 10_000 / n * 30 / args.seeds
        print(f"(quick run: the full scale has about {scale:.0f}× the predictions; "
              "do not read the target line literally)")

    if args.profile:
        pruned = population(rng, labels, (1.0 - hardness) * 0.9, args.seeds, c)
        populations, pies = find_pies(dense, pruned, c)
        for stage, call in (
            ("find_pies", lambda: find_pies(dense, pruned, c)),
            ("el2n_bins", lambda: el2n_bins(dense, pruned, influence, pies)),
            ("null_rate_table",
             lambda: null_rate_table(populations, pies, c, args.repeats)),
        ):
            profile = cProfile.Profile()
            profile.runcall(call)
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(8)
            print(f"--- cProfile, one cell: {stage}")
            print("\n".join(line for line in out.getvalue().splitlines()[4:] if line.strip()))


if __name__ == "__main__":
    main()
