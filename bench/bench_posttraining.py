"""Benchmark post-training compression: Wanda and SparseGPT vs one-shot magnitude, and the
cost of a post-training cell vs an IMP cell.

Two questions from issue #12, answered in one run on a randomly initialised BERT-base
classifier (``BertConfig()`` defaults, 3 labels; no download) with 128 calibration
sequences of 64 tokens:

1. What does each post-training method cost — calibration pass + compression of all 73
   body Linear weights — as a multiple of one-shot magnitude pruning?
2. What does a post-training cell cost next to an IMP cell? Both start from the trained
   dense seed, so only the work beyond the dense run counts: post-training = calibration
   + compression (measured); IMP = ``prunes`` magnitude prunes (measured) + ``prunes``·E
   epochs of training, extrapolated from measured training steps (batch × 64 tokens) to
   ``--train-examples`` examples and ``--epochs`` E.

Run ``python bench/bench_posttraining.py`` (a few minutes on 2 cores) or ``--quick`` (a
tiny model, seconds; timings meaningless).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import TypeVar

import torch
from bench_models import build_model
from torch import nn

from pieflow.labels import LabelKind
from pieflow.masks import achieved_sparsity, prunable_parameters
from pieflow.models.encoding import Encoded
from pieflow.prune.methods import MethodSpec
from pieflow.prune.posttraining import calibrate_for, prune_trained, quantize_weights
from pieflow.train.loop import TrainState, make_optimizer, train_epochs

T = TypeVar("T")
CPU = torch.device("cpu")
HEADER = (f"{'method':<22}{'calibrate s':>12}{'compress s':>12}{'total s':>10}"
          f"{'x magnitude':>13}{'zeros':>9}")


def timed(fn: Callable[..., T], *args: object, **kwargs: object) -> tuple[float, T]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def random_data(vocab: int, count: int, length: int) -> Encoded:
    """Random token ids of one length: the cost does not depend on what they say."""
    gen = torch.Generator().manual_seed(0)
    ids = [torch.randint(1, vocab, (length,), generator=gen) for _ in range(count)]
    return Encoded(input_ids=ids, token_type_ids=[torch.zeros_like(x) for x in ids],
                   labels=torch.randint(0, 3, (count,), generator=gen),
                   example_ids=torch.arange(count), pad_id=0, kind=LabelKind.SINGLE)


def compress_rows(model: nn.Module, data: Encoded, sparsity: float,
                  methods: dict[str, MethodSpec]) -> list[tuple[str, float, float, float]]:
    """(name, calibration s, compression s, zeros) per method, each from the dense weights."""
    params = prunable_parameters(model)
    originals = {n: p.detach().clone() for n, p in params.items()}
    rows = []
    for name, method in methods.items():
        with torch.no_grad():
            for key, value in originals.items():
                params[key].copy_(value)
        calibration, calib_s = None, 0.0
        if method.needs_calibration:
            calib_s, calibration = timed(calibrate_for, model, params, method, data, 0, CPU)
        target = (method.fixed_sparsity if method.fixed_sparsity is not None
                  else 100 * sparsity) / 100
        seconds, masks = timed(prune_trained, model, params, method, target, data, 0, CPU,
                               calibration)
        if method.quantize is not None:
            seconds += timed(quantize_weights, params, masks, method.quantize,
                             calibration)[0]
        rows.append((name, calib_s, seconds, achieved_sparsity(params.values())))
        print(f"  {name}: {calib_s:.1f} s + {seconds:.1f} s", file=sys.stderr, flush=True)
    return rows


def training_seconds_per_example(model: nn.Module, data: Encoded, batch_size: int,
                                 steps: int) -> float:
    """Seconds per training example of ``train_epochs`` (forward, backward, clip, Adam,
    masks re-applied), after one untimed warm-up step."""
    masks = {n: p.detach() != 0 for n, p in prunable_parameters(model).items()}
    state = TrainState(make_optimizer(model, 1e-5))
    warm = Encoded(**{**data.__dict__, "input_ids": data.input_ids[:batch_size]})
    train_epochs(model, warm, state, seed=0, epochs=1, batch_size=batch_size, device=CPU,
                 masks=masks)
    timed_data = Encoded(**{**data.__dict__, "input_ids": data.input_ids[:batch_size * steps]})
    seconds, _ = timed(train_epochs, model, timed_data, state, seed=0, epochs=1,
                       batch_size=batch_size, device=CPU, masks=masks)
    return seconds / len(timed_data)


def print_report(rows: list[tuple[str, float, float, float]], per_example: float,
                 args: argparse.Namespace, model: nn.Module, elapsed: float) -> None:
    params = prunable_parameters(model)
    total = sum(p.numel() for p in model.parameters())
    print(f"model: {'tiny BERT (--quick)' if args.quick else 'BERT-base'} random init, "
          f"{total / 1e6:.1f}M parameters, {sum(p.numel() for p in params.values()) / 1e6:.1f}M"
          f" prunable in {len(params)} Linear weights; {args.calibration} calibration "
          f"sequences x {args.seq_len} tokens")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")
    print()
    print(f"1. one-shot compression at {args.sparsity:.0%} (2:4 at 50 %), from the dense "
          "weights; calibration = one forward pass with hooks")
    print(HEADER)
    magnitude = next(r for r in rows if r[0] == "magnitude")
    base = magnitude[1] + magnitude[2]
    for name, calib_s, compress_s, zeros in rows:
        total_s = calib_s + compress_s
        print(f"{name:<22}{calib_s:>12.2f}{compress_s:>12.2f}{total_s:>10.2f}"
              f"{total_s / base:>12.1f}x{zeros:>9.4f}")
    print()
    sparsegpt = next(r for r in rows if r[0] == "sparsegpt")
    post = sparsegpt[1] + sparsegpt[2]
    epoch_s = per_example * args.train_examples
    imp = args.prunes * base + args.prunes * args.epochs * epoch_s
    print(f"2. one cell beyond the dense run (E = {args.epochs} epochs of "
          f"{args.train_examples} examples, {args.prunes} prunes; training measured on "
          f"{args.steps} steps of {args.batch_size} x {args.seq_len} tokens: "
          f"{1000 * per_example:.0f} ms/example)")
    print(f"{'cell':<34}{'seconds':>12}")
    print(f"{'post-training (sparsegpt)':<34}{post:>12.1f}   measured")
    print(f"{'IMP: prunes x magnitude':<34}{args.prunes * base:>12.1f}   measured")
    print(f"{'IMP: prunes x E epochs':<34}{imp - args.prunes * base:>12.1f}   extrapolated")
    print(f"{'IMP cell / post-training cell':<34}{imp / post:>11.0f}x")
    print(f"total benchmark time {elapsed:.0f} s")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny BERT, few sequences: a smoke run in seconds")
    parser.add_argument("--sparsity", type=float, default=0.5, help="unstructured target")
    parser.add_argument("--calibration", type=int, default=None, help="default 128 (--quick 8)")
    parser.add_argument("--seq-len", type=int, default=None, help="default 64 (--quick 16)")
    parser.add_argument("--batch-size", type=int, default=None, help="default 16 (--quick 4)")
    parser.add_argument("--steps", type=int, default=None, help="timed training steps "
                        "(default 3, --quick 1)")
    parser.add_argument("--train-examples", type=int, default=25_000,
                        help="training set size of the extrapolated IMP cell (IMDB: 25,000)")
    parser.add_argument("--epochs", type=int, default=3, help="E of the IMP cell (IMDB: 3)")
    parser.add_argument("--prunes", type=int, default=3)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args(argv)
    for key, full, quick in [("calibration", 128, 8), ("seq_len", 64, 16),
                             ("batch_size", 16, 4), ("steps", 3, 1)]:
        if getattr(args, key) is None:
            setattr(args, key, quick if args.quick else full)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    model = build_model(args.quick)
    vocab = model.encoder.config.vocab_size
    data = random_data(vocab, max(args.calibration, args.batch_size * args.steps),
                       args.seq_len)
    methods = {
        "magnitude": MethodSpec("magnitude", "post_training"),
        "wanda": MethodSpec("wanda", "post_training", calibration_examples=args.calibration),
        "sparsegpt": MethodSpec("sparsegpt", "post_training",
                                calibration_examples=args.calibration),
        "magnitude 2:4": MethodSpec("magnitude", "post_training", pattern="2:4"),
        "wanda 2:4": MethodSpec("wanda", "post_training", pattern="2:4",
                                calibration_examples=args.calibration),
        "sparsegpt 2:4": MethodSpec("sparsegpt", "post_training", pattern="2:4",
                                    calibration_examples=args.calibration),
        "int8 rtn": MethodSpec("none", "post_training", quantize={"bits": 8}),
        "int4-g128 gptq": MethodSpec("none", "post_training", calibration_examples=args
                                     .calibration, quantize={"bits": 4, "group_size": 128,
                                                             "scheme": "gptq"}),
    }
    rows = compress_rows(model, data, args.sparsity, methods)
    per_example = training_seconds_per_example(model, data, args.batch_size, args.steps)
    print_report(rows, per_example, args, model, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
