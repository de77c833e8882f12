"""The SAL report's public names where the audit package always exported them.

The report itself lives in :mod:`sync_agent.report` (figures, text, HTML); this module
keeps ``from sync_agent.audit.report import Report, build_report, render_text`` working.
"""

from sync_agent.report import (
    BANDS,
    MISALIGNMENT_BELOW,
    Period,
    Report,
    Section,
    SinkWrites,
    TimeToSal,
    advise,
    assess,
    build_report,
    render_text,
)

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
