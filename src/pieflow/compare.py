"""Compare two results trees file by file: are two runs' tables identical?

    python -m pieflow.compare results-a results-b

Every Parquet and JSON file under either tree is compared exactly (values, column names
and order, dtypes, row order); logs, benchmarks, figures, HTML views and checkpoints are
skipped (they hold timings, paths or encoder nondeterminism that says nothing about the
results). Exits 1 when anything differs, so a script can use it as a check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl

COMPARED = (".parquet", ".json")
SKIPPED_DIRS = {"logs", "benchmarks", ".snakemake"}


def result_files(root: Path) -> set[str]:
    """Relative paths of the compared files under ``root``."""
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.suffix in COMPARED and path.is_file()
        and not SKIPPED_DIRS & set(path.relative_to(root).parts)
    }


def parquet_difference(first: Path, second: Path) -> str | None:
    """None when both files hold the same table, else what differs first."""
    a, b = pl.read_parquet(first), pl.read_parquet(second)
    if a.columns != b.columns:
        return f"columns differ: {a.columns} vs {b.columns}"
    if a.schema != b.schema:
        changed = [c for c in a.columns if a.schema[c] != b.schema[c]]
        return f"dtypes differ in {changed}"
    if a.height != b.height:
        return f"{a.height} vs {b.height} rows"
    for column in a.columns:
        if not a.get_column(column).equals(b.get_column(column)):
            return f"values differ in column {column!r}"
    return None


def json_difference(first: Path, second: Path) -> str | None:
    same = json.loads(first.read_text()) == json.loads(second.read_text())
    return None if same else "contents differ"


def compare_trees(first: Path, second: Path) -> list[str]:
    """One line per difference (a file in one tree only, or a file that differs)."""
    files_a, files_b = result_files(first), result_files(second)
    lines = [f"only in {first}: {name}" for name in sorted(files_a - files_b)]
    lines += [f"only in {second}: {name}" for name in sorted(files_b - files_a)]
    for name in sorted(files_a & files_b):
        check = parquet_difference if name.endswith(".parquet") else json_difference
        difference = check(first / name, second / name)
        if difference:
            lines.append(f"differs: {name}: {difference}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pieflow.compare", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    args = parser.parse_args(argv)
    for root in (args.first, args.second):
        if not root.is_dir():
            parser.error(f"{root} is not a folder")
    differences = compare_trees(args.first, args.second)
    shared = len(result_files(args.first) & result_files(args.second))
    for line in differences:
        print(line)
    print(f"{shared} files in both trees compared; {len(differences)} differences")
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
