"""Seconds per member of the LLM recipe (config/llm.yaml), split into load, compress and
evaluate: member 0 of each population, run by the workflow's own job function
(``pieflow.llm.job.evaluate_job``) one after the other in this process, on one thread
as the recipe's jobs run (``snakemake --cores 2`` runs two such jobs side by side).

    python bench/bench_llm_members.py                 # the recipe as shipped
    python bench/bench_llm_members.py --threads 2 --limit 20

Prints one row per population and, last, the recipe's predicted member time in all
(members × mean seconds) — the evaluations dominate the recipe's wall time. Python and
library start-up of each job (~6 s: torch, transformers, lm_eval) is not in the rows:
``results/benchmarks/evaluate_llm/`` holds the workflow's own per-job wall times.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO / "config" / "llm.yaml"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None,
                        help="documents per member (default: the recipe's limit)")
    parser.add_argument("--seed", type=int, default=0, help="the member (few-shot seed)")
    args = parser.parse_args()
    os.chdir(REPO)  # the recipe's task paths are relative to the repository root
    torch.set_num_threads(args.threads)

    from pieflow.llm import spec
    from pieflow.llm.job import convert_job, evaluate_job

    config = yaml.safe_load(Path(args.config).read_text())
    llm = next(iter(spec.llm_specs(config).values()))
    task_name = llm.tasks[0]
    populations = [(spec.DENSE, 0), *spec.populations(config, llm)]
    with tempfile.TemporaryDirectory(prefix="pieflow-bench-llm-") as scratch:
        inputs = spec.member_inputs(config, task_name, llm.name, spec.DENSE)
        converted = None
        if "converted" in inputs:
            converted = str(Path(scratch) / "converted")
            started = time.perf_counter()
            convert_job(llm.pretrained, llm.gguf_file, converted)
            print(f"convert (once per model): {time.perf_counter() - started:.1f} s")
        rows = []
        for method, sparsity in populations:
            params = spec.member_params(config, task_name, llm.name, method)
            if args.limit is not None:
                params["task"]["limit"] = args.limit
            member_inputs = spec.member_inputs(config, task_name, llm.name, method)
            if converted is not None:
                member_inputs["converted"] = converted
            out = Path(scratch) / method
            outputs = {name: str(out / name) for name in ("samples", "results",
                                                          "compression")}
            evaluate_job(params["model"], params["task"], params["method"],
                         params["checkpoint"], sparsity, args.seed, params["calibration"],
                         member_inputs, outputs)
            timings = yaml.safe_load(Path(outputs["compression"]).read_text())["timings"]
            accuracy = yaml.safe_load(Path(outputs["results"]).read_text())["results"]
            rows.append((f"{method} {sparsity} %", timings, accuracy.get("acc,none")))
    print(f"\n{'population':<22}{'load s':>8}{'compress s':>12}{'evaluate s':>12}"
          f"{'total s':>9}{'acc':>7}")
    totals = []
    for name, t, acc in rows:
        total = t["task_s"] + t["load_s"] + t["compress_s"] + t["evaluate_s"]
        totals.append(total)
        print(f"{name:<22}{t['load_s']:>8.1f}{t['compress_s']:>12.1f}"
              f"{t['evaluate_s']:>12.1f}{total:>9.1f}{acc:>7.2f}")
    task = spec.llm_tasks(config)[task_name]
    members = spec.member_count(config, task, llm)
    predicted = members * sum(totals)
    print(f"\nthreads {args.threads}; {members} members × {len(rows)} populations: "
          f"{predicted / 60:.1f} min of member time in all (one job at a time)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
