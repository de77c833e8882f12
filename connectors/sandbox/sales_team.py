"""A sales team that acts on the agent's handoffs over sandbox time.

When the agent hands a lead off (it creates a Task on a Lead, sets the Lead's Status to the
accepted SAL status, or sets the HubSpot contact's SAL status to accepted), the lead's rep
plans, deterministically from the seed and the lead, what they will do and when:

* **first touch**: most within the 24 h SLA, ``late_share`` after it (26 to 96 h), a few
  never (``ignore_share``; leads owned by an inactive user are never touched). The rep
  completes the agent's Task (or logs a call), moves the Lead to ``Working - Contacted``
  (a queue-owned lead is taken over), and on the HubSpot contact sets ``hs_lead_status``,
  ``hs_last_sales_activity_timestamp``, ``notes_last_contacted``,
  ``hs_sa_first_engagement_date``, the owner, and (when the rep qualifies it: a lead they
  will convert or keep working) lifecycle stage ``salesqualifiedlead``.
* **outcome**, days later: convert (Lead converted with account, contact and opportunity
  ids; contact to ``opportunity``), reject (the org's rejection status and reason picklist;
  ``UNQUALIFIED`` and the portal's rejection reason property), recycle (``Recycled``;
  ``BAD_TIMING`` and the stage cleared back to ``lead``), or keep working.

Plans go on the store's agenda, so ``Sandbox.advance`` makes the team act on everything
due. What the team planned and did is in ``/_sandbox/state`` under ``team``, so a test can
compute expected SLA and funnel numbers from the sandbox's own state. The rules of thumb
(shares, delays) are the sandbox's assumptions, not vendor facts.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.sandbox import hubspot_catalog
from connectors.sandbox.events import SALES_REP, Change
from connectors.sandbox.hubspot_portal import apply_changes, backwards
from connectors.sandbox.salesforce_auth import USER_ID
from connectors.sandbox.salesforce_records import is_closed, write_record
from connectors.sandbox.store import SandboxStore, hs_time, sf_time

OUTCOMES = ("converted", "rejected", "recycled", "working")
#: Planned outcomes whose rep qualifies the lead at the first touch (HubSpot lifecycle stage
#: ``salesqualifiedlead``); a lead the rep will reject or recycle is not moved to SQL.
QUALIFIED = ("converted", "working")


@dataclass
class TeamConfig:
    """How the sandbox's reps behave; shares are probabilities per handoff."""

    seed: int = 0
    enabled: bool = True
    on_time_hours: tuple[float, float, float] = (0.25, 3.0, 22.0)  # triangular low/mode/high
    late_share: float = 0.25
    late_hours: tuple[float, float] = (26.0, 96.0)
    ignore_share: float = 0.05
    outcome_days: tuple[float, float] = (1.0, 12.0)
    convert_share: float = 0.3
    reject_share: float = 0.25
    recycle_share: float = 0.1
    salesforce_accepted_status: str = "SAL - Accepted"
    working_status: str = "Working - Contacted"
    recycle_status: str = "Recycled"
    hubspot_sal_property: str = "sal_status"
    hubspot_accepted_value: str = "accepted"
    hubspot_rejection_property: str = hubspot_catalog.REJECTION_PROPERTY


@dataclass
class Handoff:
    """One handoff the team took on: what it planned, and what it has done so far."""

    key: str
    email: str | None
    lead_id: str | None
    contact_id: str | None
    task_id: str | None
    owner_id: str | None
    handed_off_at: str
    first_touch_due: str | None
    outcome: str
    outcome_due: str | None
    reason: str | None = None
    first_touch_at: str | None = None
    outcome_at: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)


class SalesTeam:
    """Listens to the store's change events and acts on handoffs when they fall due."""

    def __init__(self, store: SandboxStore, config: TeamConfig | None = None) -> None:
        self.store = store
        self.config = config or TeamConfig()
        self.handoffs: dict[str, Handoff] = {}
        self._by_lead: dict[str, str] = {}
        self._by_contact: dict[str, str] = {}
        self._index = _Index(store)
        store.events.subscribe(self._on_change)
        store.state_providers["team"] = self.state

    # -- noticing handoffs -------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        self._index.update(change)
        if not self.config.enabled or change.source == SALES_REP:
            return
        cfg = self.config
        if change.system == "salesforce" and change.source_id == USER_ID:
            if change.object_type == "Task" and change.created:
                who = change.new("WhoId")
                if isinstance(who, str) and who in self.store.leads:
                    self._take(change.at, lead_id=who, task_id=change.object_id)
            elif change.object_type == "Lead" and change.changed("Status") \
                    and change.new("Status") == cfg.salesforce_accepted_status:
                self._take(change.at, lead_id=change.object_id)
        elif change.system == "hubspot" and change.object_type == "contact" \
                and change.changed(cfg.hubspot_sal_property) \
                and change.new(cfg.hubspot_sal_property) == cfg.hubspot_accepted_value:
            self._take(change.at, contact_id=change.object_id)

    def _take(self, at: datetime, *, lead_id: str | None = None, contact_id: str | None = None,
              task_id: str | None = None) -> None:
        lead_id = lead_id or self._lead_of(contact_id)
        contact_id = contact_id or self._contact_of(lead_id)
        known = (lead_id and self._by_lead.get(lead_id)) or \
            (contact_id and self._by_contact.get(contact_id))
        if known:
            if task_id and self.handoffs[known].task_id is None:
                self.handoffs[known].task_id = task_id
            return
        handoff = self._plan(at, lead_id, contact_id, task_id)
        self.handoffs[handoff.key] = handoff
        if lead_id:
            self._by_lead[lead_id] = handoff.key
        if contact_id:
            self._by_contact[contact_id] = handoff.key
        if handoff.first_touch_due:
            self.store.agenda.at(_parse(handoff.first_touch_due),
                                 lambda when: self._first_touch(handoff, when))

    def _lead_of(self, contact_id: str | None) -> str | None:
        contact = self.store.contacts.get(contact_id or "")
        if contact is None:
            return None
        props = contact["properties"]
        linked = props.get("salesforceleadid")
        if linked in self.store.leads:
            return str(linked)
        leads = self.store.leads
        return next((lid for lid in self._index.leads_for(_email(props))
                     if not leads[lid].get("IsDeleted") and not leads[lid].get("IsConverted")),
                    None)

    def _contact_of(self, lead_id: str | None) -> str | None:
        lead = self.store.leads.get(lead_id or "")
        if lead is None:
            return None
        return self._index.contact_for(str(lead_id), _email({"email": lead.get("Email")}))

    # -- planning --------------------------------------------------------------------------

    def _plan(self, at: datetime, lead_id: str | None, contact_id: str | None,
              task_id: str | None) -> Handoff:
        cfg = self.config
        key = f"lead:{lead_id}" if lead_id else f"contact:{contact_id}"
        rng = random.Random(f"{cfg.seed}:{key}")
        owner = self._owner(lead_id, contact_id, rng)
        draw = rng.random()
        if owner is None or draw < cfg.ignore_share:
            touch = None
        elif draw < cfg.ignore_share + cfg.late_share:
            touch = at + timedelta(hours=rng.uniform(*cfg.late_hours))
        else:
            touch = at + timedelta(hours=rng.triangular(*cfg.on_time_hours))
        draw = rng.random()
        outcome = "working"
        for name, share in (("converted", cfg.convert_share), ("rejected", cfg.reject_share),
                            ("recycled", cfg.recycle_share)):
            if draw < share:
                outcome = name
                break
            draw -= share
        if touch is None:
            outcome = "untouched"
        reason = rng.choice([r["ApiName"] for r in self.store.rejection_reasons]) \
            if outcome == "rejected" else None
        due = touch + timedelta(days=rng.uniform(*cfg.outcome_days)) \
            if touch is not None and outcome in OUTCOMES[:3] else None
        contact = self.store.contacts.get(contact_id or "")
        lead = self.store.leads.get(lead_id or "")
        email = (lead or {}).get("Email") or (contact or {}).get("properties", {}).get("email")
        return Handoff(key, email, lead_id, contact_id, task_id, owner, hs_time(at),
                       hs_time(touch) if touch else None, outcome,
                       hs_time(due) if due else None, reason)

    def _owner(self, lead_id: str | None, contact_id: str | None,
               rng: random.Random) -> str | None:
        """The rep who acts: the lead's active owner; a rep from the queue; none if the
        owner is inactive."""
        reps = sorted(uid for uid, u in self.store.users.items()
                      if u.get("IsRep") and u.get("IsActive"))
        lead = self.store.leads.get(lead_id or "")
        owner = lead.get("OwnerId") if lead else None
        if owner in self.store.users:
            return owner if self.store.users[owner].get("IsActive") else None
        if not reps:
            return None
        if owner is None and contact_id:
            hs_owner = self.store.contacts[contact_id]["properties"].get("hubspot_owner_id")
            mapped = self.store.hubspot_owners.get(hs_owner or "", {}).get("salesforceUserId")
            if mapped in reps:
                return str(mapped)
        return rng.choice(reps)

    # -- acting ----------------------------------------------------------------------------

    def _first_touch(self, handoff: Handoff, when: datetime) -> None:
        owner = handoff.owner_id or USER_ID
        rng = random.Random(f"{self.config.seed}:{handoff.key}:touch")
        lead = self.store.leads.get(handoff.lead_id or "")
        if lead is not None and not lead.get("IsDeleted"):
            self._complete_task(handoff, owner, when)
            values: dict[str, Any] = {"Status": self.config.working_status}
            if not str(lead.get("OwnerId")).startswith("005"):
                values["OwnerId"] = owner  # a rep takes the lead from the queue
            if not lead.get("IsConverted"):
                self._sf(handoff, "Lead", lead["Id"], values, owner, "lead working",
                         when)
        stamp = hs_time(when)
        self._hs(handoff, owner, "first touch", {
            "hs_lead_status": rng.choice(["ATTEMPTED_TO_CONTACT", "CONNECTED"]),
            "hs_last_sales_activity_timestamp": stamp, "notes_last_contacted": stamp,
            **(self._stage(handoff, "salesqualifiedlead") if handoff.outcome in QUALIFIED
               else {}),
            **self._first_engagement(handoff, stamp),
            **self._hubspot_owner(owner)}, when)
        handoff.first_touch_at = stamp
        if handoff.outcome_due:
            self.store.agenda.at(_parse(handoff.outcome_due),
                                 lambda at: self._conclude(handoff, at))

    def _complete_task(self, handoff: Handoff, owner: str, when: datetime) -> None:
        task = self.store.tasks.get(handoff.task_id or "")
        if task is not None and not task.get("IsDeleted"):
            if not is_closed(self.store, task.get("Status")):
                self._sf(handoff, "Task", task["Id"], {"Status": "Completed"}, owner,
                         "task completed", when)
            return
        task_id = self._sf(handoff, "Task", None, {
            "WhoId": handoff.lead_id, "OwnerId": owner, "Subject": "Call",
            "Status": "Completed", "ActivityDate": sf_time(when)[:10]}, owner, "call logged", when)
        handoff.task_id = handoff.task_id or task_id

    def _conclude(self, handoff: Handoff, when: datetime) -> None:
        owner = handoff.owner_id or USER_ID
        lead = self.store.leads.get(handoff.lead_id or "")
        live = lead is not None and not lead.get("IsDeleted") and not lead.get("IsConverted")
        org = self.store.org
        if handoff.outcome == "converted":
            if live:
                self._sf(handoff, "Lead", handoff.lead_id, {
                    "Status": self._converted_status(), "IsConverted": True,
                    "ConvertedDate": sf_time(when)[:10],
                    "ConvertedAccountId": self.store.new_id("account"),
                    "ConvertedContactId": self.store.new_id("sf_contact"),
                    "ConvertedOpportunityId": self.store.new_id("opportunity")},
                    owner, "converted", when)
            self._hs(handoff, owner, "converted",
                     {**self._stage(handoff, "opportunity"), "hs_lead_status": "OPEN_DEAL"}, when)
        elif handoff.outcome == "rejected":
            if live:
                self._sf(handoff, "Lead", handoff.lead_id, {
                    "Status": org.rejection_status,
                    org.rejection_reason_field: handoff.reason}, owner, "rejected", when)
            self._hs(handoff, owner, "rejected", {
                "hs_lead_status": "UNQUALIFIED",
                self.config.hubspot_rejection_property: _reason_value(handoff.reason)}, when)
        elif handoff.outcome == "recycled":
            if live:
                self._sf(handoff, "Lead", handoff.lead_id, {"Status": self.config.recycle_status},
                         owner, "recycled", when)
            self._hs(handoff, owner, "recycled", {"hs_lead_status": "BAD_TIMING",
                                                  "lifecyclestage": ""}, when)
            self._hs(handoff, owner, "recycled", {"lifecyclestage": "lead"}, when)
        handoff.outcome_at = hs_time(when)

    def _converted_status(self) -> str:
        return next((s["ApiName"] for s in self.store.lead_statuses if s.get("IsConverted")),
                    "Closed - Converted")

    def _stage(self, handoff: Handoff, stage: str) -> dict[str, str]:
        """Move the contact's lifecycle stage forward to ``stage`` (never back)."""
        contact = self.store.contacts.get(handoff.contact_id or "")
        current = contact["properties"].get("lifecyclestage") if contact else None
        if contact is None or current == stage or backwards(current, stage):
            return {}
        return {"lifecyclestage": stage}

    def _first_engagement(self, handoff: Handoff, stamp: str) -> dict[str, str]:
        contact = self.store.contacts.get(handoff.contact_id or "")
        if contact is None or contact["properties"].get("hs_sa_first_engagement_date"):
            return {}
        return {"hs_sa_first_engagement_date": stamp}

    def _hubspot_owner(self, user_id: str) -> dict[str, str]:
        owner = next((oid for oid, o in self.store.hubspot_owners.items()
                      if o.get("salesforceUserId") == user_id), None)
        return {"hubspot_owner_id": owner} if owner else {}

    # -- writing, and remembering what was done -------------------------------------------

    def _sf(self, handoff: Handoff, sobject: str, rid: str | None, values: dict[str, Any],
            owner: str, what: str, when: datetime) -> str:
        new_id, _created = write_record(self.store, sobject, rid, values, actor=owner,
                                        source=SALES_REP, at=when)
        handoff.actions.append({"at": sf_time(when), "system": "salesforce",
                                "what": what, "object": sobject, "id": new_id,
                                "values": {k: v for k, v in values.items()}})
        return new_id

    def _hs(self, handoff: Handoff, owner: str, what: str, values: dict[str, Any],
            when: datetime) -> None:
        contact = self.store.contacts.get(handoff.contact_id or "")
        if contact is None:
            return
        hs_owner = self._hubspot_owner(owner).get("hubspot_owner_id")
        user = self.store.hubspot_owners.get(hs_owner or "", {}).get("userId")
        apply_changes(self.store, "contacts", contact, values, source=SALES_REP,
                      source_id=f"userId:{user}" if user else None, at=when)
        handoff.actions.append({"at": hs_time(when), "system": "hubspot",
                                "what": what, "object": "contact", "id": contact["id"],
                                "values": dict(values)})

    # -- state -----------------------------------------------------------------------------

    def state(self, include_records: bool = True) -> dict[str, Any]:
        """What ``/_sandbox/state`` shows under ``team``."""
        handoffs = list(self.handoffs.values())
        summary = {
            "handoffs": len(handoffs),
            "touched": sum(h.first_touch_at is not None for h in handoffs),
            "planned": {o: sum(h.outcome == o for h in handoffs)
                        for o in (*OUTCOMES, "untouched")},
            "concluded": sum(h.outcome_at is not None for h in handoffs),
        }
        out: dict[str, Any] = {"config": asdict(self.config), "summary": summary}
        if include_records:
            out["handoffs"] = [asdict(h) for h in handoffs]
        return out


class _Index:
    """Who is who across the two systems (emails, linked lead ids), built on first use and
    kept current from change events, so a handoff never scans every record."""

    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self.built = False
        self.contact_by_email: dict[str, str] = {}
        self.contact_by_lead_id: dict[str, str] = {}
        self.leads_by_email: dict[str, list[str]] = {}

    def contact_for(self, lead_id: str, email: str) -> str | None:
        self._build()
        return self.contact_by_lead_id.get(lead_id) or self.contact_by_email.get(email)

    def leads_for(self, email: str) -> list[str]:
        self._build()
        return self.leads_by_email.get(email, [])

    def _build(self) -> None:
        if self.built:
            return
        self.built = True
        for cid, contact in self.store.contacts.items():
            self._contact(cid, contact["properties"])
        for lid, lead in self.store.leads.items():
            self._lead(lid, lead)

    def update(self, change: Change) -> None:
        if not self.built:
            return
        if change.system == "hubspot" and change.object_type == "contact":
            contact = self.store.contacts.get(change.object_id)
            if contact is not None:
                self._contact(change.object_id, contact["properties"])
        elif change.system == "salesforce" and change.object_type == "Lead" and change.created:
            self._lead(change.object_id, self.store.leads[change.object_id])

    def _contact(self, cid: str, props: dict[str, Any]) -> None:
        email = _email(props)
        if email:
            self.contact_by_email.setdefault(email, cid)
        if props.get("salesforceleadid"):
            self.contact_by_lead_id[str(props["salesforceleadid"])] = cid

    def _lead(self, lid: str, lead: dict[str, Any]) -> None:
        email = _email({"email": lead.get("Email")})
        if email and lid not in self.leads_by_email.get(email, []):
            self.leads_by_email.setdefault(email, []).append(lid)


def _email(props: dict[str, Any]) -> str:
    return str(props.get("email") or "").strip().lower()


def _reason_value(reason: str | None) -> str | None:
    """The portal's rejection option for a Salesforce reason (same wording, by label)."""
    if reason is None:
        return None
    for value, label in hubspot_catalog.REJECTION_REASONS:
        if label.lower() == reason.lower() or value == reason:
            return value
    return "not_a_fit"


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
