"""One vocabulary: every state, outcome and kind named in SQL is a value of its enum.

The audit log's SQL compares columns with quoted words (``state = 'dead'``). A word that is
not the enum's value (a typo, an old name after a rename) matches nothing, silently; this
test reads every such comparison in the library and the connectors.
"""

from __future__ import annotations

import re
from pathlib import Path

from sync_agent.engine.run import EXIT_CODES
from sync_agent.model import HandoffStatus, Outcome, OutcomeKind, WriteState

ROOT = Path(__file__).resolve().parents[1]
#: Column name -> the words it may hold. Some names are shared by tables: ``status`` is a
#: handoff's (``decisions``) or a backfill's (``backfills``: running | done); ``outcome`` a
#: decision's or a run's (the keys of ``EXIT_CODES``); ``kind`` an outcome event's or a
#: cursor's (``run``, ``dry-run`` or a backfill's own, never quoted in SQL).
VOCABULARY = {
    "state": {s.value for s in WriteState},
    "status": {s.value for s in HandoffStatus} | {"running", "done"},
    "outcome": {o.value for o in Outcome} | set(EXIT_CODES),
    "kind": {k.value for k in OutcomeKind} | {"run"},
}
#: Migrations speak the historical words they convert (v1's ``'failed'``).
SKIPPED = {"migrations.py"}
#: ``d.state = 'x'``, ``state <> 'x'``, ``outcome IN ('a', 'b')`` (inside SQL text)
COMPARISON = re.compile(
    r"\b(?:\w+\.)?(state|status|outcome|kind)\s*(?:=|<>|!=|\bIN\s*\()\s*((?:'[a-z_]+'\s*,?\s*)+)"
)


def test_every_word_sql_compares_a_state_with_is_in_the_enum() -> None:
    found: list[tuple[str, str, str]] = []
    wrong: list[str] = []
    for path in sorted([*ROOT.glob("sync_agent/**/*.py"), *ROOT.glob("connectors/**/*.py")]):
        if "sandbox" in path.parts or path.name in SKIPPED:
            continue  # the emulator speaks the vendors' words, not ours
        text = path.read_text(encoding="utf-8")
        for match in COMPARISON.finditer(text):
            column = match.group(1)
            for word in re.findall(r"'([a-z_]+)'", match.group(2)):
                found.append((str(path.relative_to(ROOT)), column, word))
                if word not in VOCABULARY[column]:
                    line = text.count("\n", 0, match.start()) + 1
                    wrong.append(f"{path.relative_to(ROOT)}:{line}: {column} '{word}'")
    assert len(found) > 10, "the pattern still finds the SQL comparisons"
    assert wrong == []
