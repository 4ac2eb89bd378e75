#!/usr/bin/env python
"""Write the data of the recipe's lm-evaluation-harness task ``pieflow_sums`` (sums.yaml).

4-choice sums "What is a plus b?" with the choices the sum, sum - 1, sum + 1 and sum + 10
in a seeded shuffled order; ``label`` is the index of the sum. Operands 2..30:
SmolLM2-135M is clearly above chance on them (0.54-0.62 per draw with 3 demonstrations,
chance 0.25; operands up to 40 gave 0.40-0.47) yet far from perfect, so few-shot draws
and compression both change answers (bench/measure_llm_task.py). ``sums_train.jsonl`` is
the few-shot pool, ``sums_test.jsonl`` the evaluated documents; no pair of operands occurs
in both, in either order (2..30 allows 435 distinct questions).

Standard library only; the output depends on ``--seed`` alone::

    python config/llm/make_sums.py [--train 200] [--test 200] [--seed 2026] [--low 2 --high 30]
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOW, HIGH = 2, 30


def sums(rng: random.Random, count: int, seen: set[tuple[int, int]], low: int = LOW,
         high: int = HIGH) -> list[dict]:
    """``count`` documents whose unordered operand pairs are not in ``seen`` (updated)."""
    if count + len(seen) > (high - low + 1) * (high - low + 2) // 2:
        raise SystemExit(f"only {(high - low + 1) * (high - low + 2) // 2} distinct "
                         f"questions exist with operands {low}..{high}")
    docs = []
    while len(docs) < count:
        a, b = rng.randint(low, high), rng.randint(low, high)
        key = (min(a, b), max(a, b))
        if key in seen:
            continue
        seen.add(key)
        total = a + b
        choices = [total, total - 1, total + 1, total + 10]
        rng.shuffle(choices)
        docs.append({"question": f"What is {a} plus {b}?",
                     "choices": [str(c) for c in choices], "label": choices.index(total)})
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=200, help="few-shot pool size")
    parser.add_argument("--test", type=int, default=200, help="evaluated documents")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--low", type=int, default=LOW, help="smallest operand")
    parser.add_argument("--high", type=int, default=HIGH, help="largest operand")
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the JSONL files")
    args = parser.parse_args()
    rng, seen = random.Random(args.seed), set()
    args.out.mkdir(parents=True, exist_ok=True)
    for split, count in (("train", args.train), ("test", args.test)):
        docs = sums(rng, count, seen, args.low, args.high)
        path = args.out / f"sums_{split}.jsonl"
        path.write_text("".join(json.dumps(doc) + "\n" for doc in docs), encoding="utf-8")
        print(f"{path}: {len(docs)} documents")


if __name__ == "__main__":
    main()
