"""The class dashboard (`dashboard.html`) and one report page per submission.

Every page is self-contained: the CSS, the few lines of JavaScript and the charts
(SVG drawn here, in Python) are inline, so the files open from a disk, a zip or a
CI artifact without any network.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from course.batch import OK, Outcome
from course.gradebook import ClassStats, percent, step_points
from course.grading.report import tests_modified
from course.manifest import Manifest

CSS = """
:root{--bg:#f6f7fb;--card:#fff;--ink:#1d2433;--mute:#667085;--line:#e4e7ec;--accent:#3457d5;
--ok:#1f9d55;--warn:#d98e04;--bad:#d64545}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
sans-serif;background:var(--bg);color:var(--ink)}
header{background:linear-gradient(120deg,#1d2b64,#3457d5);color:#fff;padding:28px 40px}
header h1{margin:0 0 4px;font-size:26px}header p{margin:0;opacity:.85}
main{max-width:1200px;margin:0 auto;padding:24px 40px 60px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:14px;
margin:-48px 0 24px}
.card{background:var(--card);border-radius:12px;padding:16px 18px;box-shadow:0 1px 3px #0002}
.card b{display:block;font-size:28px}.card span{color:var(--mute);font-size:13px}
section{background:var(--card);border-radius:12px;padding:20px 24px;margin:0 0 20px;
box-shadow:0 1px 3px #0002}section h2{margin:0 0 4px;font-size:18px}
section p.lead{margin:0 0 14px;color:var(--mute);font-size:13px}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:20px}
@media(max-width:900px){.grid2{grid-template-columns:1fr}}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--mute)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
.badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:600;
background:#e8f5ee;color:var(--ok)}.badge.timeout,.badge.output-limit{background:#fff4dc;
color:#a36a00}.badge.crashed,.badge.error{background:#fde8e8;color:var(--bad)}
.badge.pass{background:#e8f5ee;color:var(--ok)}.badge.partial{background:#fff4dc;color:#a36a00}
.badge.fail{background:#fde8e8;color:var(--bad)}
.hint{color:var(--mute);font-size:13px}code{font-size:12px;background:#f1f3f7;padding:1px 5px;
border-radius:4px}svg text{font-family:inherit}svg.chart{display:block;width:100%;height:auto}
.heat a:hover rect{stroke:#1d2433;stroke-width:2}
input[type=search]{padding:7px 12px;border:1px solid var(--line);border-radius:8px;width:260px;
margin-bottom:10px;font:inherit}
details{margin:4px 0}summary{cursor:pointer;color:var(--accent)}
pre{white-space:pre-wrap;background:#0f172a;color:#e2e8f0;padding:10px 12px;border-radius:8px;
font-size:12px;max-height:320px;overflow:auto}
.bar{height:8px;background:var(--line);border-radius:4px;overflow:hidden;min-width:120px}
.bar i{display:block;height:100%}
footer{color:var(--mute);font-size:12px;text-align:center;margin-top:30px}
"""

FILTER_JS = """
document.querySelectorAll('input[data-filter]').forEach(function (box) {
  var rows = document.querySelectorAll(box.dataset.filter + ' tbody tr');
  box.addEventListener('input', function () {
    var q = box.value.toLowerCase();
    rows.forEach(function (row) {
      row.style.display = row.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
    });
  });
});
"""


# A submission graded with tests the course did not publish (course/grading/digest.py).
MODIFIED_BADGE = ' <span class="badge error" title="grading tests modified">tests modified</span>'


def color(share: float) -> str:
    """Red through amber to green for a share between 0 and 1."""
    share = min(max(share, 0.0), 1.0)
    return f"hsl({round(share * 125)}, 62%, {round(50 - 8 * share)}%)"


def _page(title: str, body: str, *, script: str = "") -> str:
    js = f"<script>{script}</script>" if script else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>{body}{js}</body></html>\n"
    )


def bar_chart(labels: list[str], series: list[tuple[str, list[float], str]], ident: str) -> str:
    """Vertical grouped bars (values 0..1) with a percent axis, as inline SVG."""
    width, height, left, bottom, top = 640, 280, 44, 46, 16
    plot_w, plot_h = width - left - 12, height - bottom - top
    group = plot_w / max(len(labels), 1)
    bar = min(28.0, group * 0.8 / max(len(series), 1))
    parts = [
        f'<svg class="chart" id="{ident}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(ident)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in range(0, 101, 25):
        y = top + plot_h * (1 - tick / 100)
        parts.append(
            f'<line x1="{left}" x2="{width - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e7ec"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" fill="#667085" '
            f'text-anchor="end">{tick}%</text>'
        )
    for i, label in enumerate(labels):
        x0 = left + group * i + (group - bar * len(series)) / 2
        for j, (name, values, fill) in enumerate(series):
            value = values[i]
            h = plot_h * value
            x, y = x0 + bar * j, top + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 3:.1f}" height="{max(h, 1.5):.1f}" '
                f'rx="3" fill="{fill}"><title>{escape(label)} · {escape(name)}: '
                f"{value:.0%}</title></rect>"
                f'<text x="{x + (bar - 3) / 2:.1f}" y="{y - 4:.1f}" font-size="10" '
                f'text-anchor="middle" fill="#1d2433">{value:.0%}</text>'
            )
        parts.append(
            f'<text x="{left + group * (i + 0.5):.1f}" y="{height - bottom + 18}" font-size="12" '
            f'text-anchor="middle" fill="#1d2433">{escape(label)}</text>'
        )
    for j, (name, _, fill) in enumerate(series):
        x = left + j * 150
        parts.append(
            f'<rect x="{x}" y="{height - 16}" width="12" height="12" rx="2" fill="{fill}"/>'
            f'<text x="{x + 18}" y="{height - 6}" font-size="12" fill="#667085">'
            f"{escape(name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def deliverable_chart(manifest: Manifest, stats: ClassStats) -> str:
    """Horizontal bars: the share of the class with full marks on each deliverable."""
    rows = [d for n in stats.steps for d in manifest.step(n).deliverables]
    width, row_h, label_w = 640, 22, 290
    height = row_h * len(rows) + 10
    parts = [
        f'<svg class="chart" id="chart-deliverables" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="pass rate per deliverable" xmlns="http://www.w3.org/2000/svg">'
    ]
    bar_w = width - label_w - 50
    for i, d in enumerate(rows):
        rate = stats.deliverable_rate.get(d.key, 0.0)
        y = 5 + i * row_h
        label = f"{d.step} · {d.key} {d.title}"
        label = label if len(label) <= 40 else label[:39] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 14}" font-size="12" text-anchor="end" '
            f'fill="#1d2433">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="14" rx="3" fill="#eef0f4"/>'
            f'<rect x="{label_w}" y="{y + 3}" width="{max(bar_w * rate, 2):.1f}" height="14" '
            f'rx="3" fill="{color(rate)}"><title>{escape(d.title)}: {rate:.0%} of the class '
            f"with full marks</title></rect>"
            f'<text x="{label_w + bar_w + 6}" y="{y + 14}" font-size="12" fill="#667085">'
            f"{rate:.0%}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def histogram(outcomes: list[Outcome]) -> str:
    """How many submissions scored 0-9 %, 10-19 %, ..., 90-100 %."""
    bins = [0] * 10
    for outcome in outcomes:
        bins[min(int(percent(outcome) // 10), 9)] += 1
    top = max(bins) or 1
    width, height, base = 640, 200, 170
    step = (width - 20) / 10
    parts = [
        f'<svg class="chart" id="chart-histogram" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="score distribution" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, n in enumerate(bins):
        h = 140 * n / top
        x = 10 + i * step
        parts.append(
            f'<rect x="{x + 3:.1f}" y="{base - h:.1f}" width="{step - 6:.1f}" '
            f'height="{max(h, 1.5):.1f}" rx="3" fill="{color((i + 0.5) / 10)}">'
            f"<title>{i * 10} to {i * 10 + 9 if i < 9 else 100} %: {n}</title></rect>"
            f'<text x="{x + step / 2:.1f}" y="{base - h - 5:.1f}" font-size="11" '
            f'text-anchor="middle">{n or ""}</text>'
            f'<text x="{x + step / 2:.1f}" y="{base + 16}" font-size="11" fill="#667085" '
            f'text-anchor="middle">{i * 10}%</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def heatmap(outcomes: list[Outcome], manifest: Manifest, steps: list[int]) -> str:
    """Submissions x steps, each cell coloured by the share of the step's points earned."""
    label_w, cell_w, cell_h, head = 200, 58, 24, 30
    width = label_w + cell_w * len(steps) + 120
    height = head + cell_h * len(outcomes) + 6
    parts = [
        f'<svg class="chart heat" id="chart-heatmap" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="heatmap of submissions by step" xmlns="http://www.w3.org/2000/svg">'
    ]
    for j, number in enumerate(steps):
        parts.append(
            f'<text x="{label_w + cell_w * j + cell_w / 2}" y="18" font-size="12" '
            f'text-anchor="middle" fill="#667085">step {number}</text>'
        )
    parts.append(
        f'<text x="{label_w + cell_w * len(steps) + 12}" y="18" font-size="12" '
        'fill="#667085">total</text>'
    )
    for i, outcome in enumerate(outcomes):
        y = head + i * cell_h
        name = outcome.submission.name
        link = f"{escape(name)}/report.html"
        parts.append(
            f'<a href="{link}"><text x="{label_w - 10}" y="{y + 16}" font-size="12" '
            f'text-anchor="end" fill="#3457d5">{escape(name[:28])}</text></a>'
        )
        for j, number in enumerate(steps):
            possible = manifest.step(number).points
            earned = step_points(outcome.report, number)
            fill = "#d0d5dd" if earned is None else color(earned / possible if possible else 0)
            tip = f"{name} · step {number}: " + (
                "not graded" if earned is None else f"{earned}/{possible}"
            )
            parts.append(
                f'<a href="{link}"><rect x="{label_w + cell_w * j + 1}" y="{y + 1}" '
                f'width="{cell_w - 2}" height="{cell_h - 2}" rx="4" fill="{fill}">'
                f"<title>{escape(tip)}</title></rect></a>"
            )
        mark = "" if outcome.status == OK else f" · {outcome.status}"
        parts.append(
            f'<text x="{label_w + cell_w * len(steps) + 12}" y="{y + 16}" font-size="12" '
            f'fill="#1d2433">{percent(outcome):.0f}%{escape(mark)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _score_bar(share: float) -> str:
    return f'<div class="bar"><i style="width:{share:.0%};background:{color(share)}"></i></div>'


def dashboard(outcomes: list[Outcome], manifest: Manifest, stats: ClassStats, title: str) -> str:
    """The whole class dashboard as one HTML document."""
    labels = [f"Step {n}" for n in stats.steps]
    cards = "".join(
        f'<div class="card"><b>{value}</b><span>{label}</span></div>'
        for value, label in [
            (stats.submissions, "submissions"),
            (f"{stats.mean_percent}%", "mean score"),
            (f"{stats.median_percent}%", "median score"),
            (stats.full_marks, "with full marks"),
            (stats.submissions - stats.graded, "grading problems (hang, crash, …)"),
        ]
    )
    steps_table = "".join(
        f"<tr><td>{n}</td><td>{escape(manifest.step(n).title)}</td>"
        f'<td class="num">{manifest.step(n).points}</td>'
        f'<td class="num">{stats.step_complete[n]:.0%}</td>'
        f'<td class="num">{stats.step_mean[n]:.0%}</td>'
        f"<td>{_score_bar(stats.step_mean[n])}</td></tr>"
        for n in stats.steps
    )
    failing = (
        "".join(
            f'<tr><td class="num">{c.count}</td><td>{c.step}</td><td><code>{escape(c.name)}</code>'
            f'<div class="hint">{escape(c.message[:300])}</div></td>'
            f'<td><a href="{escape(c.docs)}">{escape(c.deliverable)} docs</a></td></tr>'
            for c in stats.failing
        )
        or '<tr><td colspan="4">No check failed. 🎉</td></tr>'
    )
    rows = "".join(
        f'<tr><td><a href="{escape(o.submission.name)}/report.html">{escape(o.submission.name)}'
        f'</a></td><td class="num">'
        f"{o.report['points'] if o.report else '—'}/{o.report['max_points'] if o.report else '—'}"
        f'</td><td class="num">{percent(o)}%</td><td>{_score_bar(percent(o) / 100)}</td>'
        f'<td><span class="badge {escape(o.status)}">{escape(o.status)}</span>'
        f"{MODIFIED_BADGE if tests_modified(o.report) else ''}</td>"
        f'<td class="hint">{escape(o.detail[:200])}</td><td class="num">{o.duration:.0f} s</td>'
        f"</tr>"
        for o in outcomes
    )
    body = f"""
<header><h1>{escape(title)}</h1><p>{escape(manifest.title)} · steps
{", ".join(str(n) for n in stats.steps)} · gradebook.csv and summary.md sit next to this page</p>
</header>
<main>
<div class="cards">{cards}</div>
<div class="grid2">
<section><h2>Pass rate per step</h2><p class="lead">Share of the class with full marks on the
step, and the mean share of its points.</p>
{
        bar_chart(
            labels,
            [
                ("full marks", [stats.step_complete[n] for n in stats.steps], "#3457d5"),
                ("mean score", [stats.step_mean[n] for n in stats.steps], "#9db0f0"),
            ],
            "chart-steps",
        )
    }</section>
<section><h2>Score distribution</h2><p class="lead">Submissions per score band.</p>
{histogram(outcomes)}</section>
</div>
<section><h2>Where the class is stuck</h2><p class="lead">Every submission (rows) on every step
(columns): green is full marks, red is nothing yet, grey is not graded. Click a row for the
submission's report.</p>{heatmap(outcomes, manifest, stats.steps)}</section>
<div class="grid2">
<section><h2>Pass rate per deliverable</h2><p class="lead">Share of the class with full marks on
each deliverable.</p>{deliverable_chart(manifest, stats)}</section>
<section><h2>Steps</h2><p class="lead">Points, full marks and mean score per step.</p>
<table><thead><tr><th>#</th><th>step</th><th class="num">points</th><th class="num">full</th>
<th class="num">mean</th><th></th></tr></thead><tbody>{steps_table}</tbody></table></section>
</div>
<section><h2>Most common failing checks</h2><p class="lead">What to explain again in class: the
checks that failed for the most submissions, with the hint learners saw.</p>
<table><thead><tr><th class="num">failed for</th><th>step</th><th>check and hint</th>
<th>read</th></tr></thead><tbody>{failing}</tbody></table></section>
<section><h2>Submissions</h2>
<input type="search" placeholder="Filter submissions…" data-filter="#submissions">
<table id="submissions"><thead><tr><th>name</th><th class="num">points</th>
<th class="num">score</th><th></th><th>grading</th><th>note</th><th class="num">time</th></tr>
</thead><tbody>{rows}</tbody></table></section>
<footer>Generated by <code>nox -s grade</code>. Self-contained: no network needed.</footer>
</main>"""
    return _page(title, body, script=FILTER_JS)


def submission_page(outcome: Outcome, manifest: Manifest) -> str:
    """One submission's report: steps, deliverables with their first hint, failed checks."""
    name = outcome.submission.name
    report: dict[str, Any] = outcome.report or {}
    steps = "".join(
        f"<tr><td><b>{s['number']} · {escape(s['title'])}</b></td>"
        f'<td class="num">{s["points"]}/{s["max_points"]}</td>'
        f"<td>{_score_bar(s['points'] / s['max_points'] if s['max_points'] else 0)}</td>"
        f'<td><span class="badge {s["status"]}">{s["status"]}</span></td><td></td></tr>'
        + "".join(
            f"<tr><td>&nbsp;&nbsp;{escape(d['key'])} {escape(d['title'])}</td>"
            f'<td class="num">{d["points"]}/{d["max_points"]}</td><td></td>'
            f'<td><span class="badge {d["status"]}">{d["status"]}</span></td>'
            f'<td class="hint">{escape(d["first_failure"] or "")}'
            + (f' <a href="{escape(d["docs"])}">read</a>' if d["first_failure"] else "")
            + "</td></tr>"
            for d in s["deliverables"]
        )
        for s in report.get("steps", [])
    )
    failed = [t for t in report.get("tests", []) if t["status"] in ("fail", "error")]
    checks = (
        "".join(
            f"<tr><td>{t['step']}</td><td><code>{escape(t['name'])}</code>"
            f'<div class="hint">{escape(t["message"] or "")}</div>'
            + (
                f"<details><summary>output</summary><pre>{escape(t['output'][:5000])}</pre></details>"
                if t.get("output")
                else ""
            )
            + f'</td><td><a href="{escape(t["docs"])}">docs</a></td></tr>'
            for t in failed
        )
        or '<tr><td colspan="3">Every check passed.</td></tr>'
    )
    total = (
        f"{report['points']}/{report['max_points']} points · {report['percent']}%"
        if report
        else "no report"
    )
    problem = (
        f'<section><h2>Grading problem: {escape(outcome.status)}</h2><p class="hint">'
        f"{escape(outcome.detail)}</p></section>"
        if outcome.status != OK
        else ""
    )
    body = f"""
<header><h1>{escape(name)}</h1><p>{escape(total)} · grading
<span class="badge {escape(outcome.status)}">{escape(outcome.status)}</span> ·
{outcome.duration:.0f} s · <a style="color:#fff" href="../dashboard.html">← class dashboard</a>
</p></header>
<main style="padding-top:24px">{problem}
<section><h2>Steps and deliverables</h2><table><tbody>{steps}</tbody></table></section>
<section><h2>Failed checks ({len(failed)})</h2>
<table><tbody>{checks}</tbody></table></section>
<section><h2>Files</h2><p><a href="grade-report.json">grade-report.json</a> ·
<a href="junit.xml">junit.xml</a> · <a href="pytest.log">pytest.log</a> ·
<a href="grader.log">grader.log</a></p></section>
</main>"""
    return _page(f"{name} · grade report", body)


def write_pages(
    outcomes: list[Outcome], manifest: Manifest, stats: ClassStats, out_dir: Path, title: str
) -> Path:
    """Write `dashboard.html` and every `<name>/report.html`; return the dashboard's path."""
    for outcome in outcomes:
        outcome.out_dir.mkdir(parents=True, exist_ok=True)
        page = submission_page(outcome, manifest)
        (outcome.out_dir / "report.html").write_text(page, encoding="utf-8")
    path = out_dir / "dashboard.html"
    path.write_text(dashboard(outcomes, manifest, stats, title), encoding="utf-8")
    return path
