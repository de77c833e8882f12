"""Deterministic synthetic data: HubSpot contacts (a share of them MQLs) and Salesforce leads.

Realism that matters to the connectors and the rules: business vs free-mail vs student vs
competitor addresses, incomplete records, fit (title, size, industry, country) and intent
(demo, trial, webinar, pricing views) varied independently, dates spread over ~18 months,
and large groups of contacts sharing one exact ``lastmodifieddate`` as bulk imports leave
them. Most MQLs have a Salesforce lead; some contacts lack ``salesforceleadid`` (match by
email), some leads are converted, deleted, or share an email with a second lead.
Everything comes from one ``random.Random(seed)``: same seed and anchor, same data.
"""

from __future__ import annotations

from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from random import Random
from typing import Any

from connectors.sandbox.seed_data import (
    COMPANY_HEADS,
    COMPANY_TAILS,
    COMPETITORS,
    CONVERSIONS,
    COUNTRIES,
    FIRST,
    FREE_MAIL,
    INDUSTRIES,
    LAST,
    LEAD_SOURCE,
    SIZES,
    SOURCES,
    STAGES,
    STUDENT_MAIL,
    TITLES,
    TLDS,
)
from connectors.sandbox.store import SandboxStore

DAY_MS = 86_400_000


@dataclass(frozen=True)
class SeedOptions:
    """Shares that shape the data; the defaults give every case the connectors must handle."""

    bulk_groups: Sequence[float] = (0.2, 0.05, 0.02)
    lead_coverage: float = 0.9
    leadid_share: float = 0.85
    converted_share: float = 0.08
    duplicate_share: float = 0.03
    deleted_share: float = 0.01
    other_lead_share: float = 0.2
    days: int = 540


def _pick(rng: Random, options: Sequence[Any]) -> Any:
    """``rng.choice`` without its per-call overhead (seeding makes ~1M picks)."""
    return options[int(rng.random() * len(options))]


def _below(rng: Random, *bounds: int) -> int:
    """``rng.randrange(stop)`` or ``rng.randrange(start, stop)``, cheaper."""
    start, stop = (0, bounds[0]) if len(bounds) == 1 else bounds
    return start + int(rng.random() * (stop - start))


def _weighted(rng: Random, table: Sequence[tuple[str, int]]) -> str:
    values, cumulative = _CUMULATIVE.get(id(table)) or _cumulate(table)
    return values[bisect(cumulative, rng.random() * cumulative[-1])]


_CUMULATIVE: dict[int, tuple[list[str], list[int]]] = {}


def _cumulate(table: Sequence[tuple[str, int]]) -> tuple[list[str], list[int]]:
    values = [v for v, _ in table]
    cumulative = list(accumulate(w for _, w in table))
    _CUMULATIVE[id(table)] = (values, cumulative)
    return values, cumulative


_EPOCH = datetime(1970, 1, 1)


def _iso(ms: int) -> str:
    """HubSpot format without strftime (seeding 100k contacts formats ~400k stamps)."""
    return (_EPOCH + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds") + "Z"


def _sf(ms: int) -> str:
    return (_EPOCH + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds") + "+0000"


def _companies(rng: Random) -> list[dict[str, Any]]:
    companies = []
    for head in COMPANY_HEADS:
        for tail in rng.sample(COMPANY_TAILS, 4):
            companies.append(
                {
                    "name": f"{head} {tail}",
                    "domain": f"{head}{tail}".lower() + "." + _pick(rng, TLDS),
                    "industry": _pick(rng, INDUSTRIES),
                    "size": _pick(rng, SIZES),
                }
            )
    return companies


class _Seeder:
    """Builds contacts then leads; one instance per ``seed_store`` call."""

    def __init__(self, store: SandboxStore, seed: int, options: SeedOptions, anchor: datetime):
        self.store = store
        self.rng = Random(seed)
        self.options = options
        self.anchor_ms = int(anchor.timestamp() * 1000)
        self.companies = _companies(self.rng)
        self.emails: set[str] = set()
        self.owners = [store.new_id("user") for _ in range(6)]
        for n, oid in enumerate(self.owners, start=1):
            store.users[oid] = {
                "Id": oid,
                "Name": f"Sales Rep {n}",
                "IsActive": n != 6,
                "Email": f"rep{n}@sandbox.example.com",
            }
        self.bulk = [
            (share, self.anchor_ms - (k * 23 + 4) * DAY_MS - 3_600_000 * (k + 9))
            for k, share in enumerate(options.bulk_groups)
        ]

    def contact(self, mql_share: float) -> tuple[dict[str, str | None], int]:
        """One contact's properties, and its creation time in epoch ms."""
        rng = self.rng
        first, last = _pick(rng, FIRST), _pick(rng, LAST)
        kind = rng.random()
        company = _pick(rng, self.companies)
        mql = rng.random() < mql_share
        title = _weighted(rng, TITLES)
        if kind < 0.78:
            domain, company_name = company["domain"], company["name"]
        elif kind < 0.91:
            domain, company_name = (
                _pick(rng, FREE_MAIL),
                company["name"] if rng.random() < 0.5 else None,
            )
        elif kind < 0.96:
            domain, company_name, title = _pick(rng, STUDENT_MAIL), None, "Student"
        else:
            domain, company_name = _pick(rng, COMPETITORS), None
        created = self.anchor_ms - _below(rng, self.options.days * DAY_MS)
        modified = created + _below(rng, max(1, self.anchor_ms - created))
        modified = self._bulk(modified)
        created = min(created, modified)
        props: dict[str, str | None] = {
            "email": self._email(first, last, domain),
            "firstname": first,
            "lastname": last if rng.random() > 0.02 else None,
            "company": company_name,
            "jobtitle": title if rng.random() > 0.08 else None,
            "phone": f"+1 555 {_below(rng, 100, 999)} {_below(rng, 1000, 9999)}"
            if rng.random() < 0.7
            else None,
            "industry": company["industry"] if company_name else None,
            "numemployees": str(company["size"]) if company_name else None,
            "country": _weighted(rng, COUNTRIES) if rng.random() > 0.05 else None,
            "hubspotscore": str(
                int(rng.triangular(25, 100, 72) if mql else rng.triangular(0, 70, 15))
            ),
            "lifecyclestage": "marketingqualifiedlead" if mql else _weighted(rng, STAGES),
            "createdate": _iso(created),
            "lastmodifieddate": _iso(modified),
            "hs_analytics_source": _pick(rng, SOURCES),
            "hs_analytics_num_page_views": str(_below(rng, 1, 250 if mql else 40)),
            "num_conversion_events": str(_below(rng, 1, 15) if mql else _below(rng, 0, 3)),
            "recent_conversion_event_name": _pick(rng, CONVERSIONS)
            if mql or rng.random() < 0.3
            else None,
            "salesforceleadid": None,
        }
        props.update(self._intent(mql, created, modified))
        return props, created

    def _email(self, first: str, last: str, domain: str) -> str:
        local = f"{first}.{last}".lower()
        email = f"{local}@{domain}"
        suffix = 1
        while email in self.emails:
            suffix += 1
            email = f"{local}{suffix}@{domain}"
        self.emails.add(email)
        return email

    def _bulk(self, modified: int) -> int:
        draw = self.rng.random()
        for share, stamp in self.bulk:
            if draw < share:
                return stamp
            draw -= share
        return modified

    def _intent(self, mql: bool, created: int, modified: int) -> dict[str, str | None]:
        rng = self.rng
        strong = 1.0 if mql else 0.25
        webinar = rng.random() < 0.3 * strong
        return {
            "hs_lifecyclestage_marketingqualifiedlead_date": _iso(
                created + (modified - created) // 2
            )
            if mql
            else None,
            "demo_requested": "true"
            if rng.random() < 0.22 * strong
            else _pick(rng, ["false", None]),
            "trial_started": "true"
            if rng.random() < 0.15 * strong
            else _pick(rng, ["false", None]),
            "webinar_attended_date": _iso(modified - _below(rng, 90) * DAY_MS)[:10]
            if webinar
            else None,
            "pricing_page_views": str(_below(rng, 0, 14 if mql else 3)),
            # the last sales/marketing activity: days before the last change
            "notes_last_updated": _iso(modified - _below(rng, 40 if mql else 200) * DAY_MS)
            if rng.random() < (0.8 if mql else 0.3)
            else None,
            "timeline": _pick(rng, ["now", "this quarter", "0-3 months", "next year", None])
            if mql and rng.random() < 0.5
            else None,
        }

    def lead(self, props: dict[str, str | None], status: str, created_ms: int) -> dict[str, Any]:
        """A Salesforce lead for a contact's properties."""
        rng = self.rng
        lid = self.store.new_id("lead")
        modstamp = created_ms + _below(rng, max(1, self.anchor_ms - created_ms))
        converted = rng.random() < self.options.converted_share
        return {
            "Id": lid,
            "Email": props["email"],
            "FirstName": props["firstname"],
            "LastName": props["lastname"] or "[not provided]",
            "Company": props["company"] or "[not provided]",
            "Title": props["jobtitle"],
            "Industry": props["industry"],
            "NumberOfEmployees": int(props["numemployees"]) if props["numemployees"] else None,
            "Country": props["country"],
            "Phone": props["phone"],
            "LeadSource": LEAD_SOURCE.get(props["hs_analytics_source"] or "", "Other"),
            "Rating": None,
            "Status": "Closed - Converted" if converted else status,
            "OwnerId": _pick(rng, self.owners),
            "IsConverted": converted,
            "IsDeleted": rng.random() < self.options.deleted_share,
            "CreatedDate": _sf(created_ms),
            "LastModifiedDate": _sf(modstamp),
            "SystemModstamp": _sf(modstamp),
            "SAL_Score__c": None,
            "SAL_Date__c": None,
            "SAL_Reason__c": None,
        }


def seed_store(
    store: SandboxStore,
    contacts: int,
    seed: int = 7,
    mql_share: float = 0.6,
    *,
    anchor: datetime | None = None,
    **options: Any,
) -> None:
    """Add ``contacts`` contacts (``mql_share`` of them MQLs) and their leads to ``store``.

    ``anchor`` is "now" for the data (default: midnight UTC of the store clock's today),
    so two runs with one seed on one day are identical. ``options`` are :class:`SeedOptions`.
    """
    if anchor is None:
        today = store.now().astimezone(UTC)
        anchor = datetime(today.year, today.month, today.day, tzinfo=UTC)
    seeder = _Seeder(store, seed, SeedOptions(**options), anchor)
    with store.lock:
        for _ in range(contacts):
            props, created_ms = seeder.contact(mql_share)
            cid = store.add_contact(props)
            _link_leads(store, seeder, cid, created_ms)


def _link_leads(store: SandboxStore, seeder: _Seeder, cid: str, created_ms: int) -> None:
    rng, opts = seeder.rng, seeder.options
    props = store.contacts[cid]["properties"]
    mql = props["lifecyclestage"] == "marketingqualifiedlead"
    if rng.random() >= (opts.lead_coverage if mql else opts.other_lead_share):
        return
    status = (
        "MQL"
        if mql and rng.random() < 0.85
        else _pick(rng, ["Open - Not Contacted", "Working - Contacted"])
    )
    lead = seeder.lead(dict(props), status, created_ms)
    store.leads[lead["Id"]] = lead
    if rng.random() < opts.leadid_share and not lead["IsDeleted"]:
        props["salesforceleadid"] = lead["Id"]
    if rng.random() < opts.duplicate_share:
        twin = seeder.lead(dict(props), "Open - Not Contacted", created_ms - DAY_MS)
        twin["IsConverted"], twin["Status"] = False, "Open - Not Contacted"
        store.leads[twin["Id"]] = twin
