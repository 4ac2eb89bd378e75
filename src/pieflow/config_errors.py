"""Config errors a person can act on: one line per problem, naming the key path and the
value (``models.minilm: unknown key 'epoch' (did you mean 'epochs'?)``), never a schema
dump; YAML errors name the file, line and column.

Snakemake's own messages for both are long (the whole schema of the offending entry) or
vague ("Config file is not valid JSON or YAML"), so pieflow checks first: the YAML of the
config files (``check_yaml_files``, from the Snakefile) and the schema
(``schema_problems``, from :func:`pieflow.config.check_config`). Light on purpose: no
torch, only ``yaml`` and ``jsonschema``; the lowest of the config modules, it imports no
other pieflow module (:mod:`pieflow.config_checks` and :mod:`pieflow.config` build on it).

``python -m pieflow.config FILE…`` checks config files outside Snakemake (e.g. a
``--configfile`` that Snakemake cannot read: it loads those before the Snakefile runs).
"""

from __future__ import annotations

import copy
import difflib
import functools
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
MAX_LINES = 3

# What a ``pattern`` of the schema means, in words.
_PATTERN_HINTS = {
    "^[A-Za-z0-9_]+$": "use letters, digits and '_' only (it becomes a folder name)",
    "^(?!.*\\.\\.)[a-z0-9][a-z0-9_.-]*$":
        "use lower-case letters, digits, '_', '.' and '-' (no spaces, slashes or '..': "
        "it becomes a folder name)",
}
# Extra words for a value refused at a known key.
_KEY_HINTS = {
    "seeds": "a population needs at least 2 seeds",
    "sparsities": "sparsities are integer percents from 0 to 99",
    "max_examples": "every split needs at least 2 examples",
}


class ConfigError(ValueError):
    """A config value pieflow refuses, with the offending key in the message."""


def key_path(parts: Iterable[Any]) -> str:
    """``["models", "minilm", "epochs"]`` → ``models.minilm.epochs``; ints → ``[i]``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "top level"


def closest(word: Any, candidates: Iterable[Any]) -> str | None:
    """The candidate ``word`` is most likely a typo of, if any."""
    names = [str(c) for c in candidates]
    lowered = {name.lower(): name for name in names}
    if str(word).lower() in lowered:
        return lowered[str(word).lower()]
    close = difflib.get_close_matches(str(word), names, n=1, cutoff=0.7)
    return close[0] if close else None


def did_you_mean(word: Any, candidates: Iterable[Any]) -> str:
    """`` (did you mean 'epochs'?)``, or ``""`` when nothing is close."""
    guess = closest(word, candidates)
    return f" (did you mean {guess!r}?)" if guess else ""


def summary(problems: Sequence[str]) -> str:
    """At most three problems, one per line, and a count of the rest (fix these first)."""
    shown = list(dict.fromkeys(problems))
    text = "\n".join(shown[:MAX_LINES])
    more = len(shown) - MAX_LINES
    if more > 0:
        text += f" (and {more} more problem{'s' * (more > 1)})"
    return text


# --------------------------------------------------------------------------------------
# YAML
# --------------------------------------------------------------------------------------


class _StrictLoader(yaml.FullLoader):
    """Snakemake's loader (yte uses ``FullLoader``), refusing duplicate keys, which YAML
    would silently resolve to the last one."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line "
                    f"{seen[key].line + 1}); YAML keeps only the last one",
                    key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def yaml_problem(path: str | Path, err: yaml.YAMLError) -> str:
    """``config.yaml:12:5: <problem> (<context>)``."""
    mark = getattr(err, "problem_mark", None)
    if mark is None:
        return f"{path}: {err}"
    problem = getattr(err, "problem", None) or str(err)
    context, context_mark = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and context_mark is not None and context_mark.line != mark.line:
        problem += f" ({context} at line {context_mark.line + 1}, column " \
                   f"{context_mark.column + 1})"
    if "'\\t'" in problem:
        problem += " (indent with spaces, not tabs)"
    return f"{path}:{mark.line + 1}:{mark.column + 1}: {problem}"


def load_yaml(path: str | Path) -> Any:
    """The file's content; a :class:`ConfigError` naming file, line and column if it is
    not valid YAML or repeats a key."""
    content, problem = _read_yaml(path)
    if problem:
        raise ConfigError(problem)
    return content


def check_yaml_files(*paths: str | Path) -> None:
    """Check the syntax of each config file that exists (a missing one is Snakemake's to
    report, or not: ``configfile:`` may be replaced by ``--configfile``)."""
    for path in paths:
        if Path(path).is_file():
            _, problem = _read_yaml(path)
            if problem:
                raise ConfigError(problem)


def _read_yaml(path: str | Path) -> tuple[Any, str | None]:
    shown = os.path.relpath(path) if os.path.isabs(path) else str(path)
    shown = str(path) if shown.startswith("..") else shown
    with open(path, encoding="utf-8") as handle:
        try:
            return yaml.load(handle, Loader=_StrictLoader), None  # noqa: S506 (FullLoader)
        except yaml.YAMLError as err:
            return None, yaml_problem(shown, err)


# --------------------------------------------------------------------------------------
# Schema
# --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _validator(schema_path: str):
    from jsonschema import Draft202012Validator, validators

    def is_integer(_checker, value) -> bool:  # JSON Schema's integer accepts 2.0
        return isinstance(value, int) and not isinstance(value, bool)

    checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", is_integer)
    strict = validators.extend(Draft202012Validator, type_checker=checker)
    return strict(yaml.safe_load(Path(schema_path).read_text(encoding="utf-8")))


def with_schema_defaults(config: dict[str, Any],
                         schema: str | Path | None = None) -> dict[str, Any]:
    """A copy of ``config`` with the schema's defaults of top-level keys filled in, as
    Snakemake's ``validate`` will fill them: the checks after the schema read the values
    the rules will see, and every default is stated once, in the schema. (Defaults of
    nested keys are left out: the checks ask whether such a key was given at all.)"""
    properties = _validator(str(schema or SCHEMA)).schema.get("properties", {})
    defaults = {key: copy.deepcopy(value["default"]) for key, value in properties.items()
                if isinstance(value, dict) and "default" in value}
    return {**defaults, **config}


def schema_problems(config: Any, schema: str | Path | None = None) -> list[str]:
    """Every schema error of ``config`` as one readable line, most useful first."""
    validator = _validator(str(schema or SCHEMA))
    errors = sorted(validator.iter_errors(config),
                    key=lambda e: (_RANK.get(e.validator, 1), list(map(str, e.path))))
    problems: list[str] = []
    suggested: set[tuple[str, str]] = set()  # (path, key) an unknown key stands for
    for error in errors:
        problems.extend(_describe(validator, error, suggested))
    return list(dict.fromkeys(p for p in problems if p))


_RANK = {"additionalProperties": 0, "propertyNames": 0, "required": 2}


def _describe(validator, error, suggested: set[tuple[str, str]]) -> list[str]:
    where = key_path(error.absolute_path)
    value, kind, limit = error.instance, error.validator, error.validator_value
    last = next((p for p in reversed(error.absolute_path) if isinstance(p, str)), "")
    hinted = [p for p in error.absolute_path if p in _KEY_HINTS]
    hint = f" ({_KEY_HINTS[hinted[-1]]})" if hinted else ""
    if kind == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        lines = []
        for key in [k for k in value if k not in known]:
            guess = closest(key, known)
            if guess:
                suggested.add((where, guess))
            lines.append(f"{where}: unknown key {key!r}" + (
                f" (did you mean {guess!r}?)" if guess else f"; known keys: {', '.join(known)}"))
        return lines
    if "propertyNames" in error.schema_path:
        name_hint = _PATTERN_HINTS.get(limit, f"must match {limit}")
        return [f"{where}: name {value!r} is not allowed: {name_hint}"]
    if kind == "required":
        missing = [k for k in limit if k not in value]
        missing = [k for k in missing if (where, k) not in suggested]
        because = _condition(validator, error)
        return [f"{where}: missing key {key!r}{because}" for key in missing]
    if kind == "enum":
        options = ", ".join(map(str, limit))
        return [f"{where}: {value!r} is not one of {options}{did_you_mean(value, limit)}"]
    if kind == "type":
        return [f"{where}: {_type_problem(value, limit, last)}"]
    if kind == "minimum":
        return [f"{where}: {value!r} is below the minimum {limit}{hint}"]
    if kind == "exclusiveMinimum":
        return [f"{where}: {value!r} is not above {limit}{hint}"]
    if kind == "maximum":
        return [f"{where}: {value!r} is above the maximum {limit}{hint}"]
    if kind == "exclusiveMaximum":
        return [f"{where}: {value!r} is not below {limit}{hint}"]
    if kind in ("minItems", "minProperties"):
        return [f"{where}: must not be empty"]
    if kind == "uniqueItems":
        repeated = next((v for i, v in enumerate(value) if v in value[:i]), None)
        return [f"{where}: {repeated!r} is listed twice"]
    if kind == "pattern":
        return [f"{where}: {value!r} is not allowed: "
                f"{_PATTERN_HINTS.get(limit, f'must match {limit}')}"]
    return [f"{where}: {error.message[:200]}"]


def _condition(validator, error) -> str:
    """`` (needed with source: hub)`` for a ``required`` inside an ``if``/``then``."""
    path = list(error.schema_path)
    if len(path) < 2 or path[-2] != "then":
        return ""
    node = validator.schema
    for part in path[:-2]:
        node = node[part]
    conditions = [f"{key}: {rule['const']}" for key, rule in
                  node.get("if", {}).get("properties", {}).items() if "const" in rule]
    return f" (needed with {', '.join(conditions)})" if conditions else ""


def _type_problem(value: Any, expected: str | list[str], key: str) -> str:
    expected = expected if isinstance(expected, str) else expected[0]
    if expected == "integer" and isinstance(value, float):
        if key == "sparsities" and 0 < value < 1:
            return (f"{value!r} is not a whole number (sparsities are integer percents: "
                    f"write {round(value * 100)})")
        if value.is_integer():
            return f"{value!r} is not a whole number (write {int(value)})"
        return f"{value!r} is not a whole number"
    if expected in ("number", "integer") and isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return f"{value!r} is not a number"
        return (f"{value!r} is text, not a number (YAML reads 1e-4 as text: write it "
                "with a dot, 1.0e-4)")
    if expected == "array":
        return f"expected a list, got {value!r} (write [{value}])" if isinstance(
            value, str | int) else f"expected a list, got {value!r}"
    if expected == "object":
        return f"expected a mapping (key: value lines), got {value!r}"
    if expected == "boolean":
        return f"{value!r} is not true or false"
    words = {"string": "text", "number": "a number", "integer": "a whole number"}
    return f"{value!r} is not {words.get(expected, expected)}"


if __name__ == "__main__":  # the file checker needs the whole check: pieflow.config
    sys.exit("the config file check is now: python -m pieflow.config FILE…")
