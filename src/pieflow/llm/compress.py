"""Compress a pretrained causal LM once (prune, quantize, or both) with pieflow's own
post-training code, and export the result as a plain Hugging Face folder.

Nothing here prunes or quantizes: the decoder is wrapped so that
``prune.calibration.calibrate`` and ``prune.posttraining`` (Wanda, SparseGPT, magnitude,
N:M, RTN, GPTQ) run on it as they do on the classifiers, and the chosen weights are the
decoder layers' projections. Weights change in place; pruned weights are exactly zero.
"""

from __future__ import annotations

import json
import time
from typing import Any

import torch
from torch import nn

from pieflow.labels import LabelKind
from pieflow.llm.loading import LLMError, atomic_folder
from pieflow.masks import full_masks
from pieflow.models.encoding import Encoded
from pieflow.prune.methods import MethodSpec
from pieflow.prune.posttraining import calibrate_for, prune_trained, quantize_weights
from pieflow.seeding import generator

CALIBRATION_PURPOSE = "llm-calibration"
CALIBRATION_BATCH = 8  # sequences per forward: logits are batch × length × vocabulary
STORAGE_NOTE = "quantized weights are stored dequantized (float); the zeros are exact"


class CausalLMForCalibration(nn.Module):
    """A causal LM called like pieflow's classifiers (``input_ids``, ``attention_mask``,
    ``token_type_ids``), so ``calibrate`` and ``prune_trained`` run on it unchanged.
    Its parameters are the LM's, named ``lm.<name>``."""

    def __init__(self, lm: nn.Module) -> None:
        super().__init__()
        self.lm = lm

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        # token_type_ids: a decoder has none; Encoded batches always carry them.
        return self.lm(input_ids=input_ids, attention_mask=attention_mask,
                       use_cache=False).logits


def _layer_linears(wrapper: nn.Module) -> dict[str, nn.Module]:
    """Every module inside an ``nn.ModuleList`` (the decoder's layers: ``model.layers``,
    ``transformer.h``, …), by wrapper name, outermost lists first."""
    inside: dict[str, nn.Module] = {}
    for name, module in wrapper.named_modules():
        if isinstance(module, nn.ModuleList) and name not in inside:
            for sub, child in module.named_modules():
                if sub:
                    inside[f"{name}.{sub}"] = child
    return inside


def projection_weights(wrapper: CausalLMForCalibration,
                       include_head: bool = False) -> dict[str, nn.Parameter]:
    """The weights to compress: the ``.weight`` of every ``nn.Linear`` inside the decoder
    layers (attention q/k/v/o and MLP gate/up/down projections), keyed by wrapper name
    (``lm.model.layers.0.self_attn.q_proj.weight``); the LM head too with
    ``include_head``. Embeddings never: they are lookups, not matrix products.

    Refused in one line: GPT-2-style models, whose projections are ``Conv1D`` (weights
    stored transposed, which the calibration hooks and per-row scores would misread); a
    head tied to the input embeddings (compressing it would change the embeddings); a
    model with no Linear in its layers.
    """
    modules = _layer_linears(wrapper)
    conv = [name for name, m in modules.items() if type(m).__name__ == "Conv1D"]
    if conv:
        raise LLMError(f"{type(wrapper.lm).__name__} projects with Conv1D ({conv[0]}), "
                       "not nn.Linear: GPT-2-style models cannot be compressed here")
    params = {f"{name}.weight": m.weight for name, m in modules.items()
              if isinstance(m, nn.Linear)}
    if not params:
        raise LLMError(f"{type(wrapper.lm).__name__}: no nn.Linear inside its decoder "
                       "layers to compress")
    if include_head:
        head = wrapper.lm.get_output_embeddings()
        embeddings = wrapper.lm.get_input_embeddings()
        if not isinstance(head, nn.Linear):
            raise LLMError(f"{type(wrapper.lm).__name__}: its LM head is not an nn.Linear")
        if embeddings is not None and head.weight.data_ptr() == embeddings.weight.data_ptr():
            raise LLMError("include_head: the LM head is tied to the input embeddings; "
                           "compressing it would change the embeddings too")
        name = next(n for n, m in wrapper.named_modules() if m is head)
        params[f"{name}.weight"] = head.weight
    return params


def calibration_data(tokenizer: Any, texts: list[str], sequences: int, length: int,
                     seed: int) -> Encoded:
    """Up to ``sequences`` windows of ``length`` tokens from the texts, shuffled by
    ``seed`` then joined with blank lines (the Wanda/SparseGPT recipe: contiguous
    windows of running text, no special tokens). A short text gives fewer windows, the
    last one shorter. Each seed is one calibration draw: same seed, same windows."""
    if sequences < 1 or length < 1:
        raise LLMError(f"calibration: sequences ({sequences}) and length ({length}) must "
                       "be at least 1")
    order = torch.randperm(len(texts), generator=generator(seed, CALIBRATION_PURPOSE))
    joined = "\n\n".join(texts[i] for i in order.tolist())
    ids = tokenizer(joined, add_special_tokens=False)["input_ids"] if joined else []
    windows = [torch.tensor(ids[start:start + length], dtype=torch.long)
               for start in range(0, min(len(ids), sequences * length), length)]
    if not windows:
        raise LLMError("calibration: the calibration texts give no token")
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        pad_id = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    return Encoded(
        input_ids=windows,
        token_type_ids=[torch.zeros_like(w) for w in windows],
        labels=torch.zeros(len(windows), dtype=torch.long),
        example_ids=torch.arange(len(windows)),
        pad_id=int(pad_id),
        kind=LabelKind.SINGLE,
    )


def _check_method(method: MethodSpec) -> None:
    """A pretrained LLM is compressed once and used as it is: no training schedule, no
    recovery fine-tuning, no score that reads a classification loss."""
    if method.schedule != "post_training":
        raise LLMError(f"schedule {method.schedule!r}: a pretrained LLM is never trained "
                       "here; use a post_training method")
    if method.recover_epochs:
        raise LLMError("recover_epochs: a pretrained LLM is used as it is, without "
                       "fine-tuning after compression")
    if method.score == "impact":  # |w·∂L/∂w| of a classifier's loss over labelled examples
        raise LLMError("score 'impact' needs a classification loss over labelled examples; "
                       "use magnitude, wanda or sparsegpt for a causal LM")


def compress_causal_lm(model: nn.Module, method: MethodSpec, sparsity_percent: int, seed: int,
                       calibration: Encoded | None, device: torch.device,
                       include_head: bool = False) -> dict[str, Any]:
    """Compress ``model``'s projection weights in place with ``method`` at
    ``sparsity_percent``; returns what was done and measured (plain JSON values).

    ``seed`` picks the calibration draw among ``calibration``'s sequences (up to
    ``method.calibration_examples``), which calibrated methods (Wanda, SparseGPT, GPTQ)
    need and the others ignore.
    """
    _check_method(method)
    target = sparsity_percent / 100
    try:
        method.check_sparsity(target)
    except ValueError as err:
        raise LLMError(str(err)) from err
    started = time.perf_counter()
    wrapper = CausalLMForCalibration(model)
    params = projection_weights(wrapper, include_head)
    stats = None
    if method.needs_calibration:
        if calibration is None or len(calibration) == 0:
            scheme = method.quantize.scheme if method.quantize else None
            raise LLMError(f"score {method.score!r} (quantize scheme {scheme!r}) reads "
                           "calibration activations: give calibration texts")
        stats = calibrate_for(wrapper, params, method, calibration, seed, device,
                              batch_size=CALIBRATION_BATCH)
    if method.score_entry is None:
        masks = full_masks(params)
    else:
        masks = prune_trained(wrapper, params, method, target, calibration, seed, device,
                              calibration=stats)
    if method.quantize is not None:
        quantize_weights(params, masks, method.quantize, stats)
    zeros = sum(int((p == 0).sum()) for p in params.values())
    numel = sum(p.numel() for p in params.values())
    quantize = method.quantize
    return {
        "achieved_sparsity": zeros / numel,
        "target_sparsity": target,
        "pattern": method.pattern,
        "bits": quantize.bits if quantize else None,
        "group_size": quantize.group_size if quantize else None,
        "scheme": quantize.scheme if quantize else None,
        "compressed_weights": len(params),
        "compressed_parameters": numel,
        "calibration_seed": stats.seed if stats is not None else None,
        "calibration_sequences": len(stats.example_ids) if stats is not None else None,
        "seconds": time.perf_counter() - started,
    }


def export_hf(model: nn.Module, tokenizer: Any, out_dir: str, record: dict) -> None:
    """The compressed model as a plain Hugging Face folder (safetensors, tokenizer) with
    ``pieflow_compression.json``, which any transformers or lm-eval user loads as is;
    written beside ``out_dir`` and renamed into place, never half-written."""
    with atomic_folder(out_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        note = {**record, "note": STORAGE_NOTE}
        (tmp / "pieflow_compression.json").write_text(json.dumps(note, indent=2) + "\n")
