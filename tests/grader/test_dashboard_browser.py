"""The class dashboard renders in headless Chromium: charts visible, no errors.

The dashboard is built from made-up reports (no grading), so this test takes
seconds. A probe script, added to a copy of the page, records errors and the
size of every chart; Chromium's `--dump-dom` returns the page with the probe's
findings written into it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from course.batch import CRASHED, OK, TIMEOUT, Outcome, Submission
from course.dashboard import write_pages
from course.gradebook import class_stats
from course.grading.report import build_report
from course.grading.runner import GradingRun
from course.grading.runner import TestResult as CheckResult
from course.manifest import load_manifest

CHROMIUM = Path("/usr/bin/chromium")
MANIFEST = load_manifest()
STEPS = [s.number for s in MANIFEST.steps]

PROBE = """<script>
var probe = {errors: [], charts: []};
window.addEventListener('error', function (e) { probe.errors.push(String(e.message || e)); }, true);
var original = console.error;
console.error = function () {
  probe.errors.push([].join.call(arguments, ' '));
  original.apply(console, arguments);
};
window.addEventListener('load', function () {
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    probe.charts.push({id: svg.id, width: box.width, height: box.height,
                       shapes: svg.querySelectorAll('rect').length});
  });
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify(probe);
  document.body.appendChild(out);
});
</script>"""


def made_up_outcome(name: str, share: float, status: str, out: Path) -> Outcome:
    """A submission that passed about `share` of the checks of every step."""
    tests = []
    for step in MANIFEST.steps:
        for i, deliverable in enumerate(step.deliverables):
            passed = (i + 1) / len(step.deliverables) <= share
            tests.append(
                CheckResult(
                    nodeid=f"tests/step_{step.number:02d}/test_x.py::test_{deliverable.key}",
                    name=f"test_{deliverable.key}", step=step.number, deliverable=deliverable.key,
                    points=deliverable.points, status="pass" if passed else "fail",
                    message="" if passed else f"expected {deliverable.title}, found nothing",
                )
            )  # fmt: skip
    run = GradingRun(target=out / name, steps=STEPS, tests=tests, duration=12.0)
    outcome = Outcome(Submission(name, out / name), out / name, status=status, duration=12.0)
    outcome.report = build_report(run, MANIFEST)
    return outcome


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Chromium at /usr/bin/chromium (Debian: apt-get install -y chromium)",
)
def test_dashboard_renders_its_charts_without_errors(tmp_path: Path) -> None:
    outcomes = [
        made_up_outcome(name, share, status, tmp_path)
        for name, share, status in [
            ("alice", 1.0, OK), ("bob", 0.6, OK), ("carol", 0.3, TIMEOUT), ("dave", 0.0, CRASHED),
        ]
    ]  # fmt: skip
    stats = class_stats(outcomes, MANIFEST, STEPS)
    page = write_pages(outcomes, MANIFEST, stats, tmp_path, "Class grades")
    probed = tmp_path / "probed.html"
    html = page.read_text()
    probed.write_text(html.replace("<head>", "<head>" + PROBE, 1))
    profile = tmp_path / "chromium-profile"
    result = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-dev-shm-usage", "--no-first-run",
         f"--user-data-dir={profile}", "--window-size=1280,2000",
         "--virtual-time-budget=3000", "--dump-dom", probed.as_uri()],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    shutil.rmtree(profile, ignore_errors=True)
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.S)
    assert found, f"the page did not load in Chromium: {result.stderr[-2000:]}"
    probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert probe["errors"] == [], f"errors in the browser: {probe['errors']}"
    charts = {c["id"]: c for c in probe["charts"]}
    expected = {"chart-steps", "chart-histogram", "chart-heatmap", "chart-deliverables"}
    assert expected <= charts.keys(), f"charts missing: {expected - charts.keys()}"
    for chart in charts.values():
        assert chart["width"] > 0 and chart["height"] > 0, f"chart with no size: {chart}"
        assert chart["shapes"] > 0, f"chart with nothing drawn: {chart}"
    for number in STEPS:
        assert f"Step {number}" in html
    for outcome in outcomes:
        assert (outcome.out_dir / "report.html").exists()
