"""Calibration: what each prunable Linear reads, on a few training examples.

Wanda needs the norm of every input feature, SparseGPT and GPTQ the layer Hessian
H = XᵀX / tokens; both come from the same statistics of X (all non-padding tokens).

Activations come from the model as it is when compression starts (the dense, trained
model) in **one** forward pass with hooks. The papers run block by block, feeding each
block the outputs of the already-compressed blocks before it, which needs a per-
architecture notion of "block" and a pass per block; for the encoders here (≤ 12 layers,
classifiers rather than generative LMs) one pass over any Hugging Face encoder or the
BiLSTM's MLP keeps the code architecture-free and costs one forward instead of L. Hooks
are fine here: this is not the training hot path, and they are removed afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import nn

from pieflow.models.encoding import Encoded
from pieflow.models.forward import model_inputs
from pieflow.seeding import derive_seed, generator

CALIBRATION_PURPOSE = "calibration"


@dataclass
class LayerInputs:
    """Statistics of one Linear's inputs over the calibration tokens."""

    sq_norms: torch.Tensor  # (in,): Σ_t x_tj², so ‖X_j‖₂ = sqrt(sq_norms)
    hessian: torch.Tensor | None  # (in, in): XᵀX / tokens, when asked for
    tokens: int = 0


@dataclass
class Calibration:
    """The calibration draw (recorded with the pruned model) and its statistics."""

    seed: int  # derive_seed(model seed, "calibration"): the draw's generator seed
    example_ids: list[int]
    inputs: dict[str, LayerInputs] = field(default_factory=dict)  # by weight name

    @property
    def has_hessians(self) -> bool:
        return all(layer.hessian is not None for layer in self.inputs.values())


def linear_modules(model: nn.Module, params: dict[str, torch.Tensor]) -> dict[str, nn.Linear]:
    """The Linear owning each prunable weight, by weight name; refuses any other weight.

    LSTM weight matrices (BiLSTM) and LayerNorm gains (``prunable: study``) read no single
    input matrix X, so activation-aware methods are undefined for them.
    """
    owners = {f"{name}.weight" if name else "weight": module
              for name, module in model.named_modules() if isinstance(module, nn.Linear)}
    others = sorted(name for name in params if name not in owners)
    if others:
        shown = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
        raise ValueError(
            "Wanda, SparseGPT and GPTQ read the inputs of Linear layers, but the prunable "
            f"set holds "
            f"{len(others)} other weights ({shown}): LSTM weights and LayerNorm gains have "
            "no Linear input. Use magnitude post-training (RTN quantization) for BiLSTM "
            "models, and prunable: default for encoders")
    return {name: owners[name] for name in params}


def draw_examples(data: Encoded, count: int, seed: int) -> tuple[torch.Tensor, int]:
    """Positions of ``count`` training examples (all if fewer), and the draw's seed."""
    draw_seed = derive_seed(seed, CALIBRATION_PURPOSE)
    order = torch.randperm(len(data), generator=generator(seed, CALIBRATION_PURPOSE))
    return order[: min(count, len(data))], draw_seed


@contextmanager
def _recording(modules: dict[str, nn.Linear], stats: dict[str, LayerInputs],
               token_mask: list[torch.Tensor]) -> Iterator[None]:
    """Forward pre-hooks accumulating each Linear's input statistics; always removed."""

    def hook_for(name: str):
        def hook(module: nn.Module, args: tuple) -> None:
            x = args[0].detach()
            mask = token_mask[0]
            if x.dim() == 3 and x.shape[:2] == mask.shape:
                x = x[mask]  # (tokens, in): padding never counts
            x = x.reshape(-1, x.shape[-1]).float()
            layer = stats[name]
            layer.sq_norms += x.square().sum(0)
            if layer.hessian is not None:
                layer.hessian.addmm_(x.T, x)
            layer.tokens += x.shape[0]
        return hook

    handles = [m.register_forward_pre_hook(hook_for(n)) for n, m in modules.items()]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@torch.no_grad()
def calibrate(model: nn.Module, params: dict[str, torch.Tensor], data: Encoded, count: int,
              seed: int, device: torch.device, hessians: bool,
              batch_size: int = 32) -> Calibration:
    """One pass of ``count`` training examples (drawn from the model seed) through the
    model in eval mode, keeping each prunable Linear's input norms (and Hessians)."""
    modules = linear_modules(model, params)
    positions, draw_seed = draw_examples(data, count, seed)
    stats = {
        name: LayerInputs(
            sq_norms=torch.zeros(m.in_features, device=device),
            hessian=torch.zeros(m.in_features, m.in_features, device=device)
            if hessians else None)
        for name, m in modules.items()
    }
    was_training = model.training
    model.eval()
    token_mask: list[torch.Tensor] = [torch.ones(0)]
    try:
        with _recording(modules, stats, token_mask):
            for batch in data.batches(batch_size, positions):
                token_mask[0] = batch["attention_mask"].to(device).bool()
                model(**model_inputs(batch, device))
    finally:
        model.train(was_training)
    for layer in stats.values():
        if layer.hessian is not None:
            layer.hessian /= max(layer.tokens, 1)
    ids = data.example_ids[positions].tolist()
    return Calibration(seed=draw_seed, example_ids=ids, inputs=stats)
