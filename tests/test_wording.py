"""User-facing text speaks the admin's language: the research notes behind the product
("seed 001", "seeds 002, 004") are cited in docs for maintainers, never shown to users."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JARGON = re.compile(r"\bseeds? ?0\d\d", re.IGNORECASE)


def test_no_seed_numbers_in_what_users_read() -> None:
    places = [*ROOT.joinpath("sync_agent").rglob("*.py"),
              *ROOT.joinpath("connectors").rglob("*.py"),
              *ROOT.joinpath("rules").rglob("*.toml"), ROOT / "config.example.toml"]
    found = [f"{p.relative_to(ROOT)}:{n}" for p in places
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if JARGON.search(line)]  # fmt: skip
    assert found == []
