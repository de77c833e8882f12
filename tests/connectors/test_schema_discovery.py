"""Schema discovery against the sandbox, through the real SDKs: what each system declares,
kept between runs, asked again on request, and never blocking a run when it is down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import Instance, MemoryState
from connectors.hubspot import CONNECTOR as HUBSPOT
from connectors.hubspot.settings import HubSpotSettings
from connectors.salesforce import CONNECTOR as SALESFORCE
from connectors.salesforce.settings import SalesforceSettings
from connectors.sandbox import Sandbox
from connectors.sandbox.hubspot_catalog import SCORE_PROPERTIES
from connectors.schema_cache import cached_answers
from sync_agent.errors import RetriableError


@pytest.fixture(scope="module")
def sb():
    with Sandbox(contacts=20, seed=3) as sandbox:
        yield sandbox


def hubspot_instance(sb: Sandbox, state: MemoryState, **options) -> Instance:
    info = sb.info()
    settings = HubSpotSettings.coerce({"base_url": info["hubspot_url"], "max_attempts": 1,
                                       **options})
    return Instance("hubspot", HUBSPOT, settings, {"HUBSPOT_ACCESS_TOKEN": info["hubspot_token"]},
                    state)


def salesforce_instance(sb: Sandbox, state: MemoryState) -> Instance:
    info = sb.info()
    settings = SalesforceSettings.coerce({"instance_url": info["salesforce_url"],
                                          "login_url": info["salesforce_url"],
                                          "ca_bundle": info["ca_bundle"]})
    secrets = {"SALESFORCE_CLIENT_ID": info["salesforce_client_id"],
               "SALESFORCE_CLIENT_SECRET": info["salesforce_client_secret"]}
    return Instance("salesforce", SALESFORCE, settings, secrets, state)


def properties_calls(sb: Sandbox) -> int:
    return sum(n for (system, endpoint, _), n in sb.store.counts.items()
               if system == "hubspot" and endpoint.startswith("properties."))


def test_hubspot_declares_ranges_free_text_retired_and_score_properties(sb):
    from connectors.hubspot.schema import score_properties

    assert HUBSPOT.describe is not None
    schema = HUBSPOT.describe(hubspot_instance(sb, MemoryState()), False)
    contacts, companies = schema.types_for("hubspot"), schema.types_for("company")
    assert contacts["numemployees"].type == "enumeration"
    assert ("100-500", "100-500") in [(v, v) for v, _ in contacts["numemployees"].options]
    assert contacts["industry"].type == "string", "a contact's industry is free text"
    assert companies["industry"].type == "enumeration"
    assert "COMPUTER_SOFTWARE" in {v for v, _ in companies["industry"].options}
    assert contacts["hubspotscore"].retired and contacts["hubspotscore"].read_only
    assert set(SCORE_PROPERTIES) <= set(score_properties(contacts))
    assert "hubspotscore" not in score_properties(contacts)
    assert schema.canonical["employees"] == ("company", "numberofemployees")
    assert schema.canonical["email"] == ("hubspot", "email")
    assert not schema.stale


def test_hubspot_schema_is_cached_refreshed_on_request_and_stale_when_down(sb):
    state = MemoryState()
    instance = hubspot_instance(sb, state)
    assert HUBSPOT.describe is not None
    HUBSPOT.describe(instance, False)
    before = properties_calls(sb)
    HUBSPOT.describe(instance, False)
    assert properties_calls(sb) == before, "a cached schema costs no call"
    HUBSPOT.describe(instance, True)
    assert properties_calls(sb) == before + 2, "--refresh asks again (contacts, companies)"
    saved = sb.hubspot_faults.rate_5xx
    sb.hubspot_faults.rate_5xx = 1.0
    try:
        stale = HUBSPOT.describe(instance, True)
        assert stale.stale and "could not be read" in stale.stale
        assert stale.types_for("hubspot")["numemployees"].type == "enumeration"
        with pytest.raises(RetriableError):  # nothing cached: the error, for the caller
            HUBSPOT.describe(hubspot_instance(sb, MemoryState()), False)
    finally:
        sb.hubspot_faults.rate_5xx = saved


def test_without_company_context_every_field_is_the_contacts(sb):
    assert HUBSPOT.describe is not None
    schema = HUBSPOT.describe(hubspot_instance(sb, MemoryState(), company_context=False), False)
    assert schema.canonical["employees"] == ("hubspot", "numemployees")


def test_salesforce_declares_lead_fields_picklists_and_statuses(sb):
    from connectors.salesforce.schema import load_answers

    assert SALESFORCE.describe is not None
    state = MemoryState()
    instance = salesforce_instance(sb, state)
    schema = SALESFORCE.describe(instance, False)
    lead = schema.types_for("salesforce")
    assert lead["Email"].type == "email"
    assert lead["Status"].type == "picklist" and lead["Status"].options
    assert lead["NumberOfEmployees"].type == "int"
    assert schema.canonical["email"] == ("salesforce", "Email")
    from connectors.salesforce.client import SalesforceClient

    answers, _, stale = load_answers(SalesforceClient(instance.settings, instance.secrets),
                                     instance.settings, state)
    statuses = {r["ApiName"] for r in answers["lead_statuses"]}
    assert {"MQL", "SAL - Accepted"} <= statuses and not stale


def test_the_cache_asks_again_after_its_refresh_interval():
    state, asked = MemoryState(), []

    def fetch():
        asked.append(1)
        return {"n": len(asked)}

    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    assert cached_answers(state, fetch, refresh_hours=24, now=t0)[0] == {"n": 1}
    assert cached_answers(state, fetch, refresh_hours=24, now=t0 + timedelta(hours=23))[0] == {
        "n": 1}
    assert cached_answers(state, fetch, refresh_hours=24, now=t0 + timedelta(hours=25))[0] == {
        "n": 2}
