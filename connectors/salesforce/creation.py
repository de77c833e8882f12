"""Creating the Lead of an accepted MQL that never reached Salesforce, exactly once.

Why an upsert: the create is ``PATCH composite/sobjects/Lead/<lead_key_field>`` with the
handoff key in that unique External ID field. Salesforce inserts the Lead when no Lead holds
the key and updates it when one does, so a create whose answer was lost (a timeout, a cut
connection, a crash before the result was recorded) is simply sent again, by the client
within the call or by the outbox later: the second send finds the Lead the first one made.
No reconciling search is needed, and none could be trusted as much (a search may not see a
record that new). Later attempts usually find the Lead earlier anyway, by its e-mail.

Who owns the new Lead: ``create_lead_owner`` when set (assignment rules are told not to
run), else the org's active lead assignment rule, which runs on this call only
(``Sforce-Auto-Assign: TRUE``), as it does for web-to-lead. A retried create is an update
of that Lead, so with no configured owner the rule runs again on it.

Refusals are per record (validation rules, restricted picklists, duplicate rules, ...):
results with the reason, never exceptions. Records an org trigger fails in a big batch are
sent again in smaller ones, as updates are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import connectors.salesforce.matching as m
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.errors import (
    SKIP_REASONS,
    SMALLER_BATCH_CODES,
    MalformedResponse,
    describe_errors,
    record_status,
)
from connectors.salesforce.settings import SalesforceSettings
from sync_agent.logs import get_logger
from sync_agent.model import Handoff, WriteResult, WriteState

#: What HubSpot's own Salesforce connector writes in required fields the contact lacks.
NOT_PROVIDED = "[not provided]"
#: Standard Lead text fields and their lengths (Salesforce Lead object reference): longer
#: values are cut to fit rather than refused with STRING_TOO_LONG. E-mails are never cut.
LENGTHS = {"FirstName": 40, "LastName": 80, "Company": 255, "Title": 128, "Phone": 40,
           "Country": 80, "City": 40, "State": 80, "Website": 255}
REQUIRED = ("LastName", "Company")

Pair = tuple[Handoff, m.LeadRow]
Lookup = Callable[[list[str]], list[m.LeadRow]]


def lead_create(handoff: Handoff, settings: SalesforceSettings) -> dict[str, Any]:
    """The upsert record creating the lead's Lead: its fields, the SAL fields, the key."""
    record: dict[str, Any] = {"attributes": {"type": "Lead"}}
    fields = handoff.mql.fields
    for canonical in settings.create_fields:
        name = settings.field_map.fields.get(canonical)
        value = fields.get(canonical)
        if isinstance(value, str):
            value = value.strip()
        if name and value not in (None, ""):
            record[name] = _fit(name, value)
    for name in REQUIRED:
        record.setdefault(name, NOT_PROVIDED)
    sal = m.lead_update(handoff, m.LeadRow("", "", False, False, None), settings)
    record.update({k: v for k, v in sal.items() if k not in ("attributes", "id")})
    if settings.create_lead_owner:
        record["OwnerId"] = settings.create_lead_owner
    record[settings.lead_key_field] = handoff.key[:255]
    return record


def _fit(name: str, value: Any) -> Any:
    if isinstance(value, int | float):  # bool too: Salesforce takes JSON numbers and booleans
        return value
    text = str(value)
    limit = LENGTHS.get(name)
    return text[:limit] if limit else text


@dataclass
class Created:
    """What :meth:`LeadCreator.create` made: pairs to give a Task, pairs still to update."""

    created: list[Pair]
    followers: list[Pair]


class LeadCreator:
    """Creates missing Leads for one sink (see the module docstring)."""

    def __init__(self, settings: SalesforceSettings, client: SalesforceClient,
                 lookup: Lookup) -> None:
        self.settings = settings
        self.client = client
        self.lookup = lookup
        self.log = get_logger("connectors.salesforce.creation")

    @property
    def headers(self) -> dict[str, str]:
        return {"Sforce-Auto-Assign": "FALSE" if self.settings.create_lead_owner else "TRUE"}

    def create(self, handoffs: Sequence[Handoff], results: dict[str, WriteResult]) -> Created:
        """Create one Lead per e-mail; the other handoffs with that e-mail join it."""
        first: dict[str, Handoff] = {}
        joining: list[Handoff] = []
        for handoff in handoffs:
            email = m.email_of(handoff) or handoff.key
            if email in first:
                joining.append(handoff)
            else:
                first[email] = handoff
        ids = self._send(list(first.values()), self.settings.batch_size, results)
        rows = {row.id: row for row in self.lookup(sorted(set(ids.values())))} if ids else {}
        out = Created([], [])
        for handoff in first.values():
            lead_id = ids.get(handoff.key)
            if lead_id is None:
                continue
            if lead_id not in rows:  # created, but not readable yet: the Task must wait
                results[handoff.key] = WriteResult(
                    handoff.key, WriteState.RETRYABLE, "lead created; it is not readable yet, "
                    "so its owner is unknown: the task follows on the next attempt", lead_id)
                continue
            out.created.append((handoff, rows[lead_id]))
        by_email = {m.email_of(h): row for h, row in out.created}
        for handoff in joining:
            row = by_email.get(m.email_of(handoff))
            if row is None:
                results[handoff.key] = WriteResult(
                    handoff.key, WriteState.WAITING, "waiting for the CRM record: the lead for "
                    "this e-mail is being created by another handoff")
            else:
                out.followers.append((handoff, row))
        self.log.info("salesforce_leads_created", wanted=len(first), landed=len(ids),
                      readable=len(out.created))
        return out

    def _send(self, todo: list[Handoff], size: int,
              results: dict[str, WriteResult]) -> dict[str, str]:
        """Upsert in chunks of ``size``; ``{handoff key: lead id}`` of those that landed."""
        landed: dict[str, str] = {}
        smaller: list[Handoff] = []
        for start in range(0, len(todo), size):
            chunk = todo[start : start + size]
            answers = self._upsert([lead_create(h, self.settings) for h in chunk])
            for handoff, answer in zip(chunk, answers, strict=True):
                if answer["success"]:
                    landed[handoff.key] = answer["id"]
                    continue
                code, detail = describe_errors(answer.get("errors"))
                if code in SMALLER_BATCH_CODES and size > 1:
                    smaller.append(handoff)
                    continue
                reason = SKIP_REASONS.get(code) or f"lead create: {detail}"
                results[handoff.key] = WriteResult(handoff.key, record_status(code), reason)
        if smaller:
            landed |= self._send(smaller, size // 2, results)
        return landed

    def _upsert(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        path = f"composite/sobjects/Lead/{self.settings.lead_key_field}"
        body = {"allOrNone": False, "records": records}
        return self.client.call(path, lambda sf: _checked(sf.restful(
            path, method="PATCH", json=body, headers=self.headers,
            timeout=self.settings.timeout), len(records)))


def _checked(answer: Any, expected: int) -> list[dict[str, Any]]:
    """Per-record upsert results: one object each, ``success`` a bool, an id when it is."""
    if not isinstance(answer, list) or len(answer) != expected:
        raise MalformedResponse(f"Salesforce upsert answer: expected {expected} results")
    for item in answer:
        if not isinstance(item, dict) or not isinstance(item.get("success"), bool) or (
                item["success"] and not isinstance(item.get("id"), str)):
            raise MalformedResponse("Salesforce upsert answer has a malformed result")
    return answer
