"""Rebuild a trained model from its checkpoint, and tokenise a prepared split for it:
the two steps every stage after training starts with."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import polars as pl
import torch
from torch import nn

from pieflow import io, precision
from pieflow.labels import LabelKind
from pieflow.models.classifiers import build_model, load_tokenizer, load_trainable_state
from pieflow.models.encoding import Encoded, encode


def set_threads(threads: int) -> None:
    """Use the threads Snakemake gave the job (one per job by default: jobs run side by side)."""
    torch.set_num_threads(max(1, int(threads)))


def set_precision(requested: str | None) -> str:
    """Use the precision the job's profile asks for (the Snakemake resource ``precision``:
    auto, bf16 or fp32; unset: ``$PIEFLOW_PRECISION``, else auto) for every forward pass
    of this process; returns what it means on this job's device."""
    setting = precision.use(requested)
    device = pick_device()
    resolved = precision.resolve(device)
    logging.getLogger(__name__).info(
        "precision %s: %s on %s%s", setting, resolved, device,
        " (for models that gain from it; the BiLSTM runs fp32)"
        if setting == "auto" and resolved == "bf16" else "")
    return resolved


def finish_job() -> None:
    """End a job's process once its outputs are written, skipping the interpreter's
    teardown of torch's modules (about 0.45 s of CPU per job, paid by every training,
    pruning and prediction job); logs and standard streams are flushed first. Called
    last by the job scripts, never on an error path (a failing job exits as usual)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def pick_device() -> torch.device:
    """CUDA when the job was given a GPU, else CPU: no edit needed between laptop and cluster."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def load_model(spec: dict[str, Any], num_classes: int, seed: int, path: str,
               device: torch.device) -> nn.Module:
    model = build_model(spec, num_classes, seed)
    load_trainable_state(model, io.load_tensors(path))
    return model.to(device)


def encode_split(spec: dict[str, Any], tokenizer, path: str, kind: LabelKind,
                 num_classes: int) -> Encoded:
    """A prepared split tokenised for the model, in training and prediction alike."""
    return encode(tokenizer, pl.read_parquet(path), spec["max_length"], kind, num_classes,
                  special_tokens=adds_special_tokens(spec))


def adds_special_tokens(spec: dict[str, Any]) -> bool:
    """The tokenizer's own special tokens for Hugging Face models — [CLS]/[SEP] for an
    encoder, whatever a decoder's tokenizer adds by default (Llama: BOS; GPT-2, Qwen2:
    none) — and none for the BiLSTM."""
    return spec["family"] != "bilstm"


def encode_for(spec: dict[str, Any], path: str, kind: LabelKind, num_classes: int) -> Encoded:
    return encode_split(spec, load_tokenizer(spec), path, kind, num_classes)
