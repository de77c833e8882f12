"""Vega-Lite chart specs for the HTML report, built with Altair.

Each function takes plain figures and returns a spec (a dict) with its data inline, so the
page needs no server and a test can read the plotted numbers straight from the spec.
Rendering happens in the browser with the Vega bundle that :mod:`.html` inlines.
"""

from __future__ import annotations

from typing import Any, Literal

import altair as alt

from sync_agent.report.benchmarks import BANDS, MISALIGNMENT_BELOW
from sync_agent.report.figures import TIME_BUCKETS, Period, Section
from sync_agent.report.funnel import Attainment, Funnel

WIDTH = 600  # the page is 860 px wide; bar charts leave room for their labels
BAR_WIDTH = 440
SAL_GREEN, REVIEW_AMBER, REJECT_GREY, MQL_BLUE = "#2e7d32", "#f9a825", "#9e9e9e", "#1565c0"
BAND_COLOURS = ("#66bb6a", "#42a5f5")


def funnel(s: Section) -> dict[str, Any]:
    """MQLs evaluated, and what became of them: SAL, review, rejected (leads)."""
    rows = [
        {"stage": "MQLs evaluated", "leads": s.mqls, "colour": MQL_BLUE},
        {"stage": "SALs (accepted)", "leads": s.sals, "colour": SAL_GREEN},
        {"stage": "review", "leads": s.review, "colour": REVIEW_AMBER},
        {"stage": "rejected", "leads": s.rejected, "colour": REJECT_GREY},
    ]
    return _bars(rows, "stage", "leads", colour="colour")


def ranked(counts: dict[str, int], label: str, top: int = 10) -> dict[str, Any]:
    """Horizontal bars, largest first (rejections by reason or by check)."""
    rows = [{label: k, "leads": n} for k, n in list(counts.items())[:top]]
    return _bars(rows, label, "leads", colour=None)


def _bars(
    rows: list[dict[str, Any]], category: str, value: str, *, colour: str | None
) -> dict[str, Any]:
    """Horizontal bars in the rows' order, each labelled with its value."""
    order = [r[category] for r in rows]
    base = alt.Chart(alt.Data(values=rows)).encode(
        y=alt.Y(f"{category}:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
        x=alt.X(f"{value}:Q", title=value, axis=alt.Axis(tickCount=5, tickMinStep=1)),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{value}:Q")],
    )  # fmt: skip
    bars = base.mark_bar(color=MQL_BLUE) if colour is None else base.mark_bar().encode(
        color=alt.Color(f"{colour}:N", scale=None))  # fmt: skip
    text = base.mark_text(align="left", dx=4).encode(text=f"{value}:Q")
    height = max(60, 28 * len(rows))
    return (bars + text).properties(width=BAR_WIDTH, height=height).to_dict()


def rate_over_time(periods: list[Period], step: Literal["day", "week"]) -> dict[str, Any]:
    """The MQL→SAL rate per period, over the benchmark bands (shaded) and the misalignment
    line; the tooltip gives each period's leads."""
    plotted = [p for p in periods if p.rate_pct is not None]
    rows = [
        {"start": p.start, "rate_pct": p.rate_pct, "mqls": p.mqls, "sals": p.sals,
         "review": p.review, "rejected": p.rejected}
        for p in plotted
    ]  # fmt: skip
    top = max([35.0, *((p.rate_pct or 0) + 5 for p in plotted)])
    y_scale = alt.Scale(domain=[0, top])
    bands = (
        alt.Chart(alt.Data(values=[{"low": lo, "high": hi, "band": f"{label} {lo:g}–{hi:g} %"}
                                   for lo, hi, label in BANDS]))
        .mark_rect(opacity=0.18)
        .encode(
            y=alt.Y("low:Q", scale=y_scale, title="MQL→SAL rate (%)"),
            y2="high:Q",
            color=alt.Color("band:N", title="benchmark band",
                            scale=alt.Scale(range=list(BAND_COLOURS))),
        )
    )  # fmt: skip
    rule = (
        alt.Chart(alt.Data(values=[{"y": MISALIGNMENT_BELOW}]))
        .mark_rule(color="#c62828", strokeDash=[6, 4])
        .encode(y=alt.Y("y:Q", scale=y_scale))
    )
    fmt = "%b %d" if step == "day" else "week of %b %d"
    line = (
        alt.Chart(alt.Data(values=rows))
        .mark_line(point=alt.OverlayMarkDef(size=60, filled=True), color=MQL_BLUE)
        .encode(
            x=alt.X(
                "start:T",
                title=None,
                scale=alt.Scale(padding=14),
                axis=alt.Axis(format="%b %d", tickCount=step),
            ),
            y=alt.Y("rate_pct:Q", scale=y_scale),
            tooltip=[
                alt.Tooltip("start:T", title=step, format=fmt),
                alt.Tooltip("rate_pct:Q", title="rate %"),
                alt.Tooltip("mqls:Q", title="MQLs"),
                alt.Tooltip("sals:Q", title="SALs"),
                alt.Tooltip("review:Q"),
                alt.Tooltip("rejected:Q"),
            ],
        )
    )
    return alt.layer(bands, rule, line).properties(width=WIDTH, height=260).to_dict()


def time_to_sal(buckets: dict[str, int]) -> dict[str, Any]:
    """How long leads took from their MQL date to acceptance, in TIME_BUCKETS."""
    order = [label for label, _ in TIME_BUCKETS]
    rows = [{"time": k, "leads": n} for k, n in buckets.items()]
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X("time:N", sort=order, title="MQL date → SAL", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("leads:Q", title="SALs"),
        tooltip=["time:N", "leads:Q"],
    )
    text = base.mark_text(dy=-6).encode(text="leads:Q")
    return (base.mark_bar(color=SAL_GREEN) + text).properties(width=WIDTH, height=220).to_dict()


BREACH_RED = "#c62828"
SLA_STATES = (("met", SAL_GREEN), ("breached", BREACH_RED), ("pending", REJECT_GREY))


def sales_funnel(f: Funnel) -> dict[str, Any]:
    """SALs, and how far sales took them: first touch, SQL, opportunity; rejected, recycled."""
    rows = [
        {"stage": "SALs", "leads": f.sals, "colour": MQL_BLUE},
        {"stage": "first touch", "leads": f.first_touched, "colour": MQL_BLUE},
        {"stage": "SQL", "leads": f.sql, "colour": SAL_GREEN},
        {"stage": "opportunity", "leads": f.opportunity, "colour": SAL_GREEN},
        {"stage": "rejected by sales", "leads": f.rejected, "colour": REJECT_GREY},
        {"stage": "recycled", "leads": f.recycled, "colour": REVIEW_AMBER},
    ]
    return _bars(rows, "stage", "leads", colour="colour")


def sla_stacked(groups: dict[str, Attainment], title: str) -> dict[str, Any]:
    """SLA met / breached / pending per group (owner, lead source), stacked, largest first."""
    order = list(groups)
    rows = [
        {"group": name, "state": state, "leads": getattr(a, state), "rank": i,
         "attainment": "n/a" if a.attainment_pct is None else f"{a.attainment_pct:g} %"}
        for name, a in groups.items()
        for i, (state, _) in enumerate(SLA_STATES)
        if getattr(a, state)
    ]  # fmt: skip
    chart = (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            y=alt.Y("group:N", sort=order, title=title, axis=alt.Axis(labelLimit=260)),
            x=alt.X("leads:Q", stack="zero", title="SALs", axis=alt.Axis(tickMinStep=1)),
            color=alt.Color("state:N", title="follow-up SLA", scale=alt.Scale(
                domain=[s for s, _ in SLA_STATES], range=[c for _, c in SLA_STATES])),
            order=alt.Order("rank:Q"),
            tooltip=[alt.Tooltip("group:N", title=title), "state:N", "leads:Q",
                     alt.Tooltip("attainment:N", title="attainment")],
        )
    )  # fmt: skip
    return chart.properties(width=BAR_WIDTH, height=max(60, 28 * len(order))).to_dict()
