"""Every recipe in README.md and docs/*.md, exercised as written.

The fenced blocks are read when the tests are collected, one test per block, named
``file:line`` (the line of its opening fence): a recipe added to the docs is tested
without touching this file, or fails here, naming itself, when it is of a kind this file
does not know yet. ``docs/*_draft.md`` (proposed edits waiting to be merged) are left out.

Every command runs from one shared working directory laid out like a fresh clone
(``Snakefile``, ``rules/``, ``workflow/``, ``profiles/``, ``tests/``, ``Makefile`` linked
from the repository; ``config.yaml`` and ``config/`` copied), in the block's order:

* ``snakemake …`` runs as ``snakemake -n …``: a dry run, SLURM profiles included (the
  executor submits nothing in a dry run). Where the text next to the block says how many
  jobs it plans ("N Snakemake jobs", "plans N jobs"), the dry run must plan that many.
  ``snakemake --report FILE`` cannot be a dry run: it builds the report for real, in a
  copy of the tiny test run (fixture ``finished_run``).
* ``make TARGET`` runs as ``make -n TARGET``; ``sudo bash SCRIPT`` as ``bash -n SCRIPT``
  (syntax only: installing and starting SLURM is ``tests/test_slurm.py``'s business).
* ``cat > FILE <<'EOF' … EOF`` runs as it is; ``python -m pieflow.compare`` and
  ``python -m pieflow.config`` run on files made for them.
* A ```yaml block whose keys are config keys is a config fragment: merged into the
  shipped ``config.yaml`` with ``--configfile`` (as adding its keys to the config would)
  and dry-run, and every method it names must be planned. One whose keys are profile
  keys must be part of a profile under ``profiles/`` (the text around it names which).
* Blocks without a language are diagrams and sample output: they must hold no command.
* A ```python block is code a reader adds to the package (the extension recipes of
  docs/architecture.md): it is compiled, for its syntax only.

Generated tables follow the same rule: the table of built-in methods in docs/methods.md
must be what ``BUILTIN_METHODS`` says (``.venv/bin/python tests/test_recipes.py``
rewrites it), and the README must link every page of docs/.

Where a recipe needs what a fresh clone lacks, or would plan for minutes, the test
changes as little as it can and says so in SUBSTITUTIONS below (printed with every
command it affects).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
import yaml
from workflow_helpers import slurm_env

from pieflow import io

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md",
             *sorted(p for p in (REPO / "docs").glob("*.md") if not p.stem.endswith("_draft"))]
LINKED = ("Snakefile", "rules", "workflow", "profiles", "tests", "Makefile", "pyproject.toml")

# (what, replaced by, why). Each is applied where noted and printed with the commands it
# touches, so a failure shows exactly what ran.
SUBSTITUTIONS = {
    "venv": (".venv/bin/snakemake, .venv/bin/python (and a bare snakemake/python)",
             "the interpreter running these tests (python -m snakemake)",
             "the clone's .venv is whatever runs the tests"),
    "study-seeds": ("seeds: 30 in config/study.yaml",
                    "seeds: 2 (so the job count docs/configuration.md states is not checked)",
                    "30 seeds only multiply the plan (~11,000 jobs: ~50 s of CPU to plan); "
                    "its shape (datasets, models, methods, sparsities, files) is unchanged"),
    "aapd": ("data/aapd/{train,validation,test}.jsonl (the paths in config/study.yaml)",
             "two-line JSONL files in the working directory",
             "docs/configuration.md says to fetch AAPD first; the config check looks for "
             "the files even in a dry run"),
    "report": ("results/ of the default run (snakemake --report needs finished outputs)",
               "a linked copy of the tiny test run (finished_run)",
               "a report cannot be a dry run, and the default run takes minutes"),
    "config-file": ("a config file a python -m pieflow.… recipe names that a clone lacks "
                    "(my-config.yaml)",
                    "a copy of the shipped config.yaml",
                    "the recipe checks a config of the reader's own"),
    "imported-files": ("the lm-evaluation-harness samples files an imported: recipe names",
                       "under lm_eval_out/, the real lm_eval runs of tests/lmeval_fixtures "
                       "as lm_eval laid them out; elsewhere small multiple-choice samples "
                       "files (tests/imported_files.py) at those paths",
                       "the recipe imports files the reader made with lm_eval"),
    "previous-yaml": ("a config file a snakemake recipe names that a clone lacks "
                      "(my-imports.yaml)",
                      "the document's YAML block just before the recipe",
                      "the text says to write that block into it"),
    "external": ("commands of other tools (lm_eval, ls) that are not installed here",
                 "bash -n: their syntax only",
                 "lm-evaluation-harness is the reader's own installation"),
    "compare": ("results-a, results-b (python -m pieflow.compare results-a results-b)",
                "two small results trees in the working directory, first equal, then not",
                "the recipe compares two runs' trees"),
}
STUDY_SEEDS = ("seeds: 30\n", "seeds: 2\n")

# Inline recipes (in `backticks`, not fenced) that are commands worth running: the text
# as it stands in the document and the command line it stands for.
INLINE = {
    "compare": ("docs/architecture.md", "python -m pieflow.compare results-a results-b",
                "python -m pieflow.compare results-a results-b"),
    "one-cell": ("docs/slurm.md", "Run one cell first (`--config seeds=2 methods=[imp]`)",
                 ".venv/bin/snakemake --profile profiles/slurm --config seeds=2 methods=[imp]"),
}


@dataclass(frozen=True)
class Block:
    document: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str  # dedented by the fence's indentation

    @property
    def id(self) -> str:
        return f"{self.document.relative_to(REPO)}:{self.line}"


FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w+-]*)")


def fenced_blocks(document: Path) -> list[Block]:
    blocks, opened = [], None
    for number, line in enumerate(document.read_text().splitlines(), start=1):
        match = FENCE.match(line)
        if opened is None and match:
            opened = (number, match.group(1), match.group(2), match.group(3).lower(), [])
        elif opened is not None and line.strip().startswith(opened[2]) \
                and not line.strip().strip(opened[2][0]):
            start, indent, _, language, lines = opened
            text = "\n".join(row[len(indent):] if row.startswith(indent) else row.lstrip()
                             for row in lines)
            blocks.append(Block(document, start, language, text + "\n"))
            opened = None
        elif opened is not None:
            opened[4].append(line)
    assert opened is None, f"{document}:{opened[0]}: unclosed code fence"
    return blocks


BLOCKS = [block for document in DOCUMENTS for block in fenced_blocks(document)]
SHELL = {"bash", "sh", "shell", "console"}


# ---------------------------------------------------------------------------------------
# Splitting a shell block into commands and rewriting each into what runs
# ---------------------------------------------------------------------------------------


def shell_commands(text: str) -> list[str]:
    """Each command of a shell block with its continuation lines and heredoc body."""
    commands, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        command = [line]
        while command[-1].rstrip().endswith("\\") and i < len(lines):
            command.append(lines[i])
            i += 1
        if re.match(r"\s*(for|while)\b", line):  # a loop: through its own `done`
            indent = len(line) - len(line.lstrip())
            while i < len(lines) and not (command[-1].strip() == "done" and len(
                    command[-1]) - len(command[-1].lstrip()) == indent):
                command.append(lines[i])
                i += 1
        if heredoc := re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line):
            while i < len(lines):
                command.append(lines[i])
                i += 1
                if command[-1].strip() == heredoc.group(1):
                    break
        commands.append("\n".join(command))
    return commands


DRY_RUN_FLAGS = {"-n", "--dry-run", "--dryrun"}


def rewrite(command: str) -> tuple[str, str]:
    """(kind, what runs) for one command of a recipe."""
    first = command.splitlines()[0]
    words = shlex.split(first, comments=True)
    while words and (words[0] in {"time", "sudo"} or re.fullmatch(r"\w+=\S*", words[0])):
        words = words[1:]
    if not words:
        raise AssertionError(f"no command in {first!r}")
    program = Path(words[0]).name
    if program == "snakemake":
        if "--report" in words:
            return "report", command
        if DRY_RUN_FLAGS & set(words):
            return "dry-run", command
        return "dry-run", re.sub(r"(\S*snakemake)(?=\s|$)", r"\1 -n", command, count=1)
    if program == "make":
        return "make", re.sub(r"\bmake\b", "make -n", command, count=1)
    if program == "bash" and len(words) == 2:
        return "syntax", f"bash -n {shlex.quote(words[1])}"
    if program == "cat" and "<<" in first:
        return "heredoc", command
    if program == "python" and words[1:3] == ["-m", "pieflow.compare"]:
        return "compare", command
    if program == "python" and words[1:3] == ["-m", "pieflow.config"]:
        return "config-check", command
    if program in {"for", "ls", "lm_eval"}:  # substitution "external"
        return "external", f"bash -n -c {shlex.quote(command)}"
    raise AssertionError(f"tests/test_recipes.py does not know how to run {first!r}: teach "
                         "rewrite() this kind of recipe")


# ---------------------------------------------------------------------------------------
# The working directory
# ---------------------------------------------------------------------------------------


def write_wrappers(folder: Path) -> None:
    """.venv/bin/{snakemake,python}: the interpreter running these tests."""
    bin_dir = folder / ".venv" / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, command in (("snakemake", f"{sys.executable} -m snakemake"),
                          ("python", sys.executable)):
        (bin_dir / name).write_text(f'#!/bin/sh\nexec {command} "$@"\n')
        (bin_dir / name).chmod(0o755)


def lay_out_clone(folder: Path) -> None:
    for name in LINKED:
        (folder / name).symlink_to(REPO / name)
    shutil.copy(REPO / "config.yaml", folder / "config.yaml")
    shutil.copytree(REPO / "config", folder / "config")  # config/llm/: the recipe's task
    write_wrappers(folder)


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clone")
    lay_out_clone(folder)
    study = folder / "config" / "study.yaml"
    assert STUDY_SEEDS[0] in study.read_text(), SUBSTITUTIONS["study-seeds"]
    study.write_text(study.read_text().replace(*STUDY_SEEDS))  # substitution "study-seeds"
    aapd = yaml.safe_load(study.read_text())["datasets"]["aapd"]["files"]
    for path in aapd.values():  # substitution "aapd"
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text('{"text": "Graphs and their minors.", "labels": ["cs.DM"]}\n'
                                   '{"text": "A proof of a lemma.", "labels": ["math.LO"]}\n')
    return folder


@pytest.fixture(scope="module")
def report_clone(request, tmp_path_factory) -> Path:
    """A clone whose config and results are the tiny test run's (linked, not copied)."""
    finished, _ = request.getfixturevalue("finished_run")
    folder = tmp_path_factory.mktemp("report-clone")
    lay_out_clone(folder)
    shutil.copy(finished / "config.yaml", folder / "config.yaml")
    for name in ("results", ".snakemake"):
        shutil.copytree(finished / name, folder / name, copy_function=os.link,
                        ignore=shutil.ignore_patterns("locks", "incomplete"))
    return folder


_RUNS: dict[tuple[Path, str], subprocess.CompletedProcess] = {}


def run(folder: Path, script: str) -> subprocess.CompletedProcess:
    """Run a command as bash would from ``folder`` (the same command in the same folder
    runs once per session, whatever its comment says: the slurm docs repeat a dry run)."""
    one_line = "\n" not in script.strip()
    key = (folder, shlex.join(shlex.split(script, comments=True)) if one_line else script)
    if key not in _RUNS:
        env = {**slurm_env(),  # recipes with a SLURM profile need the plugin (Makefile)
               "PATH": f"{folder / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        _RUNS[key] = subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=folder,
                                    env=env, capture_output=True, text=True, timeout=600)
    return _RUNS[key]


def check(result: subprocess.CompletedProcess, where: str, ran: str, notes: list[str]) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 0, (
        f"{where}: the recipe failed (exit {result.returncode}). Ran:\n{ran}\n"
        + "".join(f"(substitution: {SUBSTITUTIONS[n][0]} -> {SUBSTITUTIONS[n][1]})\n"
                  for n in notes) + output[-4000:])
    return output


def planned(output: str, where: str) -> str:
    assert "This was a dry-run" in output or "Nothing to be done" in output, \
        f"{where}: not a dry run?\n{output[-2000:]}"
    return output


def run_shell_block(block: Block, clone: Path, request) -> None:
    notes = ["venv"]
    for command in shell_commands(block.text):
        kind, script = rewrite(command)
        folder = clone
        if kind == "report":
            folder = request.getfixturevalue("report_clone")
            notes.append("report")
        if "config/study.yaml" in script:
            notes += ["study-seeds", "aapd"]
        if kind == "compare":
            make_trees(clone)
            notes.append("compare")
        if kind == "external":
            notes.append("external")
        if kind in ("dry-run", "report"):
            for word in shlex.split(script.splitlines()[0], comments=True):
                if word.endswith((".yaml", ".yml")) and not (clone / word).exists():
                    text = previous_yaml(block)  # substitution "previous-yaml"
                    (clone / word).write_text(text)
                    write_imported_files(yaml.safe_load(text), clone)
                    notes += ["previous-yaml", "imported-files"]
        if kind == "config-check":
            for word in shlex.split(script, comments=True)[3:]:
                if not (clone / word).exists():  # substitution "config-file"
                    shutil.copy(REPO / "config.yaml", clone / word)
                    notes.append("config-file")
        output = check(run(folder, script), block.id, script, notes)
        if kind == "dry-run":
            planned(output, block.id)
            stated = stated_job_count(block)
            if stated is not None and "study-seeds" not in notes:
                total = int(re.search(r"^total\s+(\d+)", output, re.MULTILINE).group(1))
                assert total == stated, (f"{block.id}: the text says {stated:,} Snakemake "
                                         f"jobs, the dry run plans {total:,}")
        elif kind == "report":
            report = re.search(r"--report\s+(\S+)", script).group(1)
            assert (folder / report).stat().st_size > 100_000, f"{block.id}: no report"
        elif kind == "config-check":
            assert ": ok" in output, f"{block.id}: the shipped config was refused\n{output}"
        elif kind == "compare":
            assert "0 differences" in output
            changed = run(clone, script.replace("results-b", "results-c"))
            assert changed.returncode == 1, changed.stdout + changed.stderr
            assert "differs: table.parquet" in changed.stdout


def previous_yaml(block: Block) -> str:
    """The document's last YAML block before ``block``."""
    earlier = [b for b in BLOCKS if b.document == block.document and b.line < block.line
               and b.language in {"yaml", "yml"}]
    assert earlier, f"{block.id}: names a config file, and no YAML block comes before it"
    return earlier[-1].text


LM_EVAL_OUT = "lm_eval_out/"  # the worked example's --output_path: the real fixtures


def write_imported_files(fragment: dict, folder: Path) -> None:
    """Small lm-eval samples files at the paths an ``imported:`` fragment names
    (substitution "imported-files"): under ``lm_eval_out/``, the real lm_eval runs of
    tests/lmeval_fixtures/v0.4.13 laid out as lm_eval laid them out; elsewhere 12
    four-choice documents, seeded per path."""
    import json
    import zlib

    import numpy as np
    from imported_files import lm_eval_line

    real = REPO / "tests" / "lmeval_fixtures" / "v0.4.13"
    if not (folder / LM_EVAL_OUT).exists():
        shutil.copytree(real, folder / LM_EVAL_OUT)
    for entry in (fragment.get("imported") or {}).values():
        groups = [entry.get("dense", []),
                  *(value["files"] if isinstance(value, dict) else value
                    for value in (entry.get("compressed") or {}).values())]
        for path in (item["path"] if isinstance(item, dict) else item
                     for group in groups for item in group):
            target = folder / path
            if target.exists() or path.startswith(LM_EVAL_OUT):
                continue
            rng = np.random.default_rng(zlib.crc32(path.encode()))
            lines = [lm_eval_line(doc, rng.normal(size=4).tolist(), doc % 4,
                                  text=f"question {doc}") for doc in range(12)]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("".join(json.dumps(line) + "\n" for line in lines))


def stated_job_count(block: Block) -> int | None:
    """The number of jobs the text right around a block says it plans, if it says one."""
    if not block.line:
        return None
    lines = block.document.read_text().splitlines()
    end = block.line + block.text.count("\n") + 1
    near = " ".join(lines[max(0, block.line - 5):block.line - 1] + lines[end:end + 3])
    match = re.search(r"([\d,]+) Snakemake jobs|plans ([\d,]+) jobs", near)
    return int((match.group(1) or match.group(2)).replace(",", "")) if match else None


def make_trees(folder: Path) -> None:
    """results-a and results-b equal, results-c one value off (substitution "compare")."""
    table = pl.DataFrame({"example_id": [0, 1, 2], "pred": [1, 0, 2]})
    for name, frame in (("results-a", table), ("results-b", table),
                        ("results-c", table.with_columns(pred=pl.Series([1, 0, 1])))):
        io.write_parquet(frame, folder / name / "table.parquet")
        io.write_json({"classes": ["a", "b", "c"]}, folder / name / "meta.json")


# ---------------------------------------------------------------------------------------
# YAML fragments
# ---------------------------------------------------------------------------------------


def config_keys() -> set[str]:
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    return set(schema["properties"])


def profiles() -> dict[str, dict]:
    return {path.parent.name: yaml.safe_load(path.read_text())
            for path in sorted((REPO / "profiles").glob("*/config.yaml"))}


def is_part_of(fragment, whole) -> bool:
    if isinstance(fragment, dict):
        return isinstance(whole, dict) and all(
            key in whole and is_part_of(value, whole[key]) for key, value in fragment.items())
    return fragment == whole


def run_yaml_block(block: Block, clone: Path) -> None:
    fragment = yaml.safe_load(block.text)
    assert isinstance(fragment, dict) and fragment, f"{block.id}: not a mapping"
    if set(fragment) <= config_keys():
        write_imported_files(fragment, clone)
        path = clone / f"fragment-{block.line}.yaml"
        path.write_text(block.text)
        script = f".venv/bin/snakemake -n --configfile {path.name}"
        output = planned(check(run(clone, script), block.id, script, ["venv"]), block.id)
        for method in fragment.get("methods", []):
            assert f"method={method}," in output, f"{block.id}: no {method} job planned"
        return
    holders = [name for name, profile in profiles().items() if is_part_of(fragment, profile)]
    assert holders, (f"{block.id}: neither a config fragment (keys {sorted(config_keys())}) "
                     "nor part of a profile under profiles/ as it stands")
    before = block.document.read_text().splitlines()[max(0, block.line - 12):block.line]
    named = [name for name in holders if f"profiles/{name}" in "\n".join(before)]
    assert named, f"{block.id}: part of {holders}, but the text before it names none of them"


# ---------------------------------------------------------------------------------------
# Generated tables
# ---------------------------------------------------------------------------------------

METHODS_DOC = REPO / "docs" / "methods.md"
METHODS_START, METHODS_END = "<!-- builtin-methods:start -->", "<!-- builtin-methods:end -->"
AFTER_PRUNE = {"continue": "keep training", "rewind": "rewind to"}


def method_row(name: str, spec) -> str:
    """One row of the built-in methods table, read off a ``MethodSpec``."""
    dash = "—"
    schedule = f"`{spec.schedule}`"
    after = dash
    if spec.schedule == "iterative":
        schedule += f", {spec.prunes} prunes"
        after = AFTER_PRUNE[spec.after_prune]
        if spec.after_prune == "rewind":
            after += (" initialisation" if spec.rewind_epoch == 0
                      else f" the dense weights after epoch {spec.rewind_epoch}")
    elif spec.recover_epochs:
        after = f"fine-tune {spec.recover_epochs} epochs"
    pattern = dash if spec.fixed_sparsity == 0 else spec.pattern
    quantize = dash
    if spec.quantize is not None:
        q = spec.quantize
        grid = f"groups of {q.group_size}" if q.group_size else "per output channel"
        kind = "symmetric" if q.symmetric else "asymmetric"
        quantize = f"{q.bits} bit, {grid}, {kind}, {q.scheme.upper()}"
    cells = ("the `sparsities` list" if spec.fixed_sparsity is None
             else f"{spec.fixed_sparsity} only")
    return (f"| `{name}` | {spec.compression} | `{spec.score}` | {schedule} | {after} | "
            f"{pattern} | {quantize} | {cells} |")


def methods_table() -> str:
    """docs/methods.md's table of the built-in methods, one row per ``BUILTIN_METHODS``
    entry, in its order."""
    from pieflow.prune.methods import BUILTIN_METHODS

    header = ["| method | kind | score | schedule | after each prune | pattern | quantize "
              "| sparsity cells |", "|---|---|---|---|---|---|---|---|"]
    return "\n".join(header + [method_row(name, spec)
                               for name, spec in BUILTIN_METHODS.items()])


def write_methods_table() -> None:
    """Rewrite the table between the markers of docs/methods.md."""
    text = METHODS_DOC.read_text(encoding="utf-8")
    head, rest = text.split(METHODS_START)
    _, tail = rest.split(METHODS_END)
    METHODS_DOC.write_text(f"{head}{METHODS_START}\n{methods_table()}\n{METHODS_END}{tail}",
                           encoding="utf-8")
    print(f"built-in methods written to {METHODS_DOC}")


# ---------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------


def test_the_documents_hold_recipes():
    """The parser finds the blocks (a broken parser would make every test vanish)."""
    assert {block.document.name for block in BLOCKS} >= {
        "README.md", "slurm.md", "methods.md", "configuration.md", "predictions.md",
        "troubleshooting.md", "architecture.md"}
    assert {block.language for block in BLOCKS} >= {"bash", "yaml", "", "python"}
    assert sum(block.language in SHELL for block in BLOCKS) >= 5


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_recipe(block, clone, request):
    if block.language in SHELL:
        run_shell_block(block, clone, request)
    elif block.language in {"yaml", "yml"}:
        run_yaml_block(block, clone)
    elif block.language == "python":
        compile(block.text, block.id, "exec")  # syntax only: code a reader adds
    elif block.language in {"", "text"}:
        commands = [line for line in block.text.splitlines()
                    if re.match(r"\s*(\S*snakemake|make|python|sudo|bash)\s", line)]
        assert not commands, (f"{block.id}: a command in a block without a language; "
                              "mark it ```bash so that it is tested: {commands}")
    else:
        pytest.fail(f"{block.id}: a ```{block.language} block: teach tests/test_recipes.py "
                    "how to run it")


@pytest.mark.slow
@pytest.mark.parametrize("name", INLINE)
def test_inline_recipe(name, clone, request):
    document, text, command = INLINE[name]
    assert text in (REPO / document).read_text(), \
        f"{document} no longer says {text!r}: update INLINE in tests/test_recipes.py"
    block = Block(REPO / document, 0, "bash", command + "\n")
    run_shell_block(block, clone, request)


def test_rewriting_commands():
    """What each kind of command becomes (no workflow runs here)."""
    assert rewrite(".venv/bin/snakemake --cores 8  # all") == (
        "dry-run", ".venv/bin/snakemake -n --cores 8  # all")
    assert rewrite("time .venv/bin/snakemake -n --profile p") == (
        "dry-run", "time .venv/bin/snakemake -n --profile p")
    assert rewrite("snakemake --report results/report.html")[0] == "report"
    assert rewrite("make run    # set up") == ("make", "make -n run    # set up")
    assert rewrite("sudo bash tests/slurm/start_slurm.sh  # x") == (
        "syntax", "bash -n tests/slurm/start_slurm.sh")
    assert rewrite(".venv/bin/python -m pieflow.config c.yaml  # x")[0] == "config-check"
    with pytest.raises(AssertionError, match="teach"):
        rewrite("rm -rf results")
    block = textwrap.dedent("""\
        # a comment
        cat > f.yaml <<'EOF'
        seeds: 3
        EOF
        .venv/bin/snakemake -n \\
            --configfile f.yaml
        """)
    assert shell_commands(block) == ["cat > f.yaml <<'EOF'\nseeds: 3\nEOF",
                                     ".venv/bin/snakemake -n \\\n    --configfile f.yaml"]


def test_the_methods_table_is_builtin_methods():
    """docs/methods.md lists every built-in method as ``BUILTIN_METHODS`` defines it."""
    text = METHODS_DOC.read_text(encoding="utf-8")
    assert text.count(METHODS_START) == 1 and text.count(METHODS_END) == 1, \
        f"{METHODS_DOC.name}: no single {METHODS_START} … {METHODS_END} block"
    shown = text.split(METHODS_START)[1].split(METHODS_END)[0].strip()
    assert shown == methods_table(), (f"{METHODS_DOC.name}'s table of built-in methods is "
                                      "out of date: run .venv/bin/python tests/test_recipes.py")


def test_the_readme_links_every_page():
    """The README's "Read on" reaches every page of docs/ (drafts aside)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    pages = [path for path in DOCUMENTS if path.parent.name == "docs"]
    unlinked = [path.name for path in pages if f"(docs/{path.name}" not in readme]
    assert pages and not unlinked, f"README.md links no {unlinked}"


if __name__ == "__main__":
    write_methods_table()
