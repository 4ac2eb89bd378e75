"""Every bad data file of tests/bad_data.py: refused in one line that names the dataset,
split, file, column and rows, or kept with a warning that reaches the log, meta.json and
checks.html — and the troubleshooting page shows what pieflow really says."""

from __future__ import annotations

import html
import json
import logging

import pytest
from bad_data import CASES, DOC, markdown_row, observe


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_bad_data_is_refused_or_warned_about(case, tmp_path, caplog):
    caplog.set_level(logging.WARNING, logger="pieflow.data")
    said = observe(case, tmp_path)
    if case.kind == "error":
        assert said.startswith("DataError: dataset 'mine'"), said
        assert case.says in said
        assert "\n" not in said
    elif case.kind == "warning":
        assert said.startswith("warning: "), said
        assert case.says in said
        logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any(case.says in message for message in logged)
        meta = json.loads((tmp_path / "results" / "meta").read_text())
        assert {"label_kind", "num_classes", "examples", "warnings", "notes"} <= set(meta)
        page = (tmp_path / "results" / "checks").read_text(encoding="utf-8")
        assert html.escape(case.says) in page
    else:
        assert said == f"(no message) {case.says}"
    assert markdown_row(said, case) in DOC.read_text(encoding="utf-8"), (
        f"{DOC.name} is out of date: run .venv/bin/python tests/bad_data.py")


def test_the_table_covers_the_issue():
    assert len(CASES) >= 20
    assert len({case.id for case in CASES}) == len(CASES)
    assert sum(case.issue for case in CASES) >= 9
    assert {case.kind for case in CASES} == {"error", "warning", "classes"}
