"""Why a write was skipped or parked, grouped: the same reason with other ids is one reason.

Run summaries, the report and the audit views count leads by reason; "ambiguous: 2 leads
share this email" and "ambiguous: 3 leads share this email" must be one line there.
"""

from __future__ import annotations

import re

_REASON_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^ambiguous: \d+ leads share this email$"),
        "ambiguous: several leads share this email",
    ),
    (
        re.compile(r"^superseded by \S+ in the same batch$"),
        "superseded by a newer handoff in the same batch",
    ),
)
_ID_LIKE = re.compile(r"\b(?=[\w:-]*\d)[\w:-]{6,}\b")


def reason_label(error: str | None) -> str:
    """A skip reason without the ids and counts that would split it into many."""
    text = (error or "no reason recorded").strip()
    for pattern, label in _REASON_PATTERNS:
        if pattern.match(text):
            return label
    return _ID_LIKE.sub("…", text)
