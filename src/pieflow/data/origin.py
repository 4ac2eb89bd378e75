"""Where a split's rows come from, so every data message can point at a file and a row.

A user with a bad file needs the dataset, the split, the file, the column and the rows
in one line; a message that says only "labels ['None'] appear outside train" sends them
searching. Each split carries an :class:`Origin` from the moment it is read; rows are
recovered from ``example_id`` (the source row plus a fixed offset per source split), so
they stay right after rows are dropped, carved or subsampled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SHOWN_ROWS = 5  # rows named in a message; the count says how many there are in all

# How rows are counted, by source format: said in every message that names rows, since
# "row 3" of a CSV could otherwise mean the header line, a 0-based index or a data row.
ROW_NOTES = {
    "csv": "1-based, after the header",
    "json": "1-based, one JSON record per line",
    "jsonl": "1-based, one JSON record per line",
    "parquet": "1-based, in file order",
    "hub": "1-based, in the hub split's order",
}


@dataclass(frozen=True)
class Origin:
    """One split's source: a file (or hub split) and how its rows map to ``example_id``.

    ``row_offset``: ``example_id - row_offset`` is the 0-based row of the source, or
    ``None`` where no such mapping exists (a prepared Parquet folder), in which case
    messages cite ``example_id`` values instead of rows.
    """

    dataset: str
    split: str
    source: str = ""
    row_offset: int | None = None
    row_note: str = ""
    text_column: str = "text"
    label_column: str = "label"

    def where(self, column: str | None = None) -> str:
        """``dataset 'mine', split 'train' (data/train.csv), column 'label'``."""
        text = f"dataset {self.dataset!r}, split {self.split!r}"
        if self.source:
            text += f" ({self.source})"
        return f"{text}, column {column!r}" if column else text

    def rows(self, example_ids: Iterable[int]) -> str:
        """``rows 3, 17, 40, … (1-based, after the header)``: the first few, in order."""
        ids = sorted(example_ids)
        shown = ids[:SHOWN_ROWS]
        more = ", …" if len(ids) > SHOWN_ROWS else ""
        if self.row_offset is None:
            return f"example_id {', '.join(map(str, shown))}{more}"
        numbers = ", ".join(str(i - self.row_offset + 1) for i in shown)
        word = "row" if len(ids) == 1 else "rows"
        note = f" ({self.row_note})" if self.row_note else ""
        return f"{word} {numbers}{more}{note}"


def examples_have(count: int) -> str:
    """``1 example has`` or ``6 examples have``: messages read as sentences."""
    return "1 example has" if count == 1 else f"{count} examples have"
