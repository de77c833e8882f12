"""The SAL report: MQL→SAL conversion against the benchmark bands, rejections by reason and
by check, time from MQL date to SAL, and where accepted leads stand with each CRM; once
outcomes are read back, what sales did with the SALs (:mod:`.loop` reads them, :mod:`.funnel`
and :mod:`.feedback` count SAL→SQL, velocity, SLA attainment and the feedback per rule).

Library first: :func:`build_report` computes a :class:`Report` from the audit log (SQL,
one row per lead); :func:`render_text` renders it as text, and
:func:`sync_agent.report.html.write_html` as one self-contained HTML page (a module of its
own, imported on demand: it loads Altair). ``sync-agent report`` only picks one.
``docs/report.md`` explains how leads are counted.
"""

from sync_agent.report.benchmarks import BANDS, MISALIGNMENT_BELOW, advise, assess
from sync_agent.report.build import build_report
from sync_agent.report.figures import Period, Report, Section, SinkWrites, TimeToSal
from sync_agent.report.text import render_text

__all__ = [
    "BANDS",
    "MISALIGNMENT_BELOW",
    "Period",
    "Report",
    "Section",
    "SinkWrites",
    "TimeToSal",
    "advise",
    "assess",
    "build_report",
    "render_text",
]
