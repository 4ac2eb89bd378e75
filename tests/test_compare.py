"""pieflow.compare: two results trees, file by file."""

from __future__ import annotations

import polars as pl

from pieflow import io
from pieflow.compare import compare_trees, main


def _tree(root, values, extra=False):
    io.write_parquet(pl.DataFrame({"example_id": [0, 1], "loss": values}),
                     root / "d" / "m" / "dense" / "0" / "predictions.parquet")
    io.write_json(["a", "b"], root / "d" / "data" / "classes.json")
    (root / "logs").mkdir(parents=True, exist_ok=True)
    (root / "logs" / "x.log").write_text(str(values))  # logs never count
    if extra:
        io.write_parquet(pl.DataFrame({"x": [1]}), root / "analysis" / "extra.parquet")
    return root


def test_identical_trees_have_no_differences(tmp_path, capsys):
    a = _tree(tmp_path / "a", [0.5, 1.0])
    b = _tree(tmp_path / "b", [0.5, 1.0])
    assert compare_trees(a, b) == []
    assert main([str(a), str(b)]) == 0
    assert "2 files in both trees compared; 0 differences" in capsys.readouterr().out


def test_a_changed_value_and_a_missing_file_are_reported(tmp_path):
    a = _tree(tmp_path / "a", [0.5, 1.0], extra=True)
    b = _tree(tmp_path / "b", [0.5, 1.5])
    lines = compare_trees(a, b)
    assert lines == [
        f"only in {a}: analysis/extra.parquet",
        "differs: d/m/dense/0/predictions.parquet: values differ in column 'loss'",
    ]
    assert main([str(a), str(b)]) == 1


def test_column_order_and_dtype_count_as_differences(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    io.write_parquet(pl.DataFrame({"x": [1], "y": [2]}), a / "t.parquet")
    io.write_parquet(pl.DataFrame({"y": [2], "x": [1]}), b / "t.parquet")
    assert "columns differ" in compare_trees(a, b)[0]
    io.write_parquet(pl.DataFrame({"x": [1.0], "y": [2]}), b / "t.parquet")
    assert "dtypes differ in ['x']" in compare_trees(a, b)[0]
