"""``check_targets``: the SAL properties the sink writes, checked against the sandbox portal
through the real SDK client before any write."""

from __future__ import annotations

from typing import Any

from hubspot.crm.properties import PropertyCreate

from connectors.base import Instance, MemoryState, TargetProblem
from connectors.hubspot import CONNECTOR, HubSpotSettings, build_client
from connectors.hubspot.setup import setup_properties
from connectors.sandbox import Sandbox


def instance(sb: Sandbox, state: MemoryState | None = None, **options: Any) -> Instance:
    info = sb.info()
    settings = HubSpotSettings.from_options({"base_url": info["hubspot_url"], **options})
    secrets = {"HUBSPOT_ACCESS_TOKEN": info["hubspot_token"]}
    return Instance("hubspot", CONNECTOR, settings, secrets, state or MemoryState())


def check(inst: Instance, refresh: bool = False) -> list[TargetProblem]:
    assert CONNECTOR.check_targets is not None
    return CONNECTOR.check_targets(inst, refresh)


def setup(inst: Instance) -> None:
    client = build_client(inst.settings, inst.secrets)
    setup_properties(client, client.settings)
    client.close()


def test_missing_sal_properties_are_named_with_the_setup_command_then_none_once_created() -> None:
    with Sandbox(contacts=5, seed=2) as sb:
        inst = instance(sb)
        missing = check(inst)
        setup(inst)
        after = check(inst, refresh=True)
    # (the sandbox's notes have sal_handoff_key already: only the contact ones are missing)
    assert [p.option for p in missing] == [("sal", k) for k in
                                           ("status", "score", "reason", "decided_at",
                                            "handoff_key", "sla_status")]  # fmt: skip
    # only the SLA watch's mark action writes sal_sla_status: missing, it is a warning
    assert [p.severity for p in missing] == ["error"] * 5 + ["warning"]
    assert missing[0].message == "the portal has no contact property 'sal_status'"
    assert all("sync-agent hubspot setup-properties" in p.hint for p in missing)
    assert after == []


def test_a_status_value_the_enumeration_lacks_is_an_error_with_a_did_you_mean() -> None:
    with Sandbox(contacts=5, seed=2) as sb:
        setup(instance(sb))
        [problem] = check(instance(sb, status_values={"review": "reviw"}))
    assert problem.option == ("status_values", "review") and problem.severity == "error"
    assert problem.message == ("'reviw' is not an option of 'sal_status': HubSpot refuses "
                               "the write of every review lead")
    assert problem.hint.startswith("did you mean 'review'? options: accepted, rejected, review")


def test_a_property_of_another_type_or_one_only_hubspot_sets_is_named() -> None:
    with Sandbox(contacts=5, seed=2) as sb:
        inst = instance(sb)
        client = build_client(inst.settings, inst.secrets)
        client.create_property("contacts", PropertyCreate(
            name="sal_score", label="SAL score", type="string", field_type="text",
            group_name="contactinformation"))  # fmt: skip
        client.close()
        setup(inst)
        wrong_type = check(inst)
        read_only = check(instance(sb, sal={"score": "hubspotscore"}))
    [typed] = wrong_type
    assert typed.option == ("sal", "score")
    assert typed.message == "'sal_score' is a string property; the agent writes a number value"
    [calculated] = read_only
    assert calculated.message == "'hubspotscore' is set by HubSpot only: the agent cannot write it"


def test_advance_stage_must_be_a_lifecycle_stage_of_the_portal() -> None:
    with Sandbox(contacts=5, seed=2) as sb:
        setup(instance(sb))
        [problem] = check(instance(sb, stage_order=["lead", "sql"], advance_stage="sql"))
    assert problem.option == ("advance_stage",)
    assert problem.message == "'sql' is not a lifecycle stage of the portal"
    assert "salesqualifiedlead" in problem.hint


def test_the_described_schema_says_where_each_canonical_field_is_read_from() -> None:
    """Company first where preferred, the contact's property when the company has no value,
    the option that maps each; the retired score names the portal's current ones (not the
    agent's own sal_score, a number property with "score" in its name)."""
    with Sandbox(contacts=5, seed=2) as sb:
        inst = instance(sb, field_map={"lead_score": "hubspotscore"})
        setup(inst)
        assert CONNECTOR.describe is not None
        schema = CONNECTOR.describe(inst, False)
    assert schema.canonical["employees"] == ("company", "numberofemployees")
    assert schema.fallback["employees"] == ("hubspot", "numemployees")
    assert schema.mapped_by["employees"] == ("prefer_company", "employees")
    assert schema.mapped_by["lead_score"] == ("field_map", "lead_score")
    retired = schema.types_for("hubspot")["hubspotscore"]
    assert retired.retired and retired.instead == (
        "example_combined_score", "example_engagement_score", "example_fit_score")


def test_the_outcome_read_back_settings_are_checked_against_the_portal() -> None:
    """A reason property or a lead status the portal lacks is a warning with a did-you-mean:
    the batch read skips what does not exist, so that reason or outcome is never seen."""
    with Sandbox(contacts=5, seed=2) as sb:
        inst = instance(sb, outcomes={"rejection_reason_property": "sales_rejection_reasons",
                                      "recycled_statuses": ["BAD_TIMNG"]})
        setup(inst)
        found = {p.option: p for p in check(inst)}
        fine = check(instance(sb, outcomes={
            "rejection_reason_property": "sales_rejection_reason"}), refresh=True)
    reason = found.pop(("outcomes", "rejection_reason_property"))
    status = found.pop(("outcomes", "recycled_statuses"))
    assert found == {} and fine == []
    assert (reason.severity, status.severity) == ("warning", "warning")
    assert "did you mean 'sales_rejection_reason'" in reason.hint
    assert "did you mean 'BAD_TIMING'" in status.hint
