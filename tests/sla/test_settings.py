"""``[sla]``: validated with the rest of the config, every mistake named with its fix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from connectors.sandbox.config import write_sandbox_config
from sync_agent.config import load_config
from sync_agent.errors import ConfigError
from sync_agent.model import SlaActionKind

INFO = {"hubspot_url": "http://127.0.0.1:1234", "salesforce_url": "https://127.0.0.1:1235",
        "hubspot_token": "sla-test-token-7c1e", "salesforce_session_id": "sla-test-session-7c1e"}


def _load(tmp_path: Path, sla: str):
    path, _ = write_sandbox_config(INFO, tmp_path / "sync-agent.toml")
    path.write_text(path.read_text() + "\n" + sla)
    return load_config(path, environ={})


def test_no_table_no_watch_and_a_full_table_loads(tmp_path: Path) -> None:
    assert _load(tmp_path, "").sla is None
    config = _load(tmp_path, """
[sla]
hours = 8
business_hours = "09:00-17:00"
time_zone = "Europe/Berlin"
weekdays = ["mon", "tue", "wed", "thu", "fri"]
holidays = [2026-12-25, "2026-12-28"]
actions = ["mark", "escalate", "reassign"]
[sla.escalate_to]
salesforce = "005000000000001AAA"
[sla.reassign_to]
salesforce = "00G000000000001AAA"
hubspot = "90001"
""")
    sla = config.sla
    assert sla is not None and sla.hours == 8 and sla.kinds() == tuple(SlaActionKind)
    assert sla.holidays == [date(2026, 12, 25), date(2026, 12, 28)]
    cal = sla.calendar()
    assert cal.weekdays == frozenset(range(5)) and date(2026, 12, 28) in cal.holidays


def test_every_mistake_is_reported_with_its_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, """
[sla]
hour = 8
time_zone = "Europe/Berlinn"
business_hours = "9-17"
weekdays = ["monday"]
actions = ["escalte"]
[sla.escalate_to]
salesforc = "005000000000001AAA"
""")
    text = "\n".join(str(p) for p in info.value.problems)
    for expected in (
        "sla.hour: unknown key 'hour' (hint: did you mean 'hours'?)",
        "unknown time zone 'Europe/Berlinn'",
        'opening and closing time, 24-hour clock: "09:00-17:00"',
        "did you mean 'mon'?",
        "did you mean 'escalate'?",
        "sla.escalate_to.salesforc: no connector instance named 'salesforc' "
        "(hint: did you mean 'salesforce'?)",
    ):
        assert expected in text, (expected, text)
    assert all(p.line for p in info.value.problems), "each problem names its line"


def test_reassign_needs_an_owner_and_hours_must_open_before_they_close(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="problem") as info:
        _load(tmp_path, '[sla]\nactions = ["reassign"]\nbusiness_hours = "17:00-09:00"\n')
    text = "\n".join(str(p) for p in info.value.problems)
    assert "closes before it opens" in text
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, '[sla]\nactions = ["reassign"]\n')
    assert "the reassign action needs a new owner" in str(info.value.problems[0])


def test_the_example_config_sla_block_is_valid_once_uncommented(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    text = (repo / "config.example.toml").read_text()
    start = text.index("# [sla]\n")
    block = text[start : text.index("\n\n", start)]
    sla = "\n".join(line[2:] for line in block.splitlines())
    config = _load(tmp_path, sla)
    assert config.sla is not None and config.sla.kinds() == (SlaActionKind.MARK,
                                                             SlaActionKind.ESCALATE)
    assert config.sla.calendar().zone.key == "Europe/Berlin"  # type: ignore[attr-defined]
