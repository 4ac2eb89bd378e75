"""lm-evaluation-harness ``--log_samples`` files: one JSON object per line and document.

What a line holds (``lm_eval.evaluator`` builds it, ``EvaluationTracker.
save_results_samples`` writes it): ``doc_id``, ``doc`` (the task's document), ``target``
(``doc_to_target``, written as text: ``"2"`` or the answer's text), ``arguments`` (one
request per choice: ``{"gen_args_0": {"arg_0": context, "arg_1": continuation}, …}``;
older versions wrote a list of ``[context, continuation]``), ``resps`` and
``filtered_resps`` (per request ``[log-likelihood, is_greedy]``, written as text by
current versions, ``["-12.5", "False"]``, as numbers by older ones), ``filter``,
``metrics`` and each metric's value (``acc``, ``acc_norm``, …).

Only multiple-choice tasks (``output_type: multiple_choice``: one log-likelihood per
choice) are classification: ``pred`` is the argmax of the choices' log-likelihoods
(lm-eval's ``acc``; ``score: loglikelihood_per_char`` divides each by its choice's length
in characters, lm-eval's ``acc_norm``) and ``label`` the target's index. The logits kept
are those scores, so ``pred`` is their argmax. Where the line carries the metric pieflow
reproduces, the two must agree.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

from pieflow.imports.files import PredictionsError
from pieflow.imports.spec import LM_EVAL_SCORES

# Keys of a document that usually hold its question, tried in this order.
TEXT_KEYS = ("query", "question", "ctx", "sentence", "premise", "goal", "text", "passage",
             "context")
REQUIRED = ("doc_id", "target", "arguments", "filtered_resps")
SUPPORTED = ("pieflow imports multiple-choice tasks only (output_type: multiple_choice — "
             "one log-likelihood per choice, e.g. hellaswag, arc_easy, piqa, mmlu)")


class SampleError(PredictionsError):
    """A line pieflow cannot read; the message starts with its place (file, line)."""


def read_samples(path: str, text: str, *, score: str,
                 text_field: str | None) -> Iterator[dict[str, Any]]:
    """One row per document of a samples file's ``text`` (decoded): ``_row`` (the line),
    ``example_id``, ``label``, ``pred``, ``logits``, ``text``, ``filter``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        at = f"{path}, line {number}"
        try:
            sample = json.loads(line)
        except json.JSONDecodeError as err:
            raise SampleError(f"{at}: not valid JSON ({err.msg}, column {err.colno}); each "
                              "line of a samples file is one JSON object") from None
        if not isinstance(sample, dict):
            raise SampleError(f"{at}: expected a JSON object, got {type(sample).__name__}")
        yield {"_row": number, **parse_sample(sample, at, score=score, text_field=text_field)}


def parse_sample(sample: Mapping[str, Any], at: str, *, score: str = "loglikelihood",
                 text_field: str | None = None) -> dict[str, Any]:
    missing = [key for key in REQUIRED if key not in sample]
    if missing:
        raise SampleError(f"{at}: no {missing[0]!r} field; a samples line of lm-evaluation-"
                          "harness has doc_id, doc, target, arguments, resps and "
                          "filtered_resps (run lm_eval with --log_samples)")
    doc_id = sample["doc_id"]
    if isinstance(doc_id, bool) or not isinstance(doc_id, int | str) or not str(
            doc_id).lstrip("-").isdigit():
        raise SampleError(f"{at}: doc_id {doc_id!r} is not a whole number")
    arguments = _arguments(sample["arguments"], at)
    responses = sample["filtered_resps"]
    if not isinstance(responses, list):
        raise SampleError(f"{at}: filtered_resps is {type(responses).__name__}, not a list")
    lls = [_loglikelihood(item) for item in responses]
    if len(lls) < 2 or any(ll is None for ll in lls):
        raise SampleError(f"{at}: this looks like {_task_kind(lls, arguments)}; {SUPPORTED}")
    if len(arguments) != len(lls):
        raise SampleError(f"{at}: {len(lls)} responses but {len(arguments)} requests")
    contexts, choices = [a[0] for a in arguments], [a[1] for a in arguments]
    half = len(choices) // 2
    if len(choices) % 2 == 0 and all(c == "" for c in contexts[half:]) and choices[
            :half] == choices[half:]:  # acc_mutual_info: unconditional twins follow
        contexts, choices, lls = contexts[:half], choices[:half], lls[:half]
    scores = ([ll / max(len(c.lstrip()), 1) for ll, c in zip(lls, choices, strict=True)]
              if score == "loglikelihood_per_char" else list(lls))
    pred = max(range(len(scores)), key=lambda i: (scores[i], -i))  # first max, as argmax
    label = _target_index(sample["target"], choices, contexts, at, pred,
                          sample.get(LM_EVAL_SCORES[score]))
    metric = LM_EVAL_SCORES[score]
    value = sample.get(metric)
    if isinstance(value, int | float) and not isinstance(value, bool) and float(
            value) != float(pred == label):
        raise SampleError(
            f"{at}: pieflow reads answer {label} and prediction {pred}, but the line's "
            f"{metric} is {value}: its target does not name the answer the way pieflow "
            "reads it (several right answers, or a task scored otherwise)")
    return {"example_id": int(doc_id), "label": label, "pred": pred,
            "logits": [float(s) for s in scores],
            "text": _text(sample.get("doc"), contexts[0], text_field, at),
            "filter": str(sample.get("filter", "none"))}


def _arguments(arguments: Any, at: str) -> list[list[str]]:
    """Each request's (context, continuation), from either way lm-eval wrote them."""
    if isinstance(arguments, dict):
        def order(key: str) -> int:
            tail = key.rsplit("_", 1)[-1]
            return int(tail) if tail.isdigit() else 0

        requests = [arguments[k] for k in sorted(arguments, key=order)]
        requests = [[r[k] for k in sorted(r, key=order)] if isinstance(r, dict) else r
                    for r in requests]
    else:
        requests = arguments
    if not isinstance(requests, list) or not all(isinstance(r, list) for r in requests):
        raise SampleError(f"{at}: arguments is neither a list of requests nor "
                          "{gen_args_0: {arg_0: …, arg_1: …}, …}")
    return [[str(part) for part in r] + [""] * (2 - len(r)) for r in requests]


def _loglikelihood(item: Any) -> float | None:
    """``[ll, is_greedy]`` (numbers, or text as current versions write them) → ll."""
    if not isinstance(item, list) or len(item) != 2:
        return None
    ll, greedy = item
    if not (isinstance(greedy, bool) or greedy in ("True", "False")):
        return None
    try:
        value = float(ll)
    except (TypeError, ValueError):
        return None
    return value if not math.isnan(value) else None


def _task_kind(lls: list[float | None], arguments: list[list[str]]) -> str:
    if len(lls) == 1 and lls[0] is not None:
        return ("a loglikelihood task (one continuation per document, e.g. lambada): "
                "there is no choice to predict")
    if all(part == "" for a in arguments for part in a[1:]):
        return "a loglikelihood_rolling task (perplexity of a text)"
    return "a generate_until task (the responses are generated text)"


def _target_index(target: Any, choices: list[str], contexts: list[str], at: str, pred: int,
                  correct: Any) -> int:
    """The answer's index: an index (written as text by current versions) or a choice's
    text; where both readings fit and differ, the line's own metric decides."""
    if isinstance(target, list) or (isinstance(target, str) and target.strip().startswith(
            "[")):
        raise SampleError(f"{at}: target {target!r} names several right answers; pieflow "
                          "needs one answer per document")
    if isinstance(target, bool) or not isinstance(target, int | str):
        raise SampleError(f"{at}: target {target!r} is neither an index nor a choice's text")
    text = str(target).strip()
    by_index = int(text) if text.lstrip("-").isdigit() and 0 <= int(text) < len(
        choices) else None
    by_text = [i for i, choice in enumerate(choices) if choice.strip() == text]
    if len(by_text) > 1 and by_index is None:
        if len(set(choices)) == 1 and len(set(contexts)) > 1:
            raise SampleError(f"{at}: every choice has the same continuation and the choices "
                              "differ in their contexts (a multiple-input task such as "
                              "winogrande): its target is not the answer; "
                              f"{SUPPORTED}")
        raise SampleError(f"{at}: target {target!r} matches several choices "
                          f"({', '.join(map(str, by_text))})")
    candidates = list(dict.fromkeys([i for i in (by_index, *by_text[:1]) if i is not None]))
    if not candidates:
        shown = ", ".join(repr(c.strip()) for c in choices[:5])
        raise SampleError(f"{at}: target {target!r} is neither a choice's index (0–"
                          f"{len(choices) - 1}) nor one of its choices ({shown})")
    if len(candidates) > 1 and isinstance(correct, int | float):
        fitting = [i for i in candidates if float(i == pred) == float(correct)]
        candidates = fitting or candidates
    return candidates[0]


def _text(doc: Any, prompt: str, field: str | None, at: str) -> str:
    """The document's question: ``text_field`` of the doc, else the first of
    :data:`TEXT_KEYS` it has, else the prompt (the first request's context)."""
    if field is not None:
        if not isinstance(doc, dict) or not isinstance(doc.get(field), str):
            keys = ", ".join(sorted(doc)) if isinstance(doc, dict) else "no doc"
            raise SampleError(f"{at}: the doc has no text under {field!r} (text_field); its "
                              f"keys: {keys}")
        return doc[field]
    if isinstance(doc, dict):
        for key in TEXT_KEYS:
            if isinstance(doc.get(key), str) and doc[key].strip():
                return doc[key]
    return prompt
