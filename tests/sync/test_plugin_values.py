"""A plugin source is a stranger too: whatever its records carry, the run goes on.

The built-in connectors bound and clean values in their mapping; a third-party connector
may hand the engine anything a JSON answer can hold, including a lone surrogate (``"\\ud800"``
is valid JSON text and no UTF-8 output accepts it)."""

from __future__ import annotations

from sync_agent.audit import AuditLog
from sync_agent.engine import run_once


def test_a_lone_surrogate_from_a_plugin_source_neither_crashes_nor_is_lost(make_config, worlds):
    src, crm = worlds
    src.add("1", 80, minute=1, company="Acme \ud800 GmbH")
    src.add("2", 80, minute=2, **{"first\udc00name": "x"})
    src.add("3", 80, minute=3)
    config = make_config()
    [summary] = run_once(config)
    assert summary.outcome == "ok" and summary.decided == 3
    assert set(crm.sal) == {"1", "2", "3"}
    with AuditLog.open(config.audit_db) as log:
        rows = {r["lead_key"]: r for r in log.list_decisions(limit=None)}
    assert len(rows) == 3


def test_json_output_prints_a_lone_surrogate_as_a_replacement_character(capsysbinary):
    from sync_agent.cli.options import echo_json

    echo_json({"company": "Acme \ud800"})
    assert "Acme \ufffd" in capsysbinary.readouterr().out.decode("utf-8")
