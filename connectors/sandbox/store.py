"""The sandbox's in-memory world: HubSpot contacts, companies and notes, a Salesforce org.

Both emulators (``hubspot_app`` and ``salesforce_app``) read and write one
:class:`SandboxStore`, so a sync that writes to Salesforce and HubSpot can be checked
in one place (``/_sandbox/state``). Every access goes through ``store.lock`` (an RLock).
The store also owns sandbox time (``clock``, ``agenda``: see :mod:`connectors.sandbox.clock`)
and the change events (``events``) that late leads, the sales team and webhooks react to.

Contacts, companies and notes are :class:`~connectors.sandbox.tracking.TrackedDict`
instances: any mutation, even one a test makes directly on
``store.contacts[id]["properties"]``, is logged in ``store.changes``, which lets the search
emulator cache sorted results safely.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.sandbox.clock import Agenda, SandboxClock, utcnow
from connectors.sandbox.events import EventBus
from connectors.sandbox.salesforce_org import SalesforceOrg
from connectors.sandbox.tracking import ChangeLog, TrackedDict

__all__ = ["SandboxStore", "hs_time", "sf_checksum", "sf_time", "utcnow"]

#: Salesforce key prefixes by record kind.
SF_PREFIXES = {
    "lead": "00Q", "task": "00T", "user": "005", "org": "00D", "account": "001",
    "sf_contact": "003", "opportunity": "006", "group": "00G", "history": "017",
}
_ID_START = {"contact": 101, "note": 50_000_000_001, "company": 4_200_000_001,
             "owner": 71_000_001}
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECK = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"

DEFAULT_LEAD_STATUSES = [
    {"ApiName": "Open - Not Contacted", "IsConverted": False, "IsDefault": True},
    {"ApiName": "Working - Contacted", "IsConverted": False, "IsDefault": False},
    {"ApiName": "Closed - Converted", "IsConverted": True, "IsDefault": False},
    {"ApiName": "Closed - Not Converted", "IsConverted": False, "IsDefault": False},
    {"ApiName": "MQL", "IsConverted": False, "IsDefault": False},
    {"ApiName": "SAL - Accepted", "IsConverted": False, "IsDefault": False},
    {"ApiName": "SAL - Rejected", "IsConverted": False, "IsDefault": False},
    {"ApiName": "Recycled", "IsConverted": False, "IsDefault": False},
]
#: Salesforce's default Task statuses; only Completed is closed.
DEFAULT_TASK_STATUSES = [
    {"ApiName": "Not Started", "IsClosed": False, "IsDefault": True},
    {"ApiName": "In Progress", "IsClosed": False, "IsDefault": False},
    {"ApiName": "Completed", "IsClosed": True, "IsDefault": False},
    {"ApiName": "Waiting on someone else", "IsClosed": False, "IsDefault": False},
    {"ApiName": "Deferred", "IsClosed": False, "IsDefault": False},
]
#: The org's custom rejection reason picklist (its values are the org's choice).
DEFAULT_REJECTION_REASONS = [
    {"ApiName": name, "IsDefault": False}
    for name in ("No budget", "Not the decision maker", "Bad timing", "Chose a competitor",
                 "Not a fit", "Unresponsive", "Duplicate")
]


def hs_time(moment: datetime) -> str:
    """HubSpot's timestamp format: ``2026-01-15T10:30:00.123Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def sf_time(moment: datetime) -> str:
    """Salesforce's timestamp format: ``2026-01-15T10:30:00.000+0000``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def sf_checksum(id15: str) -> str:
    """The 3-character suffix that turns a 15-character Salesforce id into 18 characters."""
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, ch in enumerate(chunk) if "A" <= ch <= "Z")
        suffix += _CHECK[bits]
    return suffix


def _base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, rem = divmod(number, 62)
        digits = _B62[rem] + digits
    return digits.rjust(width, "0")


class SandboxStore:
    """Thread-safe records and counters shared by both emulators.

    Attributes (contract for both apps and for tests):

    * ``contacts`` / ``companies`` / ``notes``: HubSpot objects by numeric-string id, shaped
      like the API (``{"id", "properties", "createdAt", "updatedAt", "archived"}``; notes
      also carry ``"associations"``: contact ids). Property values are strings or None.
    * ``contact_companies``: contact id -> associated company ids, the primary one first.
    * ``*_property_defs``: property definitions by name, per object.
    * ``hubspot_owners``: HubSpot owners by id (``hubspot_owner_id`` values).
    * ``leads`` / ``tasks`` / ``users`` / ``groups``: Salesforce records by 18-character
      id, fields as the REST API names them; ``lead_history``: LeadHistory rows.
    * ``lead_statuses`` / ``task_statuses`` / ``rejection_reasons``: picklist rows
      (``picklists`` maps their names as the schema refers to them).
    * ``org``: the Salesforce org's configuration (:class:`SalesforceOrg`).
    * ``counts``: ``Counter`` of ``(system, endpoint, status)``; see :meth:`count`.
    * ``api_usage``: ``sf_api_used``, ``sf_api_max``, ``hubspot_daily_used``.
    * ``credentials``: what clients must present (tokens, session ids, OAuth client).
    * ``clock`` (callable, :class:`SandboxClock`), ``agenda``, ``events``: sandbox time and
      change events; ``state_providers``: extra sections for ``/_sandbox/state``.
    """

    def __init__(self, clock: Callable[[], datetime] = utcnow,
                 org: SalesforceOrg | None = None) -> None:
        self.lock = threading.RLock()
        self.clock: SandboxClock = clock if isinstance(clock, SandboxClock) \
            else SandboxClock(clock)
        self.agenda = Agenda()
        self.events = EventBus()
        #: every change to a contact, company or note (by id); the search cache reads it
        self.changes = ChangeLog()
        self.contacts: dict[str, dict[str, Any]] = TrackedDict(self.changes)
        self.companies: dict[str, dict[str, Any]] = TrackedDict(self.changes)
        self.notes: dict[str, dict[str, Any]] = TrackedDict(self.changes)
        self.contact_companies: dict[str, list[str]] = {}
        #: lifecycle-stage writes HubSpot ignored because they would move a contact back
        self.ignored_writes: list[dict[str, Any]] = []
        self.contact_property_defs: dict[str, dict[str, Any]] = {}
        self.company_property_defs: dict[str, dict[str, Any]] = {}
        self.note_property_defs: dict[str, dict[str, Any]] = {}
        self.hubspot_owners: dict[str, dict[str, Any]] = {}
        self.leads: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.lead_history: list[dict[str, Any]] = []
        self.lead_statuses: list[dict[str, Any]] = [dict(s) for s in DEFAULT_LEAD_STATUSES]
        self.task_statuses: list[dict[str, Any]] = [dict(s) for s in DEFAULT_TASK_STATUSES]
        self.rejection_reasons: list[dict[str, Any]] = [
            dict(s) for s in DEFAULT_REJECTION_REASONS]
        self.org = org or SalesforceOrg()
        self.counts: Counter[tuple[str, str, int]] = Counter()
        self.api_usage: dict[str, int] = {
            "sf_api_used": 0,
            "sf_api_max": 15_000,
            "hubspot_daily_used": 0,
        }
        self.credentials: dict[str, str] = {}
        self.state_providers: dict[str, Callable[[bool], Any]] = {}
        self._ids: dict[str, itertools.count[int]] = {}
        self._load_default_properties()

    # -- ids and time ------------------------------------------------------------------

    def now(self) -> datetime:
        """The store clock's current time (aware, UTC)."""
        return self.clock()

    def tick(self) -> int:
        """Run everything on the agenda that is due now; returns how many entries ran."""
        with self.lock:
            return self.agenda.run_due(self.clock())

    def advance(self, seconds: float) -> int:
        """Move sandbox time forward, stopping at each agenda entry on the way so that what
        happens is stamped with the time it was due; returns how many entries ran."""
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self.lock:
            target = self.now() + timedelta(seconds=seconds)
            ran = 0
            while (due := self.agenda.next_due()) is not None and due <= target:
                self.clock.advance_to(due)
                ran += self.agenda.run_due(self.clock())
            self.clock.advance_to(target)
            return ran + self.agenda.run_due(self.clock())

    @property
    def picklists(self) -> dict[str, list[dict[str, Any]]]:
        """Store-held picklists by the name the Salesforce schema refers to them."""
        return {"LeadStatus": self.lead_statuses, "TaskStatus": self.task_statuses,
                "RejectionReason": self.rejection_reasons}

    def new_id(self, kind: str) -> str:
        """A deterministic new id: numeric strings for HubSpot, 18-char keys for Salesforce."""
        with self.lock:
            counter = self._ids.setdefault(kind, itertools.count(_ID_START.get(kind, 1)))
            number = next(counter)
        if kind in SF_PREFIXES:
            id15 = SF_PREFIXES[kind] + "5g00" + _base62(number, 8)
            return id15 + sf_checksum(id15)
        return str(number)

    # -- counters ----------------------------------------------------------------------

    def count(self, system: str, endpoint: str, status: int) -> None:
        """Record one request answered by ``system`` at ``endpoint`` with ``status``."""
        with self.lock:
            self.counts[(system, endpoint, int(status))] += 1

    def request_count(
        self, system: str | None = None, endpoint: str | None = None, status: int | None = None
    ) -> int:
        """How many requests match the given (optional) system, endpoint and status."""
        with self.lock:
            return sum(
                n
                for (sys_, ep, st), n in self.counts.items()
                if (system is None or sys_ == system)
                and (endpoint is None or ep == endpoint)
                and (status is None or st == status)
            )

    # -- records -----------------------------------------------------------------------

    def add_contact(
        self, properties: dict[str, str | None], created: datetime | None = None
    ) -> str:
        """Create a contact with HubSpot's system properties filled in; returns its id."""
        return self._add_object(self.contacts, "contact", properties, created,
                                "lastmodifieddate")

    def add_company(
        self, properties: dict[str, str | None], created: datetime | None = None
    ) -> str:
        """Create a company (``hs_lastmodifieddate`` is its modification stamp)."""
        return self._add_object(self.companies, "company", properties, created,
                                "hs_lastmodifieddate")

    def _add_object(self, table: dict[str, dict[str, Any]], kind: str,
                    properties: dict[str, str | None], created: datetime | None,
                    modified_key: str) -> str:
        with self.lock:
            oid = self.new_id(kind)
            when = "" if "createdate" in properties else hs_time(created or self.now())
            props = {"createdate": when, modified_key: when, **properties, "hs_object_id": oid}
            table[oid] = {
                "id": oid,
                "properties": props,
                "createdAt": props["createdate"],
                "updatedAt": props[modified_key],
                "archived": False,
            }
            return oid

    def associate(self, contact_id: str, company_id: str, primary: bool = True) -> None:
        """Associate a contact with a company (the primary one sets ``associatedcompanyid``)."""
        with self.lock:
            linked = self.contact_companies.setdefault(contact_id, [])
            if company_id in linked:
                linked.remove(company_id)
            linked.insert(0 if primary else len(linked), company_id)
            if primary:
                self.contacts[contact_id]["properties"]["associatedcompanyid"] = company_id

    def set_modified(self, contact_ids: Iterable[str], when: datetime | str) -> None:
        """Give contacts one shared ``lastmodifieddate`` (what a bulk import does)."""
        stamp = when if isinstance(when, str) else hs_time(when)
        with self.lock:
            for cid in contact_ids:
                contact = self.contacts[cid]
                contact["properties"]["lastmodifieddate"] = stamp
                contact["updatedAt"] = stamp

    def mqls(self) -> list[str]:
        """Ids of contacts whose lifecycle stage is MQL."""
        with self.lock:
            return [
                cid
                for cid, c in self.contacts.items()
                if c["properties"].get("lifecyclestage") == "marketingqualifiedlead"
            ]

    # -- state -------------------------------------------------------------------------

    def snapshot(self, include_records: bool = True) -> dict[str, Any]:
        """Everything ``GET /_sandbox/state`` returns, as plain JSON-able data."""
        with self.lock:
            requests = [
                {"system": s, "endpoint": e, "status": st, "count": n}
                for (s, e, st), n in sorted(self.counts.items())
            ]
            by_system: Counter[str] = Counter()
            for (system, _e, _s), n in self.counts.items():
                by_system[system] += n
            state: dict[str, Any] = {
                "now": self.now().isoformat(),
                "totals": {
                    "contacts": len(self.contacts),
                    "companies": len(self.companies),
                    "mqls": len(self.mqls()),
                    "notes": len(self.notes),
                    "leads": len(self.leads),
                    "tasks": len(self.tasks),
                    "lead_history": len(self.lead_history),
                    "requests": dict(by_system),
                    "ignored_writes": len(self.ignored_writes),
                    "agenda": len(self.agenda),
                    **self.api_usage,
                },
                "requests": requests,
            }
            if include_records:
                state["contacts"] = [_plain(c) for c in self.contacts.values()]
                state["companies"] = [_plain(c) for c in self.companies.values()]
                state["notes"] = [_plain(n) for n in self.notes.values()]
                state["ignored_writes"] = list(self.ignored_writes)
                state["leads"] = [dict(lead) for lead in self.leads.values()]
                state["tasks"] = [dict(t) for t in self.tasks.values()]
                state["users"] = [dict(u) for u in self.users.values()]
                state["groups"] = [dict(g) for g in self.groups.values()]
                state["lead_history"] = [dict(h) for h in self.lead_history]
            for name, provider in self.state_providers.items():
                state[name] = provider(include_records)
            return state

    def _load_default_properties(self) -> None:
        from connectors.sandbox.properties import (
            default_company_properties,
            default_contact_properties,
            default_note_properties,
        )

        self.contact_property_defs = default_contact_properties()
        self.company_property_defs = default_company_properties()
        self.note_property_defs = default_note_properties()


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """A deep plain-dict copy (TrackedDict -> dict) for serialising."""
    return {
        k: _plain(v) if isinstance(v, dict) else (list(v) if isinstance(v, list) else v)
        for k, v in record.items()
    }
