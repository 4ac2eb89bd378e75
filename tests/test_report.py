"""The Snakemake HTML report of a finished tiny run: complete, captioned, self-contained,
and rendered with its figures by a real browser (headless Chromium)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from workflow_helpers import snakemake

pytestmark = pytest.mark.slow

FIGURES = {
    "accuracy.png": "Test accuracy by sparsity",
    "pie_share.png": "PIEs by sparsity",
    "pie_accuracy.png": "Accuracy on PIEs vs. non-PIEs",
    "null_rate.png": "PIEs against the null rate",
    "el2n_loss.png": "Loss change by EL2N difficulty",
    "class_accuracy.png": "Per-class accuracy by population",
    "pie_classes.png": "Which classes become PIEs?",
    "text_effects.png": "Text features of PIEs vs. non-PIEs",
    "training_curve.png": "Training curves.",
    "pie_predictors.png": "Could the dense models alone have told",
}
TABLES = {
    "findings.html": "Findings",
    "accuracy.html": "Accuracy table",
    "pies.html": "PIE table",
    "null_rate.html": "Null-rate table",
    "el2n_bins.html": "EL2N bin table",
    "class_accuracy.html": "Per-class table",
    "pie_classes.html": "PIE class table",
    "text_comparison.html": "Text comparison table",
    "pie_examples.html": "Example PIEs",
    "checks.html": "Data checks",
    "training.html": "Training curves, as a table",
    "pie_predictors.html": "Difficulty scores as predictors of PIEs",
    "pie_predictor_deciles.html": "PIE rate by difficulty decile",
}
CATEGORIES = ["0. Findings", "1. Accuracy", "2. PIEs", "3. Null rate", "4. Difficulty",
              "5. Classes", "6. Text", "7. Example PIEs", "8. Data"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def chromium(*args: str, profile: Path, timeout: int = 180) -> subprocess.CompletedProcess:
    """Headless Chromium with a throwaway profile, no network chatter."""
    browser = find_chromium()
    if browser is None:
        pytest.skip("headless Chromium not found (chromium / chromium-browser / "
                    "google-chrome); install it with tests/install_system_packages.sh")
    command = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
               "--virtual-time-budget=20000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def report_results(html: str) -> dict:
    """The report's embedded ``results`` object: one entry per file marked for it."""
    match = re.search(r"var results = (\{.*?\});\s*</script>", html, re.S)
    assert match, "no results object in the report"
    return json.loads(match.group(1))


def decoded(data_uri: str) -> bytes:
    return base64.b64decode(data_uri.split("base64,", 1)[1])


@pytest.fixture(scope="module")
def report(finished_run) -> Path:
    workdir, _ = finished_run
    path = workdir / "results" / "report.html"
    result = snakemake(workdir, "--report", str(path), timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return path


def test_report_holds_every_figure_and_table_with_captions(report):
    html = report.read_text(encoding="utf-8")
    results = report_results(html)
    by_name = {Path(path).name: entry for path, entry in results.items()}
    assert set(FIGURES) | set(TABLES) <= set(by_name)
    for name, caption in {**FIGURES, **TABLES}.items():
        entry = by_name[name]
        assert caption in entry["caption"], name
        assert entry["data_uri"].startswith("data:"), name  # embedded, not linked
    for name in FIGURES:
        assert by_name[name]["mime_type"] == "image/png"
        assert decoded(by_name[name]["data_uri"]).startswith(b"\x89PNG")
    for name in TABLES:
        assert by_name[name]["mime_type"] == "text/html"
        view = decoded(by_name[name]["data_uri"]).decode("utf-8")
        assert "<table>" in view and "<th>" in view, name  # a tiny run may have no PIEs
    categories = {entry["job_properties"]["rule"] for entry in results.values()}
    assert {"summarise_accuracy", "summarise_pies", "summarise_null_rate",
            "summarise_classes", "summarise_text", "summarise_pie_examples",
            "summarise_training", "summarise_pie_predictors"} <= categories
    assert "what pruning does to individual examples" in html


def test_report_is_self_contained(report):
    html = report.read_text(encoding="utf-8")
    external = re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=[\"']"
                          r"(?:https?:)?//", html, re.I)
    assert external == []


def test_report_renders_in_headless_chromium(report, tmp_path):
    result = chromium("--dump-dom", report.as_uri(), profile=tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-3000:]
    app = result.stdout.split('<div id="app">', 1)[1]
    app = app.split("<script", 1)[0]  # what React rendered, not the embedded data
    assert "what pruning does to individual examples" in app
    for category in CATEGORIES:
        assert category in app, category


def test_every_figure_decodes_and_shows_in_the_report_viewer(report, tmp_path):
    """Load every embedded figure as an image in the page, then show one in the report's
    own viewer (as a click on it would), and read the outcome back from the DOM."""
    probe = tmp_path / "probe.html"
    script = """
<script>
(function () {
  const out = document.createElement("pre");
  out.id = "figure-check";
  document.body.appendChild(out);
  const paths = Object.keys(results).filter(p => results[p].mime_type === "image/png");
  const sizes = {};
  let left = paths.length;
  const done = () => {
    left -= 1;
    if (left > 0) return;
    const first = paths.slice().sort()[0];
    app.setView({content: "img", contentPath: results[first].data_uri, resultPath: first});
    out.textContent = JSON.stringify({sizes: sizes, shown: first});
  };
  for (const path of paths) {
    const image = new Image();
    image.onload = () => { sizes[path] = [image.naturalWidth, image.naturalHeight]; done(); };
    image.onerror = () => { sizes[path] = [0, 0]; done(); };
    image.src = results[path].data_uri;
  }
})();
</script>
"""
    head, tail = report.read_text(encoding="utf-8").rsplit("</body>", 1)
    probe.write_text(head + script + "</body>" + tail, encoding="utf-8")
    result = chromium("--dump-dom", probe.as_uri(), profile=tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r'<pre id="figure-check">(.*?)</pre>', result.stdout, re.S)
    assert match, "the probe script did not finish"
    check = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert {Path(p).name for p in check["sizes"]} == set(FIGURES)
    for path, (width, height) in check["sizes"].items():
        assert width > 300 and height > 150, path
    app = result.stdout.split('<div id="app">', 1)[1].split('<pre id="figure-check">')[0]
    assert '<img src="data:image/png' in app


def test_report_screenshot(report, tmp_path):
    shot = tmp_path / "report.png"
    result = chromium(f"--screenshot={shot}", "--window-size=1400,1000", report.as_uri(),
                      profile=tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-3000:]
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000
