"""Evaluate one loaded LLM under several few-shot draws with lm-evaluation-harness.

A population of a pretrained LLM is the model evaluated with the few-shot
demonstrations drawn by seeds s_1 … s_n (``fewshot_random_seed``; see the spec's
"Pretrained LLMs used as they are"). ``fewshot_samples`` builds the lm_eval model once
around a model object that the caller loaded once, and runs ``simple_evaluate`` per
seed; each seed's samples come back separately (one member each), as lm_eval logs them
with ``log_samples=True``.

The scorer is pieflow's ``pieflow-hf`` (:mod:`pieflow.predict.lm_scorer`, each context
run once) by default; ``scorer="hf"`` selects lm-evaluation-harness's own ``HFLM``.
No file is read or written here beyond what lm_eval itself does (it reads the task's
data through ``datasets``).

``python -m pieflow.predict.lm_eval_runs <lm_eval arguments>`` is lm_eval's own command
line with ``pieflow-hf`` registered, e.g. ``... run --model pieflow-hf --model_args
pretrained=DIR --tasks TASK --include_path DIR``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from lm_eval import simple_evaluate
from lm_eval.api.model import LM
from lm_eval.models.huggingface import HFLM
from lm_eval.tasks import TaskManager

from pieflow.predict.lm_scorer import MODEL_NAME, PieflowHFLM

SCORERS: dict[str, type[HFLM]] = {MODEL_NAME: PieflowHFLM, "hf": HFLM}
DEFAULT_SCORER = MODEL_NAME


def make_lm(model: Any, tokenizer: Any, scorer: str = DEFAULT_SCORER, batch_size: int = 32,
            **hflm_kwargs: Any) -> HFLM:
    """The lm_eval model around an already loaded ``model`` object and its tokenizer:
    pieflow's scorer (``pieflow-hf``, default) or lm_eval's ``hf`` (HFLM). ``batch_size``
    counts contexts per pass for ``pieflow-hf`` and requests per pass for ``hf``."""
    if scorer not in SCORERS:
        raise ValueError(f"unknown scorer {scorer!r}; choose one of {sorted(SCORERS)}")
    return SCORERS[scorer](pretrained=model, tokenizer=tokenizer, batch_size=batch_size,
                           **hflm_kwargs)


def fewshot_samples(
    lm: LM,
    tasks: Sequence[str],
    seeds: Iterable[int],
    num_fewshot: int | None,
    task_manager: TaskManager | None = None,
    include_path: str | None = None,
    limit: int | float | None = None,
    **evaluate_kwargs: Any,
) -> dict[int, dict[str, list[dict]]]:
    """{few-shot seed: {task: its samples}}: one ``simple_evaluate`` per seed on the same
    ``lm`` (the model is loaded once, by the caller), ``log_samples=True``.

    ``task_manager`` (or one built from ``include_path``) is shared by the seeds;
    ``evaluate_kwargs`` go to ``simple_evaluate`` unchanged."""
    if task_manager is None:
        task_manager = TaskManager(include_path=include_path)
    members: dict[int, dict[str, list[dict]]] = {}
    for seed in seeds:
        if seed in members:
            raise ValueError(f"few-shot seed {seed} is listed twice")
        out = simple_evaluate(model=lm, tasks=list(tasks), num_fewshot=num_fewshot,
                              fewshot_random_seed=seed, log_samples=True,
                              task_manager=task_manager, limit=limit, **evaluate_kwargs)
        members[seed] = dict(out["samples"])
    return members


def multiple_choice_task_yaml(name: str, train: str, test: str) -> str:
    """The YAML of a local lm_eval multiple-choice task over JSON-lines files whose rows
    hold ``question``, ``choices`` and ``label`` (few-shot demonstrations from ``train``).
    Give absolute paths: lm_eval hands ``data_files`` to ``datasets``, which resolves
    relative ones against the current directory, not the YAML's folder."""
    return f"""task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    train: "{train}"
    test: "{test}"
output_type: multiple_choice
fewshot_split: train
test_split: test
doc_to_text: "Question: {{{{question}}}}\\nAnswer:"
doc_to_choice: choices
doc_to_target: label
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


def main() -> None:
    """lm_eval's command line, with ``pieflow-hf`` registered (this module imports it)."""
    from lm_eval.__main__ import cli_evaluate

    cli_evaluate()


if __name__ == "__main__":
    main()
