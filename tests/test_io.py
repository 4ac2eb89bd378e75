"""Atomic writes: the umask's permissions, and no temporary file outlives a killed write."""

from __future__ import annotations

import os
import stat

import matplotlib.pyplot as plt
import polars as pl
import pytest
import torch
from matplotlib.figure import Figure

from pieflow import io

plt.switch_backend("Agg")  # headless, as the analysis jobs draw


def _figure() -> Figure:
    figure, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [1, 0])
    return figure


WRITERS = {
    "parquet": lambda path: io.write_parquet(pl.DataFrame({"a": [1, 2]}), path),
    "json": lambda path: io.write_json({"a": 1}, path),
    "safetensors": lambda path: io.save_tensors({"w": torch.zeros(2)}, path),
    "html": lambda path: io.write_text("<p>ü</p>\n", path),
    "png": lambda path: io.write_figure(_figure(), path),
}


@pytest.fixture
def umask():
    """Set the process umask for one test, and restore it."""
    saved = os.umask(0o022)
    os.umask(saved)
    yield os.umask
    os.umask(saved)


@pytest.mark.parametrize("kind", WRITERS)
@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_written_file_gets_the_umask_permissions(tmp_path, umask, kind, mask, mode):
    umask(mask)
    path = tmp_path / f"out.{kind}"
    WRITERS[kind](path)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    plain = tmp_path / "plain"  # what open(..., "w") gives, for comparison
    plain.write_text("x")
    assert stat.S_IMODE(plain.stat().st_mode) == mode
    # overwriting an existing file gives the same
    WRITERS[kind](path)
    assert stat.S_IMODE(path.stat().st_mode) == mode


@pytest.mark.parametrize("kind", WRITERS)
def test_a_rerun_removes_what_a_killed_write_left(tmp_path, kind):
    target = tmp_path / f"model.{kind}"
    # Left by killed writes: a scratch folder holding a full-size file and the temporary
    # that safetensors makes of its own, and a file named by tempfile.mkstemp (older
    # versions of pieflow.io).
    scratch = tmp_path / f".{target.name}.k3x_9q0a.tmp"
    scratch.mkdir()
    (scratch / target.name).write_bytes(b"\0" * 4096)
    (scratch / ".tmp5rpXHV").write_bytes(b"\0" * 4096)
    old_style = tmp_path / f".{target.name}.abcd1234.tmp"
    old_style.write_bytes(b"\0" * 4096)
    # Not ours to remove: other targets' temporaries (one whose name extends the
    # target's), tokens of the wrong shape, other files.
    unrelated = [
        tmp_path / f".{target.name}.bak.abcd1234.tmp",
        tmp_path / f".other.{kind}.abcd1234.tmp",
        tmp_path / f".{target.name}.abcd123.tmp",
        tmp_path / f".{target.name}.ABCD1234.tmp",
        tmp_path / f"{target.name}.abcd1234.tmp",
        tmp_path / f".{target.name}.abcd1234.tmp.keep",
        tmp_path / ".tmp5rpXHV",
        tmp_path / "notes.txt",
    ]
    for path in unrelated:
        path.write_bytes(b"\0" * 64)

    WRITERS[kind](target)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [target.name] + [p.name for p in unrelated])
    assert all(path.read_bytes() == b"\0" * 64 for path in unrelated)


@pytest.mark.parametrize("kind", WRITERS)
def test_a_write_leaves_only_its_target(tmp_path, kind):
    WRITERS[kind](tmp_path / f"out.{kind}")
    WRITERS[kind](tmp_path / f"out.{kind}")
    assert [p.name for p in tmp_path.iterdir()] == [f"out.{kind}"]


def test_a_failed_write_leaves_neither_target_nor_temporary(tmp_path):
    target = tmp_path / "table.json"

    with pytest.raises(TypeError):
        io.write_json({"not serialisable": object()}, target)
    assert list(tmp_path.iterdir()) == []

    io.write_json({"a": 1}, target)
    with pytest.raises(TypeError):  # the old file stays whole
        io.write_json({"not serialisable": object()}, target)
    assert io.read_json(target) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["table.json"]


def test_target_names_with_pattern_characters(tmp_path):
    """Glob and regex metacharacters in a name are taken literally."""
    target = tmp_path / "a[1]+(x).json"
    stale = tmp_path / ".a[1]+(x).json.abcd1234.tmp"
    lookalike = tmp_path / ".a1+x.json.abcd1234.tmp"
    stale.write_text("")
    lookalike.write_text("")
    io.write_json([1], target)
    assert not stale.exists()
    assert lookalike.exists()
    assert io.read_json(target) == [1]


def test_text_is_written_as_utf8_exactly(tmp_path):
    page = "<!doctype html><p>PIEs · 50 % — ✕</p>\n"
    io.write_text(page, tmp_path / "tables" / "page.html")  # makes the folder
    assert (tmp_path / "tables" / "page.html").read_bytes() == page.encode("utf-8")


def test_a_figure_is_saved_as_savefig_would_and_closed(tmp_path):
    plain = _figure()
    plain.savefig(tmp_path / "plain.png", dpi=120, bbox_inches="tight")
    plt.close(plain)
    figure = _figure()
    io.write_figure(figure, tmp_path / "figures" / "atomic.png")  # makes the folder
    assert ((tmp_path / "figures" / "atomic.png").read_bytes()
            == (tmp_path / "plain.png").read_bytes())
    assert not plt.fignum_exists(figure.number)  # closed: memory does not grow
