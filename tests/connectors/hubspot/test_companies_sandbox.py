"""Company context: a contact's primary company feeds ICP fit (industry, size, revenue,
country), read in batches of 100, kept between runs, read again when it changes."""

from __future__ import annotations

from hubspot import HubSpot

from connectors.base import Cursor
from connectors.sandbox import Sandbox
from sync_agent.model import FIELD_ORIGINS

from .conftest import calls, connect


def read_all(source) -> dict:
    return {m.source_id: m for page in source.read(Cursor()) for m in page.mqls}


def primary_company(sb: Sandbox, contact_id: str) -> dict | None:
    linked = sb.store.contact_companies.get(contact_id) or []
    return sb.store.companies[linked[0]]["properties"] if linked else None


def test_icp_fields_come_from_the_primary_company_and_say_so(small_sandbox, clock):
    sb = small_sandbox
    source, _ = connect(sb, clock)
    mqls = read_all(source)
    with_company = [m for m in mqls.values() if primary_company(sb, m.source_id)]
    without = [m for m in mqls.values() if not primary_company(sb, m.source_id)]
    assert with_company and without, "the seed mixes contacts with and without a company"
    for mql in with_company:
        company = primary_company(sb, mql.source_id)
        assert company is not None
        origins = mql.fields.get(FIELD_ORIGINS, {})
        if company.get("industry"):
            assert mql.fields["industry"] == company["industry"]
            assert origins["industry"] == "company.industry"
        if company.get("numberofemployees"):
            assert origins["employees"] == "company.numberofemployees"
        assert mql.fields["company.name"] == company.get("name")
    for mql in without:
        contact = sb.store.contacts[mql.source_id]["properties"]
        assert FIELD_ORIGINS not in mql.fields
        assert mql.fields.get("industry") == (contact.get("industry") or None)
        assert not any(k.startswith("company.") for k in mql.fields)


def test_companies_are_read_a_hundred_at_a_time_and_once_per_backfill(small_sandbox, clock):
    sb = small_sandbox
    source, _ = connect(sb, clock, page_size=100)
    mqls = read_all(source)
    companies = {sb.store.contact_companies[c][0] for c in mqls
                 if sb.store.contact_companies.get(c)}
    reads = calls(sb, "companies.batch_read")
    assert len(companies) > 100, "enough companies to need several batches"
    assert reads >= len(companies) / 100
    # one batch per page at most, each of up to 100 companies: never one call per contact
    assert reads <= len(mqls) // 100 + 1 + len(companies) // 100 + 1
    assert reads < len(companies) / 10
    source2, _ = connect(sb, clock, page_size=100)
    source2.state = source.state  # the next run, same audit database
    source2.companies.state = source.state  # type: ignore[union-attr]
    before = calls(sb, "companies.batch_read")
    clock.now += 3600
    read_all(source2)
    assert calls(sb, "companies.batch_read") == before, "unchanged companies are not read again"


def test_a_changed_company_is_read_again_on_the_next_run(small_sandbox, clock):
    sb = small_sandbox
    source, _ = connect(sb, clock, page_size=200)
    mqls = read_all(source)
    contact = next(c for c in mqls if sb.store.contact_companies.get(c))
    company_id = sb.store.contact_companies[contact][0]
    info = sb.info()
    hs = HubSpot(access_token=info["hubspot_token"], host=info["hubspot_url"])
    clock.now += 60
    hs.crm.companies.basic_api.update(company_id, simple_public_object_input={
        "properties": {"industry": "COMPUTER_SOFTWARE", "numberofemployees": "4321"}})
    sb.store.set_modified([contact], clock.dt())  # the contact is read again too
    clock.now += 60
    again = read_all(source)
    assert again[contact].fields["industry"] == "COMPUTER_SOFTWARE"
    assert again[contact].fields["employees"] == 4321
