"""Every size limit of the rules engine, in one place (docs/rules.md lists them too).

Rules and leads are text that people type: admins write rulesets, strangers fill in web
forms. Each limit keeps one of them from stalling a run or flooding a terminal, and is far
above anything a real ruleset or lead needs.
"""

from __future__ import annotations

from typing import Final

#: A ruleset, rule test or list file is read only up to this size (a bigger one is a
#: problem): reading ``/dev/zero`` or a huge file by mistake ends at once.
MAX_FILE_BYTES: Final = 4 * 1024 * 1024
#: A lead read by ``rules explain --lead`` (JSON).
MAX_LEAD_BYTES: Final = 16 * 1024 * 1024
#: ``matches``, ``contains`` and ``not_contains`` look at the first this many characters
#: of a lead's text (after trimming); the rest is ignored. Titles, sources and notes are
#: far shorter; a pasted essay cannot make one comparison slow.
MAX_TEXT_CHARS: Final = 10_000
#: Tables and arrays inside a ruleset or test file may nest this deep (a real ruleset
#: needs about 8); deeper is a problem, never a RecursionError.
MAX_NESTING: Final = 64
#: A list file's path (``[lists] name = "path"``) or a list name, in characters.
MAX_PATH_CHARS: Final = 200
#: ``rules explain`` and ``rules test`` show at most this many characters of a value;
#: longer ones end in an ellipsis and say how long they were (``--json`` keeps them whole).
MAX_SHOWN_CHARS: Final = 200
#: Problem messages quote what the admin wrote up to this many characters.
MAX_QUOTED_CHARS: Final = 120

# --- one property value, as a source sends it (connectors/mapping.py caps these before the
# --- rules, the fingerprint or the audit log see the value; docs/rules.md, "Limits")
#: Text longer than this is cut to its first this many characters: the longest text either
#: of the CRMs we read stores (131,072 characters; no real value is ever cut).
MAX_VALUE_CHARS: Final = 131_072
#: Lists and objects inside one value may nest this deep (a compound address is 1 level);
#: deeper makes the record malformed (JSON encoders recurse, and would fail later).
MAX_VALUE_DEPTH: Final = 16
#: Lists and objects inside one value may hold this many items in all; more: malformed.
MAX_VALUE_ITEMS: Final = 10_000
#: A number has at most this many digits (10^32 is far above any count or amount); longer
#: digit strings are text, which the rules read as "cannot read the value as a number".
MAX_NUMBER_DIGITS: Final = 32
#: A multi-select value is read up to its first this many options.
MAX_OPTIONS: Final = 1_000
