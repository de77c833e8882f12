"""Every installed connector honours the descriptor contract the core relies on."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from sync_agent.registry import installed

SPECS = installed().specs()


def test_the_built_in_connectors_are_installed_as_entry_points() -> None:
    assert {"hubspot", "salesforce", "file"} <= {spec.name for spec in SPECS}


TIMED = [s for s in SPECS if s.name in ("hubspot", "salesforce")]


@pytest.mark.parametrize("spec", TIMED, ids=lambda s: s.name)
def test_a_backfill_start_maps_to_the_cursor_and_back(spec) -> None:
    """``backfill --since`` becomes the connector's own cursor, which says where it stands."""
    since_ms = 1_767_603_600_123  # 2026-01-05T09:00:00.123Z
    position = spec.start_position(since_ms)
    assert position, f"{spec.name} has no start position for a backfill"
    assert spec.position_ms(position) == since_ms
    assert spec.position_ms({}) is None


def test_a_source_without_a_time_axis_starts_at_its_beginning() -> None:
    [spec] = [s for s in SPECS if s.name == "file"]
    assert spec.start_position(1_767_603_600_123) == {} and spec.position_ms({}) is None


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_a_spec_declares_what_the_core_needs(spec) -> None:
    assert spec.raw_prefix.isidentifier() and spec.raw_prefix == spec.raw_prefix.lower()
    assert issubclass(spec.settings, BaseModel)
    assert spec.settings.model_config.get("extra") == "forbid", "unknown keys must be refused"
    try:
        spec.settings.model_validate({})
    except ValidationError as exc:  # only options with no sensible default may be required
        assert {e["type"] for e in exc.errors()} == {"missing"}
    assert spec.roles, "a connector is a source, a sink, or both"
    assert all(name.isupper() for name in spec.secrets)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_only_sinks_check_write_back_targets_and_the_crm_sinks_do(spec) -> None:
    """``rules check --against`` and ``config check --connect`` ask each sink's
    ``check_targets``; the built-in CRM sinks and sources declare their schema."""
    assert spec.check_targets is None or "sink" in spec.roles
    if spec.name in ("hubspot", "salesforce"):
        assert spec.check_targets is not None and spec.describe is not None
