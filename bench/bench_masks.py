"""Benchmark pieflow's masks against torch.nn.utils.prune, and what masking costs a step.

Two questions from the pruning issue, answered in one run on a randomly initialised
BERT-base-sized classifier (``BertConfig()`` defaults, 3 labels, ~110M parameters):

1. Is ``next_masks`` (magnitude scores, ``layer`` and ``global`` scope) at least 3x faster
   than ``torch.nn.utils.prune`` (``l1_unstructured`` per Linear, ``global_unstructured``
   with ``L1Unstructured``) over the same weights, and does it reach the same sparsity?
2. Does ``apply_masks`` after every optimiser step cost at most 10 % of the step?

Run ``python bench/bench_masks.py`` (about 5 minutes on 2 idle cores) or ``--quick``
(a tiny model, seconds). Timings are medians over ``--repeats``; pieflow and torch
repeats are interleaved so background load hits both alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import torch
from bench_models import build_model
from torch import nn
from torch.nn.utils import prune

from pieflow.labels import LabelKind
from pieflow.masks import (
    Masks,
    Scope,
    achieved_sparsity,
    apply_masks,
    full_masks,
    next_masks,
    prunable_parameters,
)
from pieflow.models.forward import loss_per_example
from pieflow.train.loop import make_optimizer

T = TypeVar("T")

MASKS_HEADER = (
    f"{'scope':<7}{'sparsity':>9}{'next_masks s':>14}{'apply s':>10}{'torch s':>10}"
    f"{'torch / pieflow':>17}{'pieflow sp.':>13}{'torch sp.':>11}{'mask diff':>11}"
    f"{'exact':>7}"
)
STEP_HEADER = f"{'what':<34}{'median s':>10}{'% of step':>11}"


def default_threads() -> int:
    """All cores this process may use (the affinity mask, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def body_linears(model: nn.Module) -> dict[str, nn.Linear]:
    """The Linear modules whose weights ``prunable_parameters`` picks, by weight name.

    Both libraries must prune exactly the same tensors for the timings to compare.
    """
    prunable = prunable_parameters(model)
    linears = {f"{name}.weight": module for name, module in model.named_modules()
               if isinstance(module, nn.Linear) and f"{name}.weight" in prunable}
    if set(linears) != set(prunable):
        raise SystemExit(f"prunable weights that are not Linear: {set(prunable) - set(linears)}")
    return linears


@torch.no_grad()
def restore(model: nn.Module, linears: dict[str, nn.Linear],
            originals: dict[str, torch.Tensor]) -> None:
    """Undo any torch reparametrisation, then put the original dense weights back."""
    for module in linears.values():
        if prune.is_pruned(module):
            prune.remove(module, "weight")
    params = dict(model.named_parameters())
    for name, weight in originals.items():
        params[name].copy_(weight)


def timed(fn: Callable[..., T], *args: object) -> tuple[float, T]:
    """Wall time of one call in seconds, and what it returned."""
    start = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - start, result


def pieflow_masks(params: dict[str, nn.Parameter], sparsity: float, scope: Scope) -> Masks:
    """pieflow's one-shot magnitude pruning, as ``prune.schedules`` does it: |w| scores, masks."""
    scores = {n: p.detach().abs() for n, p in params.items()}
    return next_masks(scores, full_masks(params), sparsity, scope)


def torch_prune(linears: dict[str, nn.Linear], sparsity: float, scope: Scope) -> None:
    """torch's equivalent: compute the L1 mask and attach it (weight_orig, weight_mask)."""
    if scope == "layer":
        for module in linears.values():
            prune.l1_unstructured(module, "weight", amount=sparsity)
    else:
        prune.global_unstructured([(m, "weight") for m in linears.values()],
                                  pruning_method=prune.L1Unstructured, amount=sparsity)


@dataclass
class MaskRow:
    """One (scope, sparsity) line of the first table."""

    scope: Scope
    sparsity: float
    masks_s: float
    apply_s: float
    torch_s: float
    pieflow_sparsity: float
    torch_sparsity: float
    mask_diff: int
    exact: bool

    @property
    def ratio(self) -> float:
        return self.torch_s / (self.masks_s + self.apply_s)


def bench_mask_computation(model: nn.Module, sparsities: list[float],
                           repeats: int) -> list[MaskRow]:
    """Time pieflow (|w| + full_masks + next_masks, then apply_masks) against torch's prune
    (compute + attach the mask), each from the same fresh dense weights.

    torch's ``prune.remove`` and the weight restore run between repeats, untimed.
    """
    linears = body_linears(model)
    originals = {name: m.weight.detach().clone() for name, m in linears.items()}
    rows = []
    scopes: tuple[Scope, ...] = ("layer", "global")
    for scope in scopes:
        for sparsity in sparsities:
            masks_t, apply_t, torch_t = [], [], []
            masks_pf: Masks = {}
            masks_torch: Masks = {}
            pieflow_sp = torch_sp = 0.0
            for rep in range(repeats):
                restore(model, linears, originals)
                params = prunable_parameters(model)
                seconds, pieflow_masks_ = timed(pieflow_masks, params, sparsity, scope)
                masks_t.append(seconds)
                apply_t.append(timed(apply_masks, params, pieflow_masks_)[0])
                if rep == 0:
                    masks_pf = pieflow_masks_
                    pieflow_sp = achieved_sparsity(p.detach() for p in params.values())
                restore(model, linears, originals)
                torch_t.append(timed(torch_prune, linears, sparsity, scope)[0])
                if rep == 0:
                    torch_sp = achieved_sparsity(m.weight.detach() for m in linears.values())
                    masks_torch = {n: m.weight_mask.bool() for n, m in linears.items()}
            restore(model, linears, originals)
            pruned_pf = sum(int((~m).sum()) for m in masks_pf.values())
            pruned_torch = sum(int((~m).sum()) for m in masks_torch.values())
            diff = sum(int((masks_pf[n] != masks_torch[n]).sum()) for n in masks_torch)
            rows.append(MaskRow(scope, sparsity, statistics.median(masks_t),
                                statistics.median(apply_t), statistics.median(torch_t),
                                pieflow_sp, torch_sp, diff,
                                pruned_pf == pruned_torch and pieflow_sp == torch_sp))
    return rows


def random_batch(vocab_size: int, batch_size: int, seq_len: int) -> dict[str, torch.Tensor]:
    """Random token ids: the step's cost does not depend on what the tokens say."""
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab_size, (batch_size, seq_len), generator=gen)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids),
            "token_type_ids": torch.zeros_like(ids),
            "labels": torch.randint(0, 3, (batch_size,), generator=gen)}


def bench_training_step(model: nn.Module, sparsity: float, repeats: int, batch_size: int,
                        seq_len: int) -> dict[str, float]:
    """Median seconds of one training step (as in ``train_epochs``) with and without
    ``apply_masks`` after it, and of ``apply_masks`` alone."""
    params = prunable_parameters(model)
    masks = next_masks({n: p.detach().abs() for n, p in params.items()}, full_masks(params),
                       sparsity)
    apply_masks(params, masks)
    # as train_epochs does: masks in the weights' dtype (a float multiply beats a bool one)
    masks = {n: m.to(params[n].dtype) for n, m in masks.items()}
    vocab = model.encoder.config.vocab_size
    batch = random_batch(vocab, batch_size, seq_len)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(model, 1e-5)
    model.train()

    def step(masked: bool) -> None:
        inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
        loss = loss_per_example(model(**inputs), batch["labels"], LabelKind.SINGLE).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        if masked:
            apply_masks(params, masks)

    step(True)  # warm-up: Adam allocates its moments on the first step
    plain, masked = [], []
    for _ in range(repeats):  # interleaved, so drifting load hits both alike
        plain.append(timed(step, False)[0])
        masked.append(timed(step, True)[0])
    alone = [timed(apply_masks, params, masks)[0] for _ in range(max(5, 2 * repeats))]
    return {"plain": statistics.median(plain), "masked": statistics.median(masked),
            "apply": statistics.median(alone)}


def print_report(rows: list[MaskRow], step: dict[str, float], args: argparse.Namespace,
                 model: nn.Module, elapsed: float) -> None:
    """The two compact tables, then the verdict on each target."""
    total = sum(p.numel() for p in model.parameters())
    prunable = sum(p.numel() for p in prunable_parameters(model).values())
    print(f"model: {'tiny BERT (--quick)' if args.quick else 'BERT-base'} random init, "
          f"{total / 1e6:.1f}M parameters, {prunable / 1e6:.1f}M prunable in "
          f"{len(prunable_parameters(model))} Linear weights")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; "
          f"median of {args.repeats} repeats")
    print()
    print("1. mask computation: pieflow next_masks (|w| scores) vs torch.nn.utils.prune "
          "(compute + attach)")
    print(MASKS_HEADER)
    for r in rows:
        print(f"{r.scope:<7}{r.sparsity:>9.2f}{r.masks_s:>14.3f}{r.apply_s:>10.3f}"
              f"{r.torch_s:>10.3f}{r.ratio:>16.1f}x{r.pieflow_sparsity:>13.6f}"
              f"{r.torch_sparsity:>11.6f}{r.mask_diff:>11d}{'yes' if r.exact else 'NO':>7}")
    print("   torch / pieflow = torch s / (next_masks s + apply s); mask diff = positions "
          "where the masks differ (only possible among tied |w|)")
    print()
    print(f"2. training step: batch {args.batch_size} x {args.seq_len} tokens, forward + "
          f"backward + clip + Adam, masks at {args.sparsities[-1]:.0%} (layer)")
    print(STEP_HEADER)
    overhead = step["masked"] - step["plain"]
    for label, seconds in [("step without masks", step["plain"]),
                           ("step + apply_masks", step["masked"]),
                           ("masking overhead (difference)", overhead),
                           ("apply_masks alone", step["apply"])]:
        print(f"{label:<34}{seconds:>10.3f}{100 * seconds / step['plain']:>10.1f}%")
    print()
    worst = min(r.ratio for r in rows)
    share = 100 * step["apply"] / step["plain"]
    print(f"target >= 3x faster than torch prune: worst {worst:.1f}x -> "
          f"{'met' if worst >= 3 else 'MISSED'}")
    print(f"target masking <= 10 % of a step: apply_masks is {share:.1f}% -> "
          f"{'met' if share <= 10 else 'MISSED'}")
    print(f"all sparsities exact: {'yes' if all(r.exact for r in rows) else 'NO'}")
    print(f"total benchmark time {elapsed:.0f} s")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Options; --quick shrinks the model and batch so the whole run takes seconds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed repeats per measurement, median reported (default 3, "
                             "--quick 2)")
    parser.add_argument("--sparsities", type=float, nargs="+", default=[0.5, 0.9],
                        help="target sparsities in [0, 1) (default 0.5 0.9)")
    parser.add_argument("--threads", type=int, default=default_threads(),
                        help="torch.set_num_threads (default: all cores)")
    parser.add_argument("--batch-size", type=int, default=None, help="default 8 (--quick 4)")
    parser.add_argument("--seq-len", type=int, default=None, help="default 64 (--quick 16)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny BERT and batch: a smoke run in seconds, timings meaningless")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 2 if args.quick else 3
    if args.batch_size is None:
        args.batch_size = 4 if args.quick else 8
    if args.seq_len is None:
        args.seq_len = 16 if args.quick else 64
    if args.repeats < 1 or args.threads < 1:
        parser.error("--repeats and --threads must be at least 1")
    if not all(0.0 <= s < 1.0 for s in args.sparsities):
        parser.error("--sparsities must lie in [0, 1)")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run both benchmarks and print the report."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    model = build_model(args.quick)
    rows = bench_mask_computation(model, args.sparsities, args.repeats)
    step = bench_training_step(model, args.sparsities[-1], args.repeats, args.batch_size,
                               args.seq_len)
    print_report(rows, step, args, model, time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
