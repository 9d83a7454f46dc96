"""The class dashboard renders in headless Chromium: charts visible, no errors.

The dashboard is built from made-up reports (no grading), so this test takes
seconds. The browser (tests/browser.py) records console errors, uncaught
exceptions and failed requests; the test measures every chart.
"""

from __future__ import annotations

from pathlib import Path

from course.batch import CRASHED, OK, TIMEOUT, Outcome, Submission
from course.dashboard import write_pages
from course.gradebook import class_stats
from course.grading.report import build_report
from course.grading.runner import GradingRun
from course.grading.runner import TestResult as CheckResult
from course.manifest import load_manifest
from tests.browser import BrowserPage

MANIFEST = load_manifest()
STEPS = [s.number for s in MANIFEST.steps]
MEASURE_CHARTS = """svgs => svgs.map(svg => {
  const box = svg.getBoundingClientRect();
  return {id: svg.id, width: box.width, height: box.height,
          shapes: svg.querySelectorAll("rect").length};
})"""


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


def test_dashboard_renders_its_charts_without_errors(
    tmp_path: Path, browser_page: BrowserPage
) -> None:
    outcomes = [
        made_up_outcome(name, share, status, tmp_path)
        for name, share, status in [
            ("alice", 1.0, OK), ("bob", 0.6, OK), ("carol", 0.3, TIMEOUT), ("dave", 0.0, CRASHED),
        ]
    ]  # fmt: skip
    stats = class_stats(outcomes, MANIFEST, STEPS)
    dashboard = write_pages(outcomes, MANIFEST, stats, tmp_path, "Class grades")
    html = dashboard.read_text()
    page = browser_page.page
    page.set_viewport_size({"width": 1280, "height": 2000})
    page.goto(dashboard.as_uri())  # returns once the page has loaded
    measured = page.eval_on_selector_all("svg.chart", MEASURE_CHARTS)
    assert browser_page.problems == [], f"errors in the browser: {browser_page.problems}"
    charts = {c["id"]: c for c in measured}
    expected = {"chart-steps", "chart-histogram", "chart-heatmap", "chart-deliverables"}
    assert expected <= charts.keys(), f"charts missing: {expected - charts.keys()}"
    for chart in charts.values():
        assert chart["width"] > 0 and chart["height"] > 0, f"chart with no size: {chart}"
        assert chart["shapes"] > 0, f"chart with nothing drawn: {chart}"
    for number in STEPS:
        assert f"Step {number}" in html
    for outcome in outcomes:
        assert (outcome.out_dir / "report.html").exists()
