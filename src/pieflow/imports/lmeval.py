"""lm-evaluation-harness ``--log_samples`` files, as every 0.4.x version writes them.

Layouts: v0.4.0–0.4.2 write ``<model_args>_<task>.jsonl`` holding **one indented JSON
array** of samples, numbers as numbers; v0.4.3+ write ``samples_<task>_<date>.jsonl``
under ``<output_path>/<model_name>/``, one object per line, every response leaf as a
string, with ``doc_hash``, ``prompt_hash``, ``target_hash`` (0.4.3+) and ``filter``,
``metrics`` (0.4.7+). One line per (document, filter): a ``generate_until`` task such as
gsm8k logs each document once per filter (``strict-match``, ``flexible-extract``).

What a line holds (``lm_eval.evaluator`` builds it, ``EvaluationTracker.
save_results_samples`` writes it): ``doc_id``, ``doc`` (the task's document), ``target``
(``doc_to_target``, written as text: ``"2"`` or the answer's text), ``arguments`` (one
request per choice: ``{"gen_args_0": {"arg_0": context, "arg_1": continuation}, …}``;
older versions wrote a list of ``[context, continuation]``), ``resps`` and
``filtered_resps`` (per request ``[log-likelihood, is_greedy]``, written as text by
current versions, ``["-12.5", "False"]``, as numbers by older ones), ``filter``,
``metrics`` and each metric's value (``acc``, ``acc_norm``, …).

Multiple-choice tasks (``output_type: multiple_choice``: one log-likelihood per choice)
are classification: ``pred`` is the argmax of the choices' log-likelihoods (lm-eval's
``acc``; ``score: loglikelihood_per_char`` divides each by its choice's length in
characters, lm-eval's ``acc_norm``) and ``label`` the target's index. The logits kept are
those scores, so ``pred`` is their argmax. Where the line carries the metric pieflow
reproduces, the two must agree.

``generate_until`` tasks give free-text answers: ``pred`` is the filtered response (the
answer the task's filter extracted), ``label`` the target's text and ``correct`` the
line's own metric (``exact_match``, or the one named by ``metric``), which may normalise
before comparing; no logits.
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
SUPPORTED = ("pieflow imports multiple-choice tasks (output_type: multiple_choice — one "
             "log-likelihood per choice, e.g. hellaswag, arc_easy, mmlu) and generate_until "
             "tasks (one generated answer per document, e.g. gsm8k)")
GENERATED_METRIC = "exact_match"  # how lm-eval scores a generated answer, by default


class SampleError(PredictionsError):
    """A line pieflow cannot read; the message starts with its place (file, line)."""


def read_samples(path: str, text: str, *, score: str, text_field: str | None,
                 metric: str | None = None) -> Iterator[dict[str, Any]]:
    """One row per sample of a samples file's ``text`` (decoded), JSON lines or one JSON
    array: ``_row`` (the line the sample starts on), ``example_id``, ``label``, ``pred``,
    ``logits``, ``text``, ``filter``, ``doc_hash``, ``prompt_hash`` and, for a generated
    answer, ``correct``."""
    for number, sample in samples(path, text):
        at = f"{path}, line {number}"
        if not isinstance(sample, dict):
            raise SampleError(f"{at}: expected a JSON object, got {type(sample).__name__}")
        yield {"_row": number, **parse_sample(sample, at, score=score, text_field=text_field,
                                              metric=metric)}


def samples(path: str, text: str) -> Iterator[tuple[int, Any]]:
    """(line, sample) of either layout: one JSON array (v0.4.0–0.4.2) or JSON lines."""
    if text.lstrip().startswith("["):
        yield from _array_samples(path, text)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as err:
            raise SampleError(f"{path}, line {number}: not valid JSON ({err.msg}, column "
                              f"{err.colno}); each line of a samples file is one JSON object "
                              "(lm_eval 0.4.3+), or the file is one JSON array (0.4.0–0.4.2)"
                              ) from None


def _array_samples(path: str, text: str) -> Iterator[tuple[int, Any]]:
    """The elements of a file that is one JSON array, each with the line it starts on."""
    decoder = json.JSONDecoder()
    position = text.index("[") + 1

    def skip(at: int) -> int:
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        return at

    position = skip(position)
    if position < len(text) and text[position] == "]":
        return
    while True:
        line = text.count("\n", 0, position) + 1
        try:
            item, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as err:
            raise SampleError(f"{path}, line {err.lineno}: not valid JSON ({err.msg}, column "
                              f"{err.colno}) in the file's JSON array") from None
        yield line, item
        position = skip(position)
        if position < len(text) and text[position] == ",":
            position = skip(position + 1)
            continue
        if position < len(text) and text[position] == "]":
            if text[position + 1:].strip():
                raise SampleError(f"{path}, line {text.count(chr(10), 0, position) + 1}: "
                                  "text after the JSON array's end")
            return
        raise SampleError(f"{path}, line {text.count(chr(10), 0, position) + 1}: the JSON "
                          "array is cut short (expected ',' or ']')")


def parse_sample(sample: Mapping[str, Any], at: str, *, score: str = "loglikelihood",
                 text_field: str | None = None, metric: str | None = None
                 ) -> dict[str, Any]:
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
    if isinstance(responses, str):  # a filter that returns the answer itself
        responses = [responses]
    if not isinstance(responses, list):
        raise SampleError(f"{at}: filtered_resps is {type(responses).__name__}, not a list")
    common = {"example_id": int(doc_id), "filter": _filter(sample),
              "doc_hash": _hash(sample, "doc_hash"), "prompt_hash": _hash(sample, "prompt_hash")}
    if _generated(responses, arguments):
        return {**common, **_generated_answer(sample, responses, arguments, at, text_field,
                                              metric or GENERATED_METRIC)}
    if metric is not None:
        raise SampleError(f"{at}: metric applies to generated answers (generate_until); this "
                          f"is a multiple-choice line, scored by score: {score}")
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
    return {**common, "label": label, "pred": pred, "logits": [float(s) for s in scores],
            "text": _text(sample.get("doc"), contexts[0], text_field, at)}


def _filter(sample: Mapping[str, Any]) -> str | None:
    """The line's filter (0.4.7+), or None where the version wrote none."""
    value = sample.get("filter")
    return None if value is None else str(value)


def _hash(sample: Mapping[str, Any], key: str) -> str | None:
    value = sample.get(key)
    return value if isinstance(value, str) and value else None


def _generated(responses: list[Any], arguments: list[list[str]]) -> bool:
    """A generate_until line: one request whose response is text, not [ll, is_greedy]."""
    return (len(arguments) == 1 and len(responses) == 1 and isinstance(responses[0], str)
            and _loglikelihood(responses[0]) is None)


def _generated_answer(sample: Mapping[str, Any], responses: list[Any],
                      arguments: list[list[str]], at: str, text_field: str | None,
                      metric: str) -> dict[str, Any]:
    """A generated answer: the filtered response, the target's text, and the line's
    metric as correctness (lm-eval's exact_match may normalise before comparing)."""
    value = sample.get(metric)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, int | float) or float(
            value) not in (0.0, 1.0):
        held = [k for k in sample.get("metrics") or [] if isinstance(k, str)]
        raise SampleError(f"{at}: no 0/1 value under {metric!r} (it holds {value!r}); pieflow "
                          "reads a generated answer's correctness from the line's metric"
                          + (f": name one of {', '.join(held)} with metric:" if held else ""))
    target = sample["target"]
    if isinstance(target, list):
        raise SampleError(f"{at}: target {target!r} names several right answers; pieflow "
                          "needs one answer per document")
    return {"label": str(target).strip(), "pred": str(responses[0]).strip(),
            "correct": float(value) == 1.0, "logits": None,
            "text": _text(sample.get("doc"), arguments[0][0], text_field, at)}


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
