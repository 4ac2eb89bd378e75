"""family: decoder — causal LMs as classifiers (issue #12, item 5).

Tiny random Llama-style and GPT-2-style models (tests/conftest.py) saved with
``save_pretrained`` beside byte-level BPE tokenizers that have no pad token.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import polars as pl
import pytest
import torch
from bad_configs import base_config
from conftest import encoded, make_tiny_decoder
from torch import nn
from workflow_helpers import failure_report, planned_jobs, snakemake, write_config

from pieflow import config as pieflow_config
from pieflow.config import ConfigError, check_config
from pieflow.influence.grand import grand_scores, norm_parameters
from pieflow.masks import achieved_sparsity, prunable_parameters
from pieflow.models.classifiers import (
    DECODER_PAD,
    DecoderClassifier,
    ModelError,
    build_model,
    ensure_pad_token,
    load_tokenizer,
    trainable_state,
)
from pieflow.models.forward import loss_per_example, model_inputs
from pieflow.predict.inference import predict_logits
from pieflow.prune.methods import BUILTIN_METHODS
from pieflow.prune.schedules import run_pruning
from pieflow.train.dense import train_dense

CPU = torch.device("cpu")
STYLES = ["llama", "gpt2"]
TOKEN_EMBEDDINGS = {"llama": "encoder.model.embed_tokens.weight",
                    "gpt2": "encoder.transformer.wte.weight"}
EMBEDDINGS = {"llama": {"encoder.model.embed_tokens.weight"},
              "gpt2": {"encoder.transformer.wte.weight", "encoder.transformer.wpe.weight"}}
HEAD = "encoder.score.weight"


def spec_for(folder, **extra) -> dict:
    # max_length 96: these byte-level tokens make tweets ~70–120 tokens long, so a batch
    # mixes padded and truncated texts
    return {"family": "decoder", "pretrained": str(folder), "epochs": 1, "lr": 1e-3,
            "batch_size": 16, "max_length": 96, "el2n_epoch": 0.5, **extra}


@pytest.fixture(params=STYLES)
def style(request) -> str:
    return request.param


@pytest.fixture
def spec(style, request) -> dict:
    return spec_for(request.getfixturevalue(f"tiny_{style}_dir"))


def encode_frame(spec: dict, frame):
    """A frame in memory encoded as the stages encode a split (tests/conftest.py
    ``encoded``: ``models.loading.encode_frame``)."""
    return encoded(spec, frame)


# --------------------------------------------------------------------------------------
# Loading: pad token, head, layout, special tokens, revision
# --------------------------------------------------------------------------------------


def test_decoder_loads_with_a_pad_token_and_a_score_head(spec, style):
    tokenizer = load_tokenizer(spec)
    assert tokenizer.pad_token_id is not None
    assert tokenizer.pad_token == tokenizer.eos_token  # the fixtures' tokenizers had none
    model = build_model(spec, 3, seed=0)
    assert isinstance(model, DecoderClassifier)
    assert model.encoder.config.pad_token_id == tokenizer.pad_token_id
    assert model.encoder.config.use_cache is False
    assert model.head_prefix == "encoder.score."
    assert all(p.dtype == torch.float32 for p in model.parameters())

    prunable = prunable_parameters(model)
    linears = {f"{name}.weight" for name, module in model.named_modules()
               if isinstance(module, nn.Linear) and name != "encoder.score"}
    assert set(prunable) == linears and len(linears) == 2 * (7 if style == "llama" else 4)
    assert HEAD not in prunable and not EMBEDDINGS[style] & set(prunable)
    study = prunable_parameters(model, "study")
    assert HEAD not in study and not EMBEDDINGS[style] & set(study)


def test_gpt2_conv1d_is_rebuilt_as_an_equal_linear(tiny_gpt2_dir, tweets):
    """GPT-2 stores its projections as Conv1D (in × out); pieflow holds them as Linear
    (out × in), the layout Wanda, SparseGPT, N:M and GPTQ assume — same function."""
    from transformers import AutoModelForSequenceClassification
    from transformers.pytorch_utils import Conv1D

    spec = spec_for(tiny_gpt2_dir)
    model = build_model(spec, 3, seed=0).eval()
    assert not any(isinstance(m, Conv1D) for m in model.modules())
    c_attn = model.encoder.transformer.h[0].attn.c_attn
    assert isinstance(c_attn, nn.Linear) and c_attn.weight.shape == (96, 32)  # out × in

    reference = AutoModelForSequenceClassification.from_pretrained(tiny_gpt2_dir,
                                                                   num_labels=3).eval()
    assert isinstance(reference.transformer.h[0].attn.c_attn, Conv1D)
    reference.config.pad_token_id = model.encoder.config.pad_token_id
    with torch.no_grad():
        reference.score.weight.copy_(model.encoder.score.weight)
        assert torch.equal(reference.transformer.h[0].attn.c_attn.weight.T, c_attn.weight)
        batch = next(encode_frame(spec, tweets.splits["test"].head(8)).batches(8))
        ours = model(batch["input_ids"], batch["attention_mask"])
        theirs = reference(input_ids=batch["input_ids"],
                           attention_mask=batch["attention_mask"]).logits
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_special_tokens_follow_the_tokenizer_in_training_and_prediction(spec, style, tweets):
    """Llama's tokenizer adds BOS, GPT-2's adds nothing; the train, prune, predict and
    influence stages encode through the same function (``models.loading.encode_frame``),
    so they agree."""
    frame = tweets.splits["test"].head(6)
    data = encode_frame(spec, frame)
    tokenizer = load_tokenizer(spec)
    texts = frame.get_column("text").to_list()
    default = tokenizer(texts, truncation=True, max_length=spec["max_length"])["input_ids"]
    assert [ids.tolist() for ids in data.input_ids] == default
    starts = {int(ids[0]) for ids in data.input_ids}
    if style == "llama":
        assert starts == {tokenizer.bos_token_id}
    else:
        assert tokenizer.bos_token_id not in starts
    assert not any(tokenizer.pad_token_id in ids.tolist() for ids in data.input_ids)


def test_revision_reaches_both_from_pretrained_calls(tiny_llama_dir, monkeypatch):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    seen = []

    def spy(real):
        def call(*args, **kwargs):
            seen.append((real.__self__.__name__, kwargs.pop("revision", None)))
            return real(*args, **kwargs)
        return call

    for cls in (AutoModelForSequenceClassification, AutoTokenizer):
        monkeypatch.setattr(cls, "from_pretrained", spy(cls.from_pretrained))
    build_model(spec_for(tiny_llama_dir, revision="0123abc"), 3, seed=0)
    assert sorted(seen) == [("AutoModelForSequenceClassification", "0123abc"),
                            ("AutoTokenizer", "0123abc")]


def test_wrong_family_is_refused(tiny_llama_dir, tiny_bert_dir):
    with pytest.raises(ModelError, match="use family: decoder"):
        build_model({"family": "bert", "pretrained": str(tiny_llama_dir)}, 3, seed=0)
    with pytest.raises(ModelError, match="use family: bert"):
        build_model({"family": "decoder", "pretrained": str(tiny_bert_dir)}, 3, seed=0)


# --------------------------------------------------------------------------------------
# Pooling and padding
# --------------------------------------------------------------------------------------


def test_batched_predictions_equal_one_by_one_and_pool_the_last_real_token(spec, tweets):
    model = build_model(spec, 3, seed=1).eval()
    data = encode_frame(spec, tweets.splits["test"].head(24))
    lengths = [len(ids) for ids in data.input_ids]
    assert min(lengths) < max(lengths)  # batches really are padded
    batched = predict_logits(model, data, 8, CPU)
    alone = predict_logits(model, data, 1, CPU)
    assert torch.allclose(batched, alone, atol=1e-5)
    assert torch.equal(batched.argmax(1), alone.argmax(1))

    # The score head on the hidden state of each text's last real token, by hand.
    hf = model.encoder
    batch = data.batch(torch.arange(len(data)))
    with torch.no_grad():
        body = getattr(hf, hf.base_model_prefix)
        hidden = body(input_ids=batch["input_ids"],
                      attention_mask=batch["attention_mask"]).last_hidden_state
        last = torch.tensor(lengths) - 1
        by_hand = hf.score(hidden[torch.arange(len(data)), last])
        logits = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    assert torch.allclose(logits, by_hand, atol=1e-5)
    assert torch.allclose(logits, batched, atol=1e-5)


def test_pad_fallback_adds_a_token_when_there_is_no_eos(tmp_path, tweets):
    folder = make_tiny_decoder(tmp_path / "no-eos", "llama", eos=False)
    spec = spec_for(folder)
    tokenizer = load_tokenizer(spec)
    assert tokenizer.eos_token is None and tokenizer.pad_token == DECODER_PAD
    model = build_model(spec, 3, seed=0).eval()
    rows = model.encoder.get_input_embeddings().num_embeddings
    assert rows == len(tokenizer) and tokenizer.pad_token_id == rows - 1
    assert model.encoder.config.pad_token_id == tokenizer.pad_token_id
    again = trainable_state(build_model(spec, 3, seed=0))  # resizing is reproducible
    assert all(torch.equal(v, again[k]) for k, v in trainable_state(model).items())
    data = encode_frame(spec, tweets.splits["test"].head(12))
    assert torch.allclose(predict_logits(model, data, 6, CPU),
                          predict_logits(model, data, 1, CPU), atol=1e-5)


def test_an_existing_pad_token_is_kept(tiny_llama_dir):
    tokenizer = load_tokenizer(spec_for(tiny_llama_dir))
    tokenizer.pad_token = tokenizer.bos_token
    assert ensure_pad_token(tokenizer).pad_token == tokenizer.bos_token


# --------------------------------------------------------------------------------------
# Training, pruning, GraNd
# --------------------------------------------------------------------------------------


def test_initialisation_is_reproducible_and_training_moves_body_and_head(spec, tweets):
    a, b, c = (trainable_state(build_model(spec, 3, seed)) for seed in (0, 0, 1))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a[HEAD], c[HEAD])
    body = [k for k in a if k != HEAD]
    assert all(torch.equal(a[k], c[k]) for k in body)  # the pretrained body is shared

    data = encode_frame(spec, tweets.splits["train"])
    run = train_dense(spec, data, 3, 0, CPU)
    assert run.state.epochs_done == 1 and run.early_state
    losses = [row["train_loss"] for row in run.state.history]
    assert losses and all(torch.isfinite(torch.tensor(losses)))
    trained = trainable_state(run.model)
    assert not torch.equal(trained[HEAD], a[HEAD])
    assert any(not torch.equal(trained[k], a[k]) for k in body)


@pytest.mark.parametrize("method", ["mp-ai", "imp", "mag-pt", "wanda", "sparsegpt-2of4"])
def test_pruning_keeps_exact_zeros_and_leaves_head_and_embeddings(spec, style, method,
                                                                   tweets):
    method_spec = BUILTIN_METHODS[method]
    target = 0.5
    data = encode_frame(spec, tweets.splits["train"].head(48))
    dense = None
    if method_spec.starts_from_dense:
        run = train_dense(spec, data, 3, 0, CPU)
        dense = (run.model, run.state)
        before = {n: p.detach().clone() for n, p in run.model.named_parameters()}
    pruned = run_pruning(spec, method_spec, target, data, 3, 0, CPU, dense=dense)
    params = prunable_parameters(pruned.model)
    assert set(pruned.masks) == set(params)
    assert achieved_sparsity(params.values()) == pytest.approx(target, abs=0.001)
    for name, mask in pruned.masks.items():
        assert (params[name][~mask] == 0).all()
        if method_spec.pattern == "2:4":  # 2 of every 4 consecutive inputs kept
            assert (mask.reshape(mask.shape[0], -1, 4).sum(-1) == 2).all()
    untouched = EMBEDDINGS[style] | {HEAD}
    assert not untouched & set(pruned.masks)
    state = dict(pruned.model.named_parameters())
    for name in untouched:
        assert (state[name] != 0).all(), name  # no weight of theirs was zeroed
        if method_spec.schedule == "post_training":  # no retraining: bit-for-bit
            assert torch.equal(state[name], before[name]), name


def test_grand_is_finite_and_equals_one_backward_per_example(spec, style, tweets, caplog):
    model = build_model(spec, 3, seed=0)
    data = encode_frame(spec, tweets.splits["test"].head(10))
    scores = grand_scores(model, data, CPU, batch_size=4)
    assert scores.shape == (10,)
    assert torch.isfinite(scores).all() and (scores > 0).all()

    names = set(norm_parameters(model))
    assert TOKEN_EMBEDDINGS[style] not in names and HEAD in names
    params = [p for n, p in model.named_parameters() if n in names]
    reference = []
    for batch in data.batches(1):  # each example alone: no padding at all
        logits = model(**model_inputs(batch, CPU))
        loss = loss_per_example(logits, batch["labels"], data.kind).sum()
        grads = torch.autograd.grad(loss, params)
        reference.append(torch.sqrt(sum(g.pow(2).sum() for g in grads)))
    assert torch.allclose(scores, torch.stack(reference).detach(), rtol=1e-4, atol=1e-6)
    assert "vmap failed" not in caplog.text  # decoders never try vmap


# --------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------


def decoder_config(**model) -> dict:
    config = base_config()
    config["models"]["qwen"] = {"family": "decoder", "pretrained": "Qwen/Qwen2.5-0.5B",
                                "revision": "main", "epochs": 1, "lr": 2.0e-5,
                                "batch_size": 8, **model}
    return config


def refusal(config) -> str:
    with pytest.raises(ConfigError) as caught:
        check_config(config)
    return str(caught.value)


def test_a_decoder_config_is_accepted(tmp_path, monkeypatch, tiny_gpt2_dir):
    monkeypatch.chdir(tmp_path)
    config = decoder_config(trust_remote_code=False)
    config["models"]["local"] = {"family": "decoder", "pretrained": str(tiny_gpt2_dir),
                                 "epochs": 1, "lr": 1e-4, "batch_size": 8}
    config["methods"] = ["imp", "mag-pt", "wanda", "sparsegpt-2of4"]
    config["models"]["bilstm"]["methods"] = ["imp", "mag-pt"]
    before = copy.deepcopy(config)
    check_config(config)
    assert config == before


@pytest.mark.parametrize(("change", "message"), [
    ({"pretrained": None}, "models.qwen: missing key 'pretrained' (needed with family: "
                           "decoder)"),
    ({"pretrained": "embedded"}, "models.qwen.pretrained: 'embedded' is the MiniLM encoder"),
    ({"pretrained": "./no/such/model"}, "models.qwen.pretrained: no folder ./no/such/model"),
    ({"hidden_size": 16}, "models.qwen.hidden_size: applies only to family: bilstm"),
    ({"revision": ""}, "models.qwen.revision"),
])
def test_bad_decoder_configs_are_refused(change, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = decoder_config()
    for key, value in change.items():
        if value is None:
            del config["models"]["qwen"][key]
        else:
            config["models"]["qwen"][key] = value
    assert message in refusal(config)


def test_revision_only_pins_hub_models(tmp_path, monkeypatch, tiny_llama_dir):
    monkeypatch.chdir(tmp_path)
    config = decoder_config(pretrained=str(tiny_llama_dir))
    assert "models.qwen.revision: pins a hub id, but pretrained" in refusal(config)
    config = base_config()
    config["models"]["bilstm"]["revision"] = "main"
    assert ("models.bilstm.revision: applies only to family: bert / decoder"
            in refusal(config))
    config = base_config()
    config["models"]["minilm"]["revision"] = "main"
    assert "models.minilm.revision: pins a hub id" in refusal(config)


# --------------------------------------------------------------------------------------
# A new revision in the workflow
# --------------------------------------------------------------------------------------

HUB_ID = "pieflow-test/tiny-gpt2"
FIRST, SECOND = "1" * 40, "2" * 40  # two commits of HUB_ID


def make_hub_cache(cache: Path, folder: Path) -> Path:
    """A Hugging Face hub cache holding ``HUB_ID`` at two commits, laid out as
    ``from_pretrained(HUB_ID, revision=...)`` reads it offline: FIRST is ``folder`` (also
    ``main``), SECOND the same model with every weight moved by seeded noise."""
    from transformers import AutoModelForCausalLM

    repo = cache / f"models--{HUB_ID.replace('/', '--')}"
    for commit in (FIRST, SECOND):
        shutil.copytree(folder, repo / "snapshots" / commit)
    model = AutoModelForCausalLM.from_pretrained(folder)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.5 * torch.randn(param.shape, generator=generator))
    model.save_pretrained(repo / "snapshots" / SECOND)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(FIRST)
    return cache


def revision_config(revision: str) -> dict:
    """The hub decoder pinned at ``revision`` beside a BiLSTM, two seeds, one
    post-training method, a few dozen tweets."""
    return {
        "datasets": {"tweets": {"source": "embedded-tweets", "max_length": 32,
                                "max_examples": {"train": 24, "validation": 8, "test": 16}}},
        "models": {
            "tinygpt2": {"family": "decoder", "pretrained": HUB_ID, "revision": revision,
                         "epochs": 1, "lr": 1e-3, "batch_size": 8, "grand": False},
            "bilstm": {"family": "bilstm", "vectors": "embedded", "hidden_size": 8,
                       "epochs": 1, "lr": 2e-3, "batch_size": 8},
        },
        "methods": ["mag-pt"],
        "sparsities": [50],
        "seeds": 2,
        "splits": ["test"],
    }


def model_targets(model: str) -> list[str]:
    """Every per-model output (the summaries over all models are left out, for time):
    dense and pruned predictions, the pruned cell's PIEs, influence, token counts."""
    folder = f"results/tweets/{model}"
    return [f"{folder}/dense/0/predictions.parquet", f"{folder}/mag-pt/50/predictions.parquet",
            f"{folder}/mag-pt/50/pies.parquet", f"{folder}/influence.parquet",
            f"{folder}/token_counts.parquet"]


def test_a_new_revision_is_a_training_and_inference_parameter():
    """What the slow test below relies on, checked without running the workflow."""
    config = decoder_config(revision="0123abc")
    dataset = next(iter(config["datasets"]))
    assert pieflow_config.training_params(config, dataset, "qwen")["revision"] == "0123abc"
    assert pieflow_config.inference_params(config, dataset, "qwen")["revision"] == "0123abc"


@pytest.mark.slow
def test_a_new_revision_retrains_and_repredicts(tmp_path, monkeypatch, tiny_gpt2_dir):
    """The workflow with a hub decoder pinned at one commit, then the config pins
    another: the decoder's training, pruning, prediction, PIE, influence and token jobs
    are scheduled again and no BiLSTM job; rerunning the decoder's predictions rewrites
    them from the new commit's weights and leaves the BiLSTM's files alone."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the snakemake jobs inherit both
    monkeypatch.setenv("HF_HUB_CACHE", str(make_hub_cache(tmp_path / "hub", tiny_gpt2_dir)))
    workdir = tmp_path / "workflow"
    workdir.mkdir()
    decoder = model_targets("tinygpt2")
    targets = decoder + model_targets("bilstm")
    write_config(workdir, revision_config(FIRST))
    result = snakemake(workdir, *targets)
    assert result.returncode == 0, failure_report(workdir, result)
    assert planned_jobs(workdir, *targets) == {}

    predicted = [t for t in decoder if t.endswith("predictions.parquet")]
    before = {t: ((workdir / t).stat().st_mtime_ns, pl.read_parquet(workdir / t))
              for t in predicted}
    bilstm = {p: p.stat().st_mtime_ns
              for p in (workdir / "results" / "tweets" / "bilstm").rglob("*") if p.is_file()}
    assert len(bilstm) > 10

    write_config(workdir, revision_config(SECOND))
    jobs = planned_jobs(workdir, *targets)
    assert sorted(job["seed"] for job in jobs.get("train_dense", [])) == ["0", "1"], jobs
    assert {rule: len(found) for rule, found in jobs.items()} == {
        "train_dense": 2, "prune_model": 2, "predict_cell": 2, "diff_cell": 1,
        "score_influence": 1, "count_tokens": 1}
    for rule, found in jobs.items():
        assert all(job["model"] == "tinygpt2" for job in found), rule

    result = snakemake(workdir, *predicted)  # the predictions, for time
    assert result.returncode == 0, failure_report(workdir, result)
    assert planned_jobs(workdir, *predicted) == {}
    keys = ["seed", "split", "example_id", "label"]
    for target, (mtime, frame) in before.items():
        assert (workdir / target).stat().st_mtime_ns > mtime, target  # rewritten
        after = pl.read_parquet(workdir / target)
        assert after.select(keys).equals(frame.select(keys)), target
        # the new commit's weights, not the old ones again: other logits and losses
        assert (after["loss"] - frame["loss"]).abs().max() > 1e-3, target
    assert {p: p.stat().st_mtime_ns for p in bilstm} == bilstm  # no BiLSTM file rewritten
