"""GraNd (Paul et al. 2021): the norm of each example's loss gradient.

Per-sample gradients come from ``torch.func`` (``vmap`` over ``grad``) where the model
allows it: a Hugging Face BERT does when it receives a prebuilt 4-D additive attention
mask (a 2-D mask sends it through data-dependent branches ``vmap`` cannot trace).
``nn.LSTM`` has no batching rule (``vmap`` falls back to a path slower than a loop), so
the BiLSTM uses a plain loop of one backward pass per example, each example cut to its
own length. So do decoders: ``vmap`` gives the same numbers on Llama and GPT-2 when
handed a prebuilt 4-D causal mask, but SDPA attention has no batching rule (``vmap``
loops inside it anyway), and a prebuilt mask would silently replace each architecture's
own (sliding windows, chunked attention). Word (token) embeddings are left out of the
norm (frozen for the BiLSTM; for the others they dominate the cost).
"""

from __future__ import annotations

import contextlib
import logging

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from pieflow.labels import LabelKind
from pieflow.models.encoding import Encoded
from pieflow.models.forward import loss_per_example, model_inputs

log = logging.getLogger(__name__)


def _in_norm(name: str, param: nn.Parameter) -> bool:
    return param.requires_grad and "word_embeddings" not in name and "embedding." not in name


def norm_parameters(model: nn.Module) -> dict[str, nn.Parameter]:
    """The parameters whose gradient enters the norm: the trainable ones except the word
    (token) embeddings — a Hugging Face model's input embeddings whatever their name
    (``word_embeddings``, ``embed_tokens``, ``wte``)."""
    hf_model = getattr(model, "encoder", None)
    skip: set[int] = set()
    # the BiLSTM has no Hugging Face model; remote code may lack the accessor
    with contextlib.suppress(AttributeError, NotImplementedError):
        skip = {id(p) for p in hf_model.get_input_embeddings().parameters()}
    return {n: p for n, p in model.named_parameters() if _in_norm(n, p) and id(p) not in skip}


def _vmap_norms(model: nn.Module, batch: dict, kind: LabelKind,
                device: torch.device) -> torch.Tensor:
    inputs = model_inputs(batch, device)
    labels = batch["labels"].to(device)
    params = {n: p.detach() for n, p in norm_parameters(model).items()}
    fixed = {n: p.detach() for n, p in model.named_parameters() if n not in params}
    fixed.update(dict(model.named_buffers()))
    keep = inputs["attention_mask"][:, None, None, :].to(torch.float32)
    additive = (1.0 - keep) * torch.finfo(torch.float32).min

    def loss_one(p, ids, mask, types, label):
        logits = functional_call(model, {**p, **fixed}, (ids[None], mask[None], types[None]))
        return loss_per_example(logits, label[None], kind).sum()

    grads = vmap(grad(loss_one), in_dims=(None, 0, 0, 0, 0))(
        params, inputs["input_ids"], additive, inputs["token_type_ids"], labels)
    return torch.sqrt(sum(g.pow(2).flatten(1).sum(1) for g in grads.values()))


def _loop_norms(model: nn.Module, batch: dict, kind: LabelKind,
                device: torch.device) -> torch.Tensor:
    inputs = model_inputs(batch, device)
    labels = batch["labels"].to(device)
    params = list(norm_parameters(model).values())
    lengths = inputs["attention_mask"].sum(dim=1).clamp(min=1).tolist()
    norms = []
    for i in range(len(labels)):
        one = {k: v[i : i + 1, : lengths[i]] for k, v in inputs.items()}  # no padding
        loss = loss_per_example(model(**one), labels[i : i + 1], kind).sum()
        grads = torch.autograd.grad(loss, params, allow_unused=True)
        norms.append(torch.sqrt(sum(g.pow(2).sum() for g in grads if g is not None)))
    return torch.stack(norms)


def grand_scores(
    model: nn.Module, data: Encoded, device: torch.device, batch_size: int = 8
) -> torch.Tensor:
    """‖∂L/∂θ‖₂ per example, in the order of ``data`` (dropout off)."""
    model.eval()
    use_vmap = getattr(model, "per_sample_vmap", False)  # encoders only
    out = []
    for batch in data.batches(batch_size):
        if use_vmap:
            try:
                out.append(_vmap_norms(model, batch, data.kind, device).detach().cpu())
                continue
            except RuntimeError as err:  # an encoder vmap cannot trace: loop instead
                log.warning("per-sample gradients via vmap failed (%s); using a loop", err)
                use_vmap = False
        out.append(_loop_norms(model, batch, data.kind, device).detach().cpu())
    return torch.cat(out) if out else torch.empty(0)
