"""Multiple-choice scoring for lm-evaluation-harness that runs each context once.

``PieflowHFLM`` is lm-evaluation-harness's own Hugging Face model (``HFLM``) with one
method replaced: ``_loglikelihood_tokens``, which receives the ``loglikelihood`` requests
already tokenized by HFLM (``_encode_pair``: trailing spaces of the context moved to the
continuation, an empty context replaced by the prefix token). Everything else stays
lm_eval's and HFLM's: tasks, prompts, few-shot draws, filters, metrics, samples,
``generate_until``, ``loglikelihood_rolling``, tokenization.

HFLM runs one forward pass per request over ``(context + continuation)[:-1]``, so the k
choices of a document cost k passes over its context (few-shot demonstrations included).
Here the requests are grouped by their context tokens, and for a batch of distinct
contexts (longest first, right-padded):

1. one forward over every context but its last token (``context[:-1]``) fills the KV
   cache (the LM head is skipped where the model takes ``logits_to_keep``);
2. the cache rows are repeated for each continuation of their context, and one forward
   over ``[context[-1]] + continuation[:-1]`` (right-padded) scores every continuation
   from it, with position ids continuing after each row's own context and an attention
   mask hiding the padding of shorter contexts. Continuations whose input is a prefix of
   another's share a row (SmolLM2 writes " 25" and " 26" as " ", "2", then a digit: both
   run ``[context[-1], " ", "2"]``), as HFLM shares a pass when context +
   continuation[:-1] are equal.

The logits of step 2, row ``r``, position ``t`` predict ``continuation[t]``: exactly the
positions HFLM keeps (the last ``len(continuation)`` positions of
``(context + continuation)[:-1]``). They go through the same ``log_softmax``
(``softmax_dtype``) and the answer is the same ``(sum of log-probabilities, is_greedy)``,
returned in the order of the requests and given to ``cache_hook`` like HFLM does. A
context of L_c tokens with k continuations of L_k tokens costs about L_c + k·L_k
token-passes instead of k·(L_c + L_k).

Requests HFLM would truncate (context + continuation longer than ``max_length + 1``, or
than a sliding attention window), non-causal (seq2seq) models and models whose forward
takes no cache or position ids go through HFLM's own code unchanged.

The model is registered with lm-evaluation-harness as ``pieflow-hf``: importing this
module makes ``simple_evaluate(model="pieflow-hf", model_args=...)`` work, and
``python -m pieflow.predict.lm_eval_runs run --model pieflow-hf ...`` is lm_eval's own
command line with the model registered. Like every pieflow library module it reads and
writes no files itself: it takes a model object (or whatever ``HFLM`` takes).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM
from tqdm import tqdm

MODEL_NAME = "pieflow-hf"
# Contexts per batch when lm_eval asks for batch_size "auto" (HFLM's detection runs
# forward passes of max_length; a fixed number of contexts is cheaper and predictable).
AUTO_CONTEXTS_PER_BATCH = 32

Request = tuple[tuple[str, str] | None, list[int], list[int]]


@register_model(MODEL_NAME)
class PieflowHFLM(HFLM):
    """HFLM whose ``loglikelihood`` runs each distinct context once (see the module).

    Takes every argument HFLM takes. ``batch_size`` counts distinct contexts (documents)
    per forward pass, not requests; each batch also stays within ``max_length`` tokens
    (longest padded context + longest continuation)."""

    def _loglikelihood_tokens(
        self,
        requests: list[Request],
        disable_tqdm: bool = False,
        override_bs: int | None = None,
    ) -> list[tuple[float, bool]]:
        if self.backend != "causal" or not _takes_cache_and_positions(self.model):
            return super()._loglikelihood_tokens(requests, disable_tqdm, override_bs)
        answers: list[tuple[float, bool] | None] = [None] * len(requests)

        # HFLM's left truncation, and requests longer than a sliding attention window
        # (padding would shift the window): leave those requests to HFLM itself.
        limit = self._window()
        too_long = [i for i, (_, ctx, cont) in enumerate(requests)
                    if len(ctx) + len(cont) > limit + 1]
        if too_long:
            for i, answer in zip(too_long, super()._loglikelihood_tokens(
                    [requests[i] for i in too_long], disable_tqdm, override_bs), strict=True):
                answers[i] = answer
        skip = set(too_long)

        groups: dict[tuple[int, ...], list[int]] = {}
        for i, (_, ctx, cont) in enumerate(requests):
            if i in skip:
                continue
            assert len(ctx) > 0, "an empty context reaches the scorer (lm_eval replaces it)"
            assert len(cont) > 0, "an empty continuation cannot be scored"
            groups.setdefault(tuple(ctx), []).append(i)

        per_batch = self._contexts_per_batch(override_bs)
        progress = tqdm(total=len(requests) - len(too_long),
                        disable=disable_tqdm or self.rank != 0,
                        desc="Running loglikelihood requests (pieflow-hf)")
        for batch in context_batches(groups, requests, per_batch, limit):
            contexts = [list(ctx) for ctx in batch]
            continuations = [[requests[i][2] for i in groups[ctx]] for ctx in batch]
            scored = self._score_batch(contexts, continuations)
            for ctx, answers_of_ctx in zip(batch, scored, strict=True):
                for i, answer in zip(groups[ctx], answers_of_ctx, strict=True):
                    answers[i] = answer
                    if requests[i][0] is not None:
                        # loglikelihood_rolling's requests carry no key (HFLM skips them too)
                        self.cache_hook.add_partial("loglikelihood", requests[i][0], answer)
                    progress.update(1)
        progress.close()
        assert all(a is not None for a in answers)
        return answers  # type: ignore[return-value]

    def _window(self) -> int:
        """Tokens one batch may span: max_length, or a sliding attention window if shorter
        (the cache pass keeps every position within it, so no window cuts anything)."""
        window = getattr(getattr(self.model, "config", None), "sliding_window", None)
        if isinstance(window, int) and window > 0:
            return min(self.max_length, window)
        return self.max_length

    def _contexts_per_batch(self, override_bs: int | None) -> int:
        if override_bs:
            return int(override_bs)
        if self.batch_size == "auto":
            return AUTO_CONTEXTS_PER_BATCH
        return max(1, int(self.batch_size))

    @torch.no_grad()
    def _score_batch(
        self, contexts: list[list[int]], continuations: list[list[list[int]]]
    ) -> list[list[tuple[float, bool]]]:
        """(log-likelihood, is_greedy) of every continuation of every context."""
        device = self.device
        model = self.model
        prefixes = [ctx[:-1] for ctx in contexts]
        width = max(len(p) for p in prefixes)
        owner, rows, row_of = continuation_rows(contexts, continuations)
        length = max(len(r) for r in rows)

        with torch.autocast(device_type=device.type, dtype=self.mixed_precision_dtype,
                            enabled=self.mixed_precision_dtype is not None):
            cache = None
            if width:
                ids = _right_padded(prefixes, width, device)
                out = model(input_ids=ids, use_cache=True, **_head_skip(model))
                cache = _cache_of(out)
                _select_rows(cache, torch.tensor(owner, device=device))
            ids = _right_padded(rows, length, device)
            mask = torch.zeros(len(rows), width + length, dtype=torch.long, device=device)
            positions = torch.empty(len(rows), length, dtype=torch.long, device=device)
            for r, (c, row) in enumerate(zip(owner, rows, strict=True)):
                mask[r, :len(prefixes[c])] = 1
                mask[r, width:width + len(row)] = 1
                positions[r] = torch.arange(len(prefixes[c]), len(prefixes[c]) + length)
            kwargs: dict[str, Any] = {"attention_mask": mask, "position_ids": positions}
            if cache is not None:
                kwargs[_cache_argument(model)] = cache
            logits = model(input_ids=ids, **kwargs).logits
        logprobs = F.log_softmax(logits, dim=-1, dtype=self.softmax_dtype)

        answers: list[list[tuple[float, bool]]] = []
        for c, conts in enumerate(continuations):
            answers.append([])
            for k, cont in enumerate(conts):
                tokens = torch.tensor(cont, dtype=torch.long, device=logprobs.device)
                picked = logprobs[row_of[c][k], :len(cont)]
                greedy = bool((picked.argmax(dim=-1) == tokens).all())
                answers[c].append((float(picked.gather(1, tokens[:, None]).sum()), greedy))
        return answers


def continuation_rows(
    contexts: list[list[int]], continuations: list[list[list[int]]]
) -> tuple[list[int], list[list[int]], list[list[int]]]:
    """The second pass's rows: ``[context[-1]] + continuation[:-1]`` per continuation, a row
    shared by the continuations of one context whose input is a prefix of it (their logits
    are the row's first positions; HFLM shares a pass the same way when context +
    continuation[:-1] are equal). Returns each row's context, the rows, and per context the
    row of each continuation."""
    owner: list[int] = []
    rows: list[list[int]] = []
    row_of: list[list[int]] = []
    for c, (ctx, conts) in enumerate(zip(contexts, continuations, strict=True)):
        inputs = [[ctx[-1], *cont[:-1]] for cont in conts]
        mine: list[int] = []  # rows of this context, longest first
        chosen = [0] * len(conts)
        for k in sorted(range(len(conts)), key=lambda k: -len(inputs[k])):
            for r in mine:
                if rows[r][:len(inputs[k])] == inputs[k]:
                    chosen[k] = r
                    break
            else:
                chosen[k] = len(rows)
                mine.append(len(rows))
                rows.append(inputs[k])
                owner.append(c)
        row_of.append(chosen)
    return owner, rows, row_of


def context_batches(
    groups: dict[tuple[int, ...], list[int]], requests: Sequence[Request],
    per_batch: int, max_length: int,
) -> list[list[tuple[int, ...]]]:
    """Distinct contexts, longest first, in batches of at most ``per_batch`` whose padded
    width (longest context + longest continuation, minus one) fits ``max_length``."""
    ordered = sorted(groups, key=lambda ctx: (-len(ctx), ctx))
    batches: list[list[tuple[int, ...]]] = []
    current: list[tuple[int, ...]] = []
    width = cont_len = 0
    for ctx in ordered:
        longest = max(len(requests[i][2]) for i in groups[ctx])
        new_width, new_cont = max(width, len(ctx)), max(cont_len, longest)
        if current and (len(current) >= per_batch or new_width + new_cont - 1 > max_length):
            batches.append(current)
            current, new_width, new_cont = [], len(ctx), longest
        current.append(ctx)
        width, cont_len = new_width, new_cont
    if current:
        batches.append(current)
    return batches


def _right_padded(rows: list[list[int]], length: int, device: torch.device) -> torch.Tensor:
    # Padding sits after every real token and the model is causal: it changes nothing
    # before it, and the attention mask of the second pass hides it as a key.
    ids = torch.zeros(len(rows), length, dtype=torch.long)
    for r, row in enumerate(rows):
        ids[r, :len(row)] = torch.tensor(row, dtype=torch.long)
    return ids.to(device)


def _parameters(model: torch.nn.Module) -> frozenset[str]:
    """The keyword arguments the model's forward takes (read once per model class: the
    scorer asks on every batch)."""
    return _forward_parameters(type(model))


@functools.cache
def _forward_parameters(cls: type) -> frozenset[str]:
    return frozenset(inspect.signature(cls.forward).parameters)


def _takes_cache_and_positions(model: torch.nn.Module) -> bool:
    """Whether the model's forward takes what the cache pass needs (else HFLM's path)."""
    wanted = _parameters(model)
    return {"attention_mask", "position_ids"} <= wanted and bool(
        {"cache", "past_key_values"} & wanted)


def _head_skip(model: torch.nn.Module) -> dict[str, int]:
    """Only the cache is needed from the first pass: skip the LM head where possible."""
    return {"logits_to_keep": 1} if "logits_to_keep" in _parameters(model) else {}


def _cache_argument(model: torch.nn.Module) -> str:
    """transformers 5.25+ names the KV cache ``cache``; earlier, ``past_key_values``."""
    return "cache" if "cache" in _parameters(model) else "past_key_values"


def _cache_of(output: Any) -> Any:
    cache = getattr(output, "cache", None)
    if cache is None:
        cache = getattr(output, "past_key_values", None)
    if cache is None:
        raise RuntimeError("the model returned no KV cache (use_cache=True)")
    return cache


def _select_rows(cache: Any, index: torch.Tensor) -> None:
    """Repeat/reorder the cache's batch rows in place: row r becomes row index[r]."""
    if not hasattr(cache, "reorder_cache"):
        raise TypeError(f"unsupported KV cache type {type(cache).__name__} "
                        "(expected a transformers Cache)")
    cache.reorder_cache(index)
