"""The report as plain text for a terminal (``sync-agent report``)."""

from __future__ import annotations

from collections.abc import Callable

from sync_agent.errors import ConfigError
from sync_agent.registry import installed
from sync_agent.report.benchmarks import describe_bands
from sync_agent.report.figures import Report, Section, SinkWrites
from sync_agent.report.loop_text import render_loop

COUNTING = (
    "Each lead counts once, by its latest decision in the window; a lead accepted at any "
    "time counts as a SAL. Dry runs never count."
)


def render_text(report: Report) -> str:
    """Overall figures, then one block per pipeline and per source when there are several."""
    lines = [f"SAL report: {window(report)} (generated {report.generated_at[:16]} UTC)"]
    lines += [COUNTING, describe_bands() + "."]
    blocks = [("All pipelines", report.overall)]
    same = [note for note in (_single("pipeline", report.pipelines),
                              _single("source", report.sources)) if note]  # fmt: skip
    if same:
        text = " and ".join(same)
        lines.append(text[0].upper() + text[1:] + ": the figures below are theirs.")
    if len(report.pipelines) > 1:
        blocks += [(f"Pipeline {k}", v) for k, v in report.pipelines.items()]
    if len(report.sources) > 1:
        blocks += [(f"Source {k}", v) for k, v in report.sources.items()]
    for title, section in blocks:
        lines += ["", title, *render_section(section)]
    lines += render_loop(report)
    return "\n".join(lines) + "\n"


def window(report: Report) -> str:
    if report.since and report.until:
        return f"decisions from {report.since[:10]} until {report.until[:10]} (exclusive)"
    if report.since:
        return f"decisions since {report.since[:10]}"
    if report.until:
        return f"decisions until {report.until[:10]} (exclusive)"
    return "all decisions"


def _single(dim: str, slices: dict[str, Section]) -> str:
    return f"one {dim} ({next(iter(slices))})" if len(slices) == 1 else ""


def render_section(s: Section) -> list[str]:
    rate = f"{s.rate_pct:.1f} %" if s.rate_pct is not None else "n/a"
    again = (
        f" ({s.decisions} decisions: {s.redecided} leads were decided more than once)"
        if s.redecided
        else ""
    )
    lines = [
        f"  MQLs evaluated: {s.mqls} leads{again}",
        f"  SALs: {s.sals}, review: {s.review}, rejected: {s.rejected}",
        f"  MQL→SAL rate: {rate} ({s.assessment})",
    ]
    if s.advice:
        lines.append(f"  Advice: {s.advice}")
    lines.append(f"  MQL date → SAL: {time_to_sal(s)}")
    if s.rejections_by_reason:
        several = (
            f"; {s.several_reasons} have several reasons, so the counts add up to more"
            if s.several_reasons
            else ""
        )
        lines.append(f"  Rejections by reason ({s.rejected} leads{several}):")
        lines += _top(s.rejections_by_reason, str)
    if s.rejections_by_criterion:
        lines.append(
            "  Rejections by check (failed gates and disqualifiers; for the "
            f"{s.below_threshold} leads rejected on the score alone, the threshold and the "
            "criteria that earned no points):"
        )
        lines += _top(s.rejections_by_criterion, check_label)
    if s.writes:
        lines.append("  Write-back (each lead's latest write; a lead counts once per sink):")
        for sink, w in s.writes.items():
            lines += _sink_lines(sink, w)
    return lines


def time_to_sal(s: Section) -> str:
    t = s.time_to_sal
    if not t.sals or t.median_hours is None:
        return "n/a (no SAL with an MQL date in the window)"
    spread = (
        f"; half within {duration(t.p25_hours)} – {duration(t.p75_hours)}"
        if t.sals > 1 and t.p25_hours is not None and t.p75_hours is not None
        else ""
    )
    return f"median {duration(t.median_hours)}{spread} ({t.sals} SALs with an MQL date)"


def duration(hours: float | None) -> str:
    """Hours up to two days, days beyond."""
    if hours is None:
        return "n/a"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def check_label(key: str) -> str:
    kind, _, name = key.partition(":")
    if kind == "threshold":
        return f"score below the threshold ({name})"
    if kind == "criterion":
        return f"criterion {name}: no points"
    if kind == "gate":
        return f"gate {name} failed"
    return f"{kind} {name}"


def sink_name(sink: str) -> str:
    """A sink as people call it: the connector type's title when the instance is named
    after its type (the type "file" is called File), else the instance's own name."""
    try:
        return installed().get(sink).title
    except ConfigError:
        return sink


def _sink_lines(sink: str, w: SinkWrites) -> list[str]:
    parts = [f"{w.written} written"]
    if w.skipped:
        parts.append(f"{sum(w.skipped.values())} skipped ({_of(w.skipped)})")
    for count, label in ((w.pending, "waiting to be sent"),
                         (w.waiting, "waiting for the CRM record"),
                         (w.retryable, "being retried"), (w.dead, "dead letters")):  # fmt: skip
        if count:
            parts.append(f"{count} {label}")
    missing = w.sals_not_written_total
    sals = f"      accepted, not written to {sink_name(sink)}: {missing}"
    if missing:
        sals += f", of which {_of(w.sals_not_written)}"
    return [f"    {sink_name(sink)}: {w.leads} leads: " + ", ".join(parts), sals]


def _of(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in counts.items())


def _top(counts: dict[str, int], label: Callable[[str], str], n: int = 8) -> list[str]:
    return [f"    {count:6d}  {label(key)}" for key, count in list(counts.items())[:n]]
