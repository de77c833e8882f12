"""``sync-agent report --html``: one private, self-contained file whose charts render offline.

The plotted numbers are read back from the page's chart specs and compared with figures
computed independently (``report_expected.py``); then a real headless Chromium opens the
file with every network request refused and checks that each chart drew its marks and the
console stayed clean. ``REPORT_SCREENSHOT=docs/report-screenshot.png`` also saves a picture.
"""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from loop_expected import expected_loop
from report_expected import expected, load

from sync_agent.cli import main

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND",  # no name resolves: nothing leaves the machine
]


@pytest.fixture(scope="module")
def page_file(report_world, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text("an older file, world-readable")
    path.chmod(0o644)
    args = ["report", "--config", str(report_world.config.path), "--html", str(path)]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "MQL→SAL rate" in out.stdout, "the text report still goes to the terminal"
    return path


def _specs(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="sal-charts">(.*?)</script>', html, re.S)
    assert found
    return json.loads(found.group(1))


def _values(spec: Any) -> list[list[dict[str, Any]]]:
    """Each inline dataset of a spec (``{"values": [...]}`` anywhere in it, or ``datasets``)."""
    if isinstance(spec, list):
        return [v for item in spec for v in _values(item)]
    if not isinstance(spec, dict):
        return []
    found = [spec["values"]] if isinstance(spec.get("values"), list) else []
    found += list(spec.get("datasets", {}).values())
    return found + [v for k, item in spec.items() if k != "datasets" for v in _values(item)]


def test_the_file_is_private_and_self_contained(page_file: Path) -> None:
    assert stat.S_IMODE(page_file.stat().st_mode) == 0o600
    html = page_file.read_text()
    markup = re.sub(r"(<script[^>]*>).*?</script>", r"\1</script>", html, flags=re.S)
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", markup), "nothing to fetch"
    assert "vegaEmbed" in html and len(html) < 2_000_000


def test_the_charts_plot_the_independently_counted_figures(report_world, page_file) -> None:
    specs = _specs(page_file.read_text())
    assert set(specs) == {"funnel", "rate", "reasons", "checks", "time-to-sal"}
    want = expected(*load(report_world.config.audit_db))
    [funnel] = _values(specs["funnel"])
    assert [r["leads"] for r in funnel] == [want.mqls, want.sals, want.review, want.rejected]
    [reasons] = _values(specs["reasons"])
    assert {r["reason"]: r["leads"] for r in reasons} == dict(want.by_reason)
    rate = next(v for v in _values(specs["rate"]) if v and "rate_pct" in v[0])
    bands = next(v for v in _values(specs["rate"]) if v and "low" in v[0])
    assert sorted((b["low"], b["high"]) for b in bands) == [(5, 15), (20, 30)]
    weeks = report_world.week_starts
    week = weeks[1] - weeks[0]
    for row in rate:  # every plotted week against a count of that week's decisions alone
        begin = _midnight(row["start"])
        got = expected(*load(report_world.config.audit_db), since=begin, until=begin + week)
        assert (row["mqls"], row["sals"]) == (got.mqls, got.sals)
        assert row["rate_pct"] == round(100 * got.sals / got.mqls, 1)
    [times] = _values(specs["time-to-sal"])
    assert sum(r["leads"] for r in times) == len(want.hours_to_sal)


def _midnight(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def test_every_chart_renders_offline_in_chromium(page_file: Path, tmp_path: Path) -> None:
    state, charts = _open_in_chromium(page_file, tmp_path, os.environ.get("REPORT_SCREENSHOT"))
    assert state["failed"] == [] and len(state["rendered"]) == len(charts) == 5
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 60, chart
        assert chart["marks"] >= chart["expected"] > 0, chart


@pytest.fixture(scope="module")
def loop_page(loop_world, tmp_path_factory) -> Path:
    """The page of a log whose handoffs sales has worked (outcomes read back)."""
    path = tmp_path_factory.mktemp("html-loop") / "report.html"
    args = ["report", "--config", str(loop_world.config_path), "--html", str(path)]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    return path


def test_the_sales_follow_up_charts_plot_the_independent_figures(loop_world, loop_page) -> None:
    html = loop_page.read_text()
    specs = _specs(html)
    assert set(specs) == {"funnel", "rate", "reasons", "checks", "time-to-sal", "sales",
                          "sla-owner", "sla-source"}  # fmt: skip
    want = expected_loop(loop_world.db)
    f = want["funnel"]
    [stages] = _values(specs["sales"])
    assert [r["leads"] for r in stages] == [
        f["sals"],
        f["first_touched"],
        f["sql"],
        f["opportunity"],
        f["rejected"],
        f["recycled"],
    ]
    [owners] = _values(specs["sla-owner"])
    plotted = {(r["group"], r["state"]): r["leads"] for r in owners}
    for owner, a in list(f["sla_by_owner"].items()):
        for state in ("met", "breached", "pending"):
            assert plotted.get((owner, state), 0) == a[state]
    assert 'id="feedback"' in html and "criterion readiness &lt; half" in html


def test_the_sales_follow_up_renders_offline_in_chromium(loop_page: Path, tmp_path: Path) -> None:
    state, charts = _open_in_chromium(loop_page, tmp_path, os.environ.get("LOOP_SCREENSHOT"))
    assert state["failed"] == [] and len(state["rendered"]) == len(charts) == 8
    for chart in charts:
        assert chart["width"] > 300 and chart["height"] > 60, chart
        assert chart["marks"] >= chart["expected"] > 0, chart


def _open_in_chromium(
    page_file: Path, tmp_path: Path, screenshot: str | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Open the page in headless Chromium with the network refused; what the charts drew.
    The console must stay clean and nothing but the file itself may be requested."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's package "
            "(apt-get install chromium; .ci/run does) or set CHROMIUM=/path/to/chromium"
        )
    from playwright import sync_api  # a dev dependency: missing it fails, never skips

    problems: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user-data-dir
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 900, "height": 1200},
        )
        try:
            context.route(re.compile(r"^(?!file:).*"), lambda route: route.abort())
            page = context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(page_file.as_uri())
            page.wait_for_function("window.salReport && window.salReport.done", timeout=15_000)
            state = page.evaluate("window.salReport")
            charts = page.evaluate(
                """() => [...document.querySelectorAll('.chart')].map(div => {
                    const svg = div.querySelector('svg');
                    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
                    return {id: div.id, expected: Number(div.dataset.marks),
                            marks: div.querySelectorAll('g.role-mark > path').length,
                            width: box.width, height: box.height};
                })"""
            )
            if screenshot:
                page.screenshot(path=screenshot, full_page=True)
        finally:
            context.close()
    assert problems == [], "the console shows no error"
    assert requests == [page_file.as_uri()], "the page fetched nothing but itself"
    return state, charts
