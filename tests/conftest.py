"""Shared fixtures: a tiny randomly initialised BERT saved like a hub checkpoint."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]


def make_tiny_bert(folder: Path) -> Path:
    """A 2-layer, hidden-32 BERT with MiniLM's tokenizer, saved with ``save_pretrained``,
    so tests exercise the same ``from_pretrained(local dir)`` path as hub checkpoints."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from pieflow.models.classifiers import embedded_encoder_dir

    tokenizer = AutoTokenizer.from_pretrained(embedded_encoder_dir())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64,
                        max_position_embeddings=128)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    return make_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_bert_spec(tiny_bert_dir) -> dict:
    return {"family": "bert", "pretrained": str(tiny_bert_dir), "epochs": 1, "lr": 1e-3,
            "batch_size": 16, "max_length": 32, "el2n_epoch": 0.5}


@pytest.fixture(scope="session")
def bilstm_spec() -> dict:
    return {"family": "bilstm", "vectors": "embedded", "epochs": 1, "lr": 2e-3,
            "batch_size": 16, "max_length": 32, "el2n_epoch": 1, "hidden_size": 16}


@pytest.fixture(scope="session")
def tweets():
    from pieflow.data.prepare import load_dataset_from_config

    return load_dataset_from_config(
        "tweets", {"source": "embedded-tweets",
                   "max_examples": {"train": 96, "validation": 32, "test": 64}})


def encoded(spec: dict, frame, num_classes: int = 3):
    """A frame in memory tokenised by the function the train, prune, predict and
    influence stages tokenise a split with (``models.loading.encode_frame``): pieflow's
    own special-token rule (``adds_special_tokens``), not a second rule here that could
    disagree with it (one did, for decoders)."""
    from pieflow.labels import label_kind_of
    from pieflow.models.classifiers import load_tokenizer
    from pieflow.models.loading import encode_frame

    return encode_frame(spec, load_tokenizer(spec), frame, label_kind_of(frame), num_classes)


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory, tiny_bert_dir):
    """The whole DAG on the tiny config, run once and shared by tests/test_workflow.py and
    tests/test_report.py. Tests that change the config restore it before they finish."""
    from workflow_helpers import (
        failure_report,
        snakemake,
        tiny_config,
        write_config,
        write_tiny_glove,
    )

    workdir = tmp_path_factory.mktemp("workflow")
    glove = write_tiny_glove(tmp_path_factory.mktemp("glove") / "glove.txt")
    config = tiny_config(tiny_bert_dir, glove=glove)
    write_config(workdir, config)
    result = snakemake(workdir)
    assert result.returncode == 0, failure_report(workdir, result)
    return workdir, config


# --------------------------------------------------------------------------------------
# Tiny decoders (family: decoder), saved like hub checkpoints, with their own tokenizers
# --------------------------------------------------------------------------------------

_DECODER_CORPUS = [
    "the quick brown fox jumps over the lazy dog",
    "i love this so much, best day ever!",
    "worst service ever :( never again",
    "@user what a game tonight #win",
    "not sure what to think about the news today",
]


def make_tiny_tokenizer(bos: str | None, eos: str | None, add_bos: bool):
    """A byte-level BPE tokenizer (every text tokenises, no unknown tokens) trained on a
    few sentences, offline. ``add_bos``: prepend BOS like Llama's; else add nothing like
    GPT-2's. No pad token: pieflow must provide one."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    specials = list(dict.fromkeys(s for s in (bos, eos) if s))
    backend.train_from_iterator(_DECODER_CORPUS, trainers.BpeTrainer(
        vocab_size=300, special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    if add_bos:
        backend.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
            special_tokens=[(bos, backend.token_to_id(bos))])
    else:
        backend.post_processor = processors.ByteLevel(trim_offsets=False)
    tokens = {key: value for key, value in (("bos_token", bos), ("eos_token", eos)) if value}
    return PreTrainedTokenizerFast(tokenizer_object=backend, **tokens)


def make_tiny_decoder(folder: Path, style: str, eos: bool = True) -> Path:
    """A 2-layer, hidden-32 causal LM saved with ``save_pretrained`` beside its
    tokenizer: ``llama`` (RMSNorm, rotary, grouped KV heads, tokenizer adds BOS) or
    ``gpt2`` (Conv1D projections, learned positions, tokenizer adds nothing).
    ``eos=False``: a tokenizer with neither EOS nor pad (pieflow must add a pad token)."""
    from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    if style == "llama":
        tokenizer = make_tiny_tokenizer("<s>", "</s>" if eos else None, add_bos=True)
        config = LlamaConfig(
            vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
            num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            max_position_embeddings=128, bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False)
        model = LlamaForCausalLM(config)
    elif style == "gpt2":
        end = "<|endoftext|>"
        tokenizer = make_tiny_tokenizer(end, end if eos else None, add_bos=False)
        config = GPT2Config(vocab_size=len(tokenizer), n_embd=32, n_layer=2, n_head=2,
                            n_inner=64, n_positions=128,
                            bos_token_id=tokenizer.bos_token_id,
                            eos_token_id=tokenizer.eos_token_id)
        model = GPT2LMHeadModel(config)
    else:
        raise ValueError(f"unknown decoder style {style!r}")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory) -> Path:
    return make_tiny_decoder(tmp_path_factory.mktemp("tiny-llama"), "llama")


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory) -> Path:
    return make_tiny_decoder(tmp_path_factory.mktemp("tiny-gpt2"), "gpt2")
