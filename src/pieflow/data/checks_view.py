"""The dataset's checks as one HTML page for the report (``checks.html``).

A reader of the results should see, next to the findings, what the data looked like:
examples per split, examples per class, and every warning and note of the data stage —
a test set that overlaps train, or a class with three examples, changes what the PIE
tables mean. A page of its own rather than the analysis stage's table views: the data
stage must not depend on a later stage.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from pieflow.data.checks import label_counts
from pieflow.data.splits import SPLITS, Dataset

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1rem;
       color: #222; }
h1 { font-size: 1.25rem; margin: 0 0 .4rem 0; } h2 { font-size: 1rem; margin: 1rem 0 .3rem; }
table { border-collapse: collapse; font-size: .8rem; }
th { background: #eef1f5; text-align: left; }
th, td { border: 1px solid #d9dde3; padding: 2px 6px; }
td.n { text-align: right; }
li.warning { background: #fdebc8; margin: .2rem 0; padding: 2px 6px; list-style: none; }
li { max-width: 70rem; }
"""


def _table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{v}</td>' if isinstance(v, int)
                         else f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _items(lines: Sequence[str], css: str = "") -> str:
    if not lines:
        return "<p>none</p>"
    attr = f' class="{css}"' if css else ""
    return "<ul>" + "".join(f"<li{attr}>{html.escape(line)}</li>" for line in lines) + "</ul>"


def checks_html(name: str, dataset: Dataset, label_kind: str) -> str:
    """A standalone page: split sizes, per-class counts, warnings, notes."""
    counts = {split: label_counts(dataset.splits[split], dataset.classes) for split in SPLITS}
    sizes = [(split, dataset.splits[split].height,
              dataset.origins[split].source if split in dataset.origins else "")
             for split in SPLITS]
    per_class = [(i, cls, *(counts[split][cls] for split in SPLITS))
                 for i, cls in enumerate(dataset.classes)]
    per = "examples with the class" if label_kind == "multi" else "examples"
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>Data checks: {html.escape(name)}</title><style>{_STYLE}</style></head>"
            f"<body><h1>Data checks: {html.escape(name)}</h1>"
            f"<p>{len(dataset.classes)} classes, {html.escape(label_kind)}-label.</p>"
            f"<h2>Warnings ({len(dataset.warnings)})</h2>{_items(dataset.warnings, 'warning')}"
            f"<h2>Examples per split</h2>{_table(['split', 'examples', 'source'], sizes)}"
            f"<h2>Examples per class ({per})</h2>"
            f"{_table(['index', 'class', *SPLITS], per_class)}"
            f"<h2>Notes</h2>{_items(dataset.notes)}</body></html>\n")
