"""Deterministic synthetic data: a HubSpot portal (contacts, companies) and a Salesforce org.

Realism that matters to the connectors and the rules: business vs free-mail vs student vs
competitor addresses; contacts that share a company, contacts with no company, companies
with no industry; the contact's own fields as people fill them (an employee *range*,
industry and revenue typed as free text, often blank) next to the company's typed data;
fit (title, size, industry, country) and intent (demo, trial, webinar, pricing views)
varied independently; a frozen legacy ``hubspotscore`` beside example scores from the new
scoring tool; dates spread over ~18 months and large groups of contacts sharing one exact
``lastmodifieddate`` as bulk imports leave them. Most MQLs have a Salesforce lead; some
contacts lack ``salesforceleadid`` (match by email), some leads are converted, deleted,
share an email with a second lead, or are owned by a queue or an inactive user; old leads
carry archived tasks. Everything comes from one ``random.Random(seed)``: same seed and
anchor, same data.
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
    COMPETITORS,
    CONVERSIONS,
    COUNTRIES,
    FIRST,
    FREE_MAIL,
    HS_LEAD_STATUS,
    INDUSTRIES,
    LAST,
    LEAD_SOURCE,
    RANGES,
    SOURCES,
    STAGES,
    STUDENT_MAIL,
    TITLES,
    TYPED_REVENUE,
)
from connectors.sandbox.seed_org import seed_companies, seed_sales_org
from connectors.sandbox.store import SandboxStore

DAY_MS = 86_400_000
MQL = "marketingqualifiedlead"
_INDUSTRY_VALUES = tuple(INDUSTRIES)
_RANGE_FLOORS = (1, 5, 25, 50, 100, 500, 1000)


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
    queue_owner_share: float = 0.08
    inactive_owner_share: float = 0.05
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
    """HubSpot format without strftime (seeding 100k contacts formats ~500k stamps)."""
    return (_EPOCH + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds") + "Z"


def _sf(ms: int) -> str:
    return (_EPOCH + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds") + "+0000"


def range_of(size: int) -> str:
    """The contact employee range option holding ``size`` (bounds shared: lower one wins)."""
    return RANGES[bisect(_RANGE_FLOORS, size) - 1]


class _Seeder:
    """Builds the org, companies, contacts then leads; one instance per ``seed_store`` call."""

    def __init__(self, store: SandboxStore, seed: int, options: SeedOptions, anchor: datetime):
        self.store = store
        self.rng = Random(seed)
        self.options = options
        self.anchor_ms = int(anchor.timestamp() * 1000)
        self.org = seed_sales_org(store)
        self.owner_ids = list(store.hubspot_owners)
        self.companies = seed_companies(store, self.rng,
                                        _iso(self.anchor_ms - (options.days + 60) * DAY_MS))
        self.emails: set[str] = set()
        self.bulk = [
            (share, self.anchor_ms - (k * 23 + 4) * DAY_MS - 3_600_000 * (k + 9))
            for k, share in enumerate(options.bulk_groups)
        ]

    def contact(self, mql_share: float) -> tuple[dict[str, str | None], int, dict[str, Any] | None]:
        """One contact's properties, its creation time (epoch ms), and its company."""
        rng = self.rng
        first, last = _pick(rng, FIRST), _pick(rng, LAST)
        kind = rng.random()
        company: dict[str, Any] | None = _pick(rng, self.companies)
        mql = rng.random() < mql_share
        title = _weighted(rng, TITLES)
        if kind < 0.78:
            domain, company_name = company["domain"], company["name"]  # type: ignore[index]
        elif kind < 0.91:
            domain = _pick(rng, FREE_MAIL)
            company_name = company["name"] if rng.random() < 0.5 else None  # type: ignore[index]
            company = None  # HubSpot associates by email domain: never a free-mail one
        elif kind < 0.96:
            domain, company_name, title, company = _pick(rng, STUDENT_MAIL), None, "Student", None
        else:
            domain, company_name, company = _pick(rng, COMPETITORS), None, None
        if company is not None and rng.random() < 0.03:
            company = None  # auto-association off or not done yet
        created = self.anchor_ms - _below(rng, self.options.days * DAY_MS)
        modified = created + _below(rng, max(1, self.anchor_ms - created))
        modified = self._bulk(modified)
        created = min(created, modified)
        stage = MQL if mql else _weighted(rng, STAGES)
        source = _pick(rng, SOURCES)
        props: dict[str, str | None] = {
            "email": self._email(first, last, domain),
            "firstname": first,
            "lastname": last if rng.random() > 0.02 else None,
            "company": company_name,
            "jobtitle": title if rng.random() > 0.08 else None,
            "phone": f"+1 555 {_below(rng, 100, 999)} {_below(rng, 1000, 9999)}"
            if rng.random() < 0.7
            else None,
            "country": _weighted(rng, COUNTRIES) if rng.random() > 0.05 else None,
            "hubspotscore": str(
                int(rng.triangular(25, 100, 72) if mql else rng.triangular(0, 70, 15))
            ),
            "lifecyclestage": stage,
            "createdate": _iso(created),
            "lastmodifieddate": _iso(modified),
            "hs_analytics_source": source,
            "hs_latest_source": source if rng.random() < 0.6 else _pick(rng, SOURCES),
            "hs_analytics_num_page_views": str(_below(rng, 1, 250 if mql else 40)),
            "num_conversion_events": str(_below(rng, 1, 15) if mql else _below(rng, 0, 3)),
            "recent_conversion_event_name": _pick(rng, CONVERSIONS)
            if mql or rng.random() < 0.3
            else None,
            "hs_lead_status": _weighted(rng, HS_LEAD_STATUS)
            if rng.random() < (0.5 if mql else 0.15) else None,
            "hubspot_owner_id": _pick(rng, self.owner_ids)
            if rng.random() < (0.6 if mql else 0.2) else None,
            "salesforceleadid": None,
        }
        props.update(self._typed_firmographics(company))
        props.update(self._intent(mql, created, modified))
        props.update(self._stage_dates(stage, created, modified, props))
        props.update(self._scores(mql, company, props))
        return props, created, company

    def _typed_firmographics(self, company: dict[str, Any] | None) -> dict[str, str | None]:
        """What the person typed into the contact's own fields (forms, imports)."""
        rng = self.rng
        size = company["size"] if company else _pick(rng, (3, 40, 320, 5000))
        typed_range = range_of(size) if rng.random() < 0.75 else _pick(rng, RANGES)
        industry = company["industry"] if company else _pick(rng, _INDUSTRY_VALUES)
        return {
            "numemployees": typed_range if rng.random() < 0.45 else None,
            "industry": _pick(rng, INDUSTRIES[industry][0]) if rng.random() < 0.45 else None,
            "annualrevenue": _pick(rng, TYPED_REVENUE) if rng.random() < 0.15 else None,
        }

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

    @staticmethod
    def _stage_dates(stage: str, created: int, modified: int,
                     props: dict[str, str | None]) -> dict[str, str | None]:
        """Entry into the current stage (and the MQL's exit from ``lead``)."""
        if stage == MQL:
            entered = props["hs_lifecyclestage_marketingqualifiedlead_date"]
            return {"hs_v2_date_entered_marketingqualifiedlead": entered,
                    "hs_v2_date_entered_lead": props["createdate"],
                    "hs_v2_date_exited_lead": entered}
        return {f"hs_v2_date_entered_{stage}": _iso(created + (modified - created) // 3)}

    def _scores(self, mql: bool, company: dict[str, Any] | None,
                props: dict[str, str | None]) -> dict[str, str | None]:
        """Example scores from the new scoring tool: fit from firmographics, engagement
        from intent (names and formulas are the sandbox's examples)."""
        rng = self.rng
        fit = 20 + (30 if company and 50 <= company["size"] <= 5000 else 0) \
            + (20 if company and company["industry"] in ("COMPUTER_SOFTWARE",
                                                          "INFORMATION_TECHNOLOGY_AND_SERVICES")
               else 0) + _below(rng, 0, 30)
        engagement = min(100, int(props["hs_analytics_num_page_views"] or 0) // 3
                         + (30 if props["demo_requested"] == "true" else 0)
                         + (15 if mql else 0) + _below(rng, 0, 20))
        if rng.random() < 0.1:  # scored before the tool was set up: blank
            return {}
        return {"example_fit_score": str(min(fit, 100)),
                "example_engagement_score": str(engagement),
                "example_combined_score": str((min(fit, 100) + engagement) // 2)}

    def lead(self, props: dict[str, Any], status: str, created_ms: int,
             company: dict[str, Any] | None) -> dict[str, Any]:
        """A Salesforce lead for a contact's properties (HubSpot's sync created it)."""
        rng = self.rng
        lid = self.store.new_id("lead")
        modstamp = created_ms + _below(rng, max(1, self.anchor_ms - created_ms))
        converted = rng.random() < self.options.converted_share
        employees = company["size"] if company and company["known_size"] else None
        industry = INDUSTRIES[company["industry"]][1] if company and company["known_industry"] \
            else None
        lead = {
            "Id": lid,
            "Email": props["email"],
            "FirstName": props["firstname"],
            "LastName": props["lastname"] or "[not provided]",
            "Company": props["company"] or "[not provided]",
            "Title": props["jobtitle"],
            "Industry": industry,
            "NumberOfEmployees": employees,
            "Country": props["country"],
            "Phone": props["phone"],
            "LeadSource": LEAD_SOURCE.get(props["hs_analytics_source"] or "", "Other"),
            "Rating": None,
            "Status": "Closed - Converted" if converted else status,
            "OwnerId": self._lead_owner(),
            "IsConverted": converted,
            "ConvertedDate": None,
            "ConvertedAccountId": None,
            "ConvertedContactId": None,
            "ConvertedOpportunityId": None,
            "LastActivityDate": None,
            "IsDeleted": rng.random() < self.options.deleted_share,
            "CreatedDate": _sf(created_ms),
            "CreatedById": self.org["active_reps"][0],
            "LastModifiedDate": _sf(modstamp),
            "SystemModstamp": _sf(modstamp),
            "SAL_Score__c": None,
            "SAL_Date__c": None,
            "SAL_Reason__c": None,
            "Rejection_Reason__c": None,
        }
        if converted:
            lead.update(ConvertedDate=_sf(modstamp)[:10],
                        ConvertedAccountId=self.store.new_id("account"),
                        ConvertedContactId=self.store.new_id("sf_contact"),
                        ConvertedOpportunityId=self.store.new_id("opportunity"))
        return lead

    def _lead_owner(self) -> str:
        draw = self.rng.random()
        if draw < self.options.queue_owner_share:
            return str(_pick(self.rng, self.org["queues"]))
        if draw < self.options.queue_owner_share + self.options.inactive_owner_share:
            return str(_pick(self.rng, self.org["inactive"]))
        return str(_pick(self.rng, self.org["active_reps"]))

    def old_task(self, lead: dict[str, Any], created_ms: int) -> dict[str, Any] | None:
        """A long-closed task on an old lead (archived once its due date is a year old)."""
        if self.anchor_ms - created_ms < 400 * DAY_MS or self.rng.random() > 0.3:
            return None
        due = created_ms + _below(self.rng, 1, 10) * DAY_MS
        owner = lead["OwnerId"] if lead["OwnerId"].startswith("005") \
            else self.org["active_reps"][0]
        tid = self.store.new_id("task")
        return {
            "Id": tid, "WhoId": lead["Id"], "OwnerId": owner, "Subject": "Intro call",
            "Description": None, "Status": "Completed", "Priority": "Normal",
            "ActivityDate": _sf(due)[:10], "CompletedDateTime": _sf(due),
            "IsDeleted": False, "CreatedDate": _sf(created_ms), "CreatedById": owner,
            "LastModifiedDate": _sf(due), "SystemModstamp": _sf(due),
            "SAL_Handoff_Key__c": None,
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
    """Add ``contacts`` contacts (``mql_share`` of them MQLs), their companies and leads.

    ``anchor`` is "now" for the data (default: midnight UTC of the store clock's today),
    so two runs with one seed on one day are identical. ``options`` are :class:`SeedOptions`.
    """
    if anchor is None:
        today = store.now().astimezone(UTC)
        anchor = datetime(today.year, today.month, today.day, tzinfo=UTC)
    seeder = _Seeder(store, seed, SeedOptions(**options), anchor)
    with store.lock:
        for _ in range(contacts):
            props, created_ms, company = seeder.contact(mql_share)
            cid = store.add_contact(props)
            if company is not None:
                store.associate(cid, company["id"])
                if seeder.rng.random() < 0.05:
                    store.associate(cid, _pick(seeder.rng, seeder.companies)["id"],
                                    primary=False)
            _link_leads(store, seeder, cid, created_ms, company)


def _link_leads(store: SandboxStore, seeder: _Seeder, cid: str, created_ms: int,
                company: dict[str, Any] | None) -> None:
    rng, opts = seeder.rng, seeder.options
    props = store.contacts[cid]["properties"]
    mql = props["lifecyclestage"] == MQL
    if rng.random() >= (opts.lead_coverage if mql else opts.other_lead_share):
        return
    status = (
        "MQL"
        if mql and rng.random() < 0.85
        else _pick(rng, ["Open - Not Contacted", "Working - Contacted"])
    )
    lead = seeder.lead(props, status, created_ms, company)
    store.leads[lead["Id"]] = lead
    task = seeder.old_task(lead, created_ms)
    if task is not None:
        store.tasks[task["Id"]] = task
    if rng.random() < opts.leadid_share and not lead["IsDeleted"]:
        props["salesforceleadid"] = lead["Id"]
    if rng.random() < opts.duplicate_share:
        twin = seeder.lead(props, "Open - Not Contacted", created_ms - DAY_MS, company)
        twin.update(IsConverted=False, Status="Open - Not Contacted", ConvertedDate=None,
                    ConvertedAccountId=None, ConvertedContactId=None,
                    ConvertedOpportunityId=None)
        store.leads[twin["Id"]] = twin
