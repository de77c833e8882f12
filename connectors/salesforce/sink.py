"""The Salesforce sink: SAL Status + custom fields on the Lead, a Task for accepted handoffs.

Review decisions (a score a person must decide on) may re-own the lead to a review queue or
user (``review_owner``) and get a Task too (``review_task``): see :func:`matching.new_owner`.
An accepted handoff no Lead matches may get its Lead created (``create_missing_leads``),
exactly once: see :mod:`connectors.salesforce.creation`.

Calls per batch of M handoffs (no per-lead calls anywhere):

* matching: ⌈ids/id_chunk⌉ ``queryAll`` calls for handoffs carrying a Lead id (deleted
  leads are visible there, so they are reported as such), then ⌈emails/email_chunk⌉ queries
  for the rest (and for ids Salesforce does not know); SOQL is built with ``format_soql``;
* ⌈M/200⌉ ``PATCH composite/sobjects`` (``allOrNone`` false) for the Lead updates;
* ⌈A/200⌉ ``PATCH composite/sobjects/Task/<key field>`` upserts for the A accepted handoffs
  (and review ones, with ``review_task``): the Task is keyed by ``Handoff.key`` in an
  external-id field, so a retry or a replay updates the same Task instead of creating a
  second one (no reconciliation call needed, ``recovering`` costs nothing extra);
* with ``create_missing_leads``, ⌈C/200⌉ ``PATCH composite/sobjects/Lead/<lead_key_field>``
  upserts for the C Leads created (keyed the same way, never folded: they carry their own
  ``Sforce-Auto-Assign``), then ⌈C/200⌉ queries for their owners;
* with review owners configured, one query the first time a batch holds a review decision.

With ``use_composite`` (default) the queries, the update collections and the Task
collections are each packed 5 per Composite call (one API call each); the Tasks still go
out only after the Lead updates answered, for the leads whose update landed.

``UNABLE_TO_LOCK_ROW`` records are re-sent ``lock_retries`` times with backoff inside the
call, then reported RETRYABLE; validation errors are PERMANENT; converted or deleted leads
are SKIPPED with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from simple_salesforce import format_soql

import connectors.salesforce.matching as m
import connectors.salesforce.sla as sla
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.creation import Created, LeadCreator
from connectors.salesforce.errors import (
    SKIP_REASONS,
    SMALLER_BATCH_CODES,
    describe_errors,
    record_status,
)
from connectors.salesforce.settings import SalesforceSettings
from sync_agent.errors import PermanentApiError
from sync_agent.logs import get_logger
from sync_agent.model import Handoff, Outcome, SlaAction, WriteResult, WriteState

Pair = tuple[Handoff, m.LeadRow]


class SalesforceSink:
    """Writes SAL decisions to Salesforce Leads (see the module docstring for the calls)."""

    def __init__(self, settings: SalesforceSettings, client: SalesforceClient,
                 name: str = "salesforce", *, clock: Callable[[], datetime] | None = None) -> None:
        self.name = name
        self.settings = settings
        self.client = client
        #: now, for ``create_missing_after_minutes`` (compared with the decision's time)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.creator = LeadCreator(settings, client, lambda ids: self._lookup(
            "Id", ids, settings.id_chunk, False))
        self._owner_cache: dict[str, m.Owner] = {}
        self.log = get_logger("connectors.salesforce.sink")

    def preflight(self) -> None:
        """Before a run reads anything: log in and check the API budget (one call), so a
        wrong secret stops it at once instead of after every lead was decided."""
        self.client.get("limits")

    @property
    def api_calls(self) -> int:
        """HTTP requests this connector made so far (retries and logins included)."""
        return int(self.client.calls)

    def write(self, handoffs: Sequence[Handoff], *, recovering: bool = False) -> list[WriteResult]:
        """One result per handoff; only whole-call failures raise."""
        unique: dict[str, Handoff] = {}
        for handoff in handoffs:
            unique.setdefault(handoff.key, handoff)
        if any(h.decision.outcome is Outcome.REVIEW for h in unique.values()):
            self._check_review_owners()
        results: dict[str, WriteResult] = {}
        pairs: list[Pair] = []
        missing: list[Handoff] = []
        for handoff, found in self._match(list(unique.values())):
            if isinstance(found, m.LeadRow):
                pairs.append((handoff, found))
            elif (answer := self._unless_created(handoff, found)) is not None:
                results[handoff.key] = answer
            else:
                missing.append(handoff)
        # Creates go first: a set-up error there (no key field) stops before any update.
        made = self.creator.create(missing, results) if missing else Created([], [])
        updated = self._update_leads(pairs + made.followers, results)
        done = updated + made.created
        tasks = [p for p in done if self._wants_task(p[0])]
        if tasks:
            self._upsert_tasks([(h, m.after_update(h, lead, self.settings)) for h, lead in tasks],
                               results)
        created = {h.key for h, _ in made.created}
        for handoff, lead in done:
            results.setdefault(handoff.key, WriteResult(
                handoff.key, WriteState.WRITTEN, "lead created" if handoff.key in created else "",
                lead.id))
        self.log.info("salesforce_write", handoffs=len(handoffs), recovering=recovering,
                      **_tally(results.values()))
        return [results[h.key] for h in handoffs]

    def act(self, actions: Sequence[SlaAction], *, recovering: bool = False) -> list[WriteResult]:
        """Follow-up SLA breach actions (mark, escalate, reassign): :mod:`.sla`."""
        return sla.act(self, actions, recovering)

    # -- matching --------------------------------------------------------------------------

    def _match(self, handoffs: list[Handoff]) -> list[tuple[Handoff, m.LeadRow | WriteResult]]:
        ids = sorted({i for h in handoffs if (i := m.lead_id_of(h, self.name))})
        by_id = {row.id: row for row in self._lookup("Id", ids, self.settings.id_chunk, True)}
        out: list[tuple[Handoff, m.LeadRow | WriteResult]] = []
        need_email: list[Handoff] = []
        for handoff in handoffs:
            found = m.resolve_by_id(handoff, by_id)
            if found is None:
                need_email.append(handoff)
            else:
                out.append((handoff, found))
        emails = sorted({e for h in need_email if (e := m.email_of(h))})
        rows = self._lookup("Email", emails, self.settings.email_chunk, False)
        by_email = m.index_by_email(rows)
        out += [(h, m.resolve_by_email(h, by_email)) for h in need_email]
        return out

    def _lookup(self, field: str, values: list[str], chunk: int,
                include_deleted: bool) -> list[m.LeadRow]:
        soqls = [format_soql("SELECT {:literal} FROM Lead WHERE {:literal} IN {}",
                             ", ".join(m.LEAD_MATCH_FIELDS), field, values[start : start + chunk])
                 for start in range(0, len(values), chunk)]
        records = self.client.query_many(soqls, include_deleted=include_deleted)
        return [row for r in records if (row := m.LeadRow.from_record(r)) is not None]

    # -- writes ----------------------------------------------------------------------------

    def _update_leads(self, pairs: list[Pair], results: dict[str, WriteResult]) -> list[Pair]:
        """Send the Lead updates; return the pairs whose update landed."""
        return self._send(pairs, m.lead_update, "composite/sobjects", results, "lead",
                          lambda todo, size: m.rounds(todo, size))

    def _unless_created(self, handoff: Handoff, found: WriteResult) -> WriteResult | None:
        """What to answer for a handoff no Lead matched; None: create its Lead now.

        Only accepted handoffs with an e-mail (the match said WAITING) get a Lead, and only
        once ``create_missing_after_minutes`` have passed since the decision: until then the
        CRM's own sync may still create it, and the outbox tries again later."""
        s = self.settings
        if not (s.create_missing_leads and found.status is WriteState.WAITING
                and handoff.decision.outcome is Outcome.ACCEPTED):
            return found
        due = handoff.decision.decided_at + timedelta(minutes=s.create_missing_after_minutes)
        if self.clock() >= due:
            return None
        when = due.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return replace(found, reason=f"{found.reason}; the agent creates it from {when} if it "
                       "is still missing")

    def _wants_task(self, handoff: Handoff) -> bool:
        outcome = handoff.decision.outcome
        return (self.settings.create_task and outcome is Outcome.ACCEPTED) or (
            self.settings.review_task and outcome is Outcome.REVIEW)

    def _upsert_tasks(self, pairs: list[Pair], results: dict[str, WriteResult]) -> None:
        owners = self._owners({lead.owner_id for h, lead in pairs if lead.owner_id and not (
            h.decision.outcome is Outcome.REVIEW and self.settings.review_task_assignee)})

        def build(h: Handoff, lead: m.LeadRow, s: SalesforceSettings) -> Any:
            return m.task_upsert(h, lead, s, owners.get(lead.owner_id or ""))

        self._send(pairs, build, f"composite/sobjects/Task/{self.settings.task_key_field}",
                   results, "task", lambda todo, size: [todo[i : i + size]
                                                        for i in range(0, len(todo), size)])

    def _check_review_owners(self) -> None:
        """The review owners configured exist and can take what they are given, checked
        once per sink before anything is written: a wrong id would fail every review
        decision alike, so it stops the run with the fix instead."""
        s = self.settings
        wanted = {"review_owner": s.review_owner}
        if s.review_task:
            wanted["review_task_owner"] = s.review_task_assignee
        found = self._owners({oid for oid in wanted.values() if oid})
        for setting, oid in wanted.items():
            owner = found.get(oid)
            if not oid or (owner is not None and owner.active):
                continue
            what = "not a user or queue of this org" if owner is None else (
                f"{owner.name}, not a queue" if owner.queue else f"{owner.name}, an inactive user")
            raise PermanentApiError(
                f"Salesforce {setting} {oid} is {what}: fix it under [connectors.{self.name}]",
                configuration=True)

    def _owners(self, ids: set[str]) -> dict[str, m.Owner]:
        """Who the lead owners are (users: active?; queues: name), kept for the sink's life:
        a sales team is a few dozen people, so this costs a query only for new owners. A
        group that is not a queue can own nothing: it counts as inactive."""
        unknown = sorted(ids - set(self._owner_cache))
        users = [i for i in unknown if not i.startswith("00G")]
        queues = [i for i in unknown if i.startswith("00G")]
        soqls = [format_soql("SELECT Id, Name, IsActive FROM User WHERE Id IN {}",
                             users[i : i + self.settings.id_chunk])
                 for i in range(0, len(users), self.settings.id_chunk)]
        soqls += [format_soql("SELECT Id, Name, Type FROM Group WHERE Id IN {}",
                              queues[i : i + self.settings.id_chunk])
                  for i in range(0, len(queues), self.settings.id_chunk)]
        for record in self.client.query_many(soqls) if soqls else []:
            rid = str(record.get("Id") or "")
            queue = rid.startswith("00G")
            active = record.get("Type") == "Queue" if queue else record.get("IsActive") is not False
            self._owner_cache[rid] = m.Owner(rid, str(record.get("Name") or rid), queue, active)
        return {i: self._owner_cache[i] for i in ids if i in self._owner_cache}

    def _send(
        self, pairs: list[Pair], build: Callable[[Handoff, m.LeadRow, SalesforceSettings], Any],
        path: str, results: dict[str, WriteResult], kind: str,
        chunker: Callable[[list[Pair], int], list[list[Pair]]], size: int | None = None,
    ) -> list[Pair]:
        """Send every chunk; re-send only lock failures (with backoff); record other failures.

        Records an org trigger failed on (a governor limit, ``CANNOT_INSERT_UPDATE_ACTIVATE_
        ENTITY``) are sent again in half-size chunks, down to one record a call, before that
        failure counts as permanent."""
        size = size or self.settings.batch_size
        ok: list[Pair] = []
        smaller: list[Pair] = []
        newer = _NewerLanded(pairs)
        pending = pairs
        for attempt in range(self.settings.lock_retries + 1):
            chunks = chunker(pending, size)
            bodies = [[build(h, lead, self.settings) for h, lead in chunk] for chunk in chunks]
            answers = self.client.collections("PATCH", path, bodies) if bodies else []
            retry: list[Pair] = []
            for chunk, answer in zip(chunks, answers, strict=True):
                for pair, outcome in zip(chunk, answer, strict=True):
                    if outcome["success"]:
                        ok.append(pair)
                        newer.landed(pair)
                        continue
                    code, detail = describe_errors(outcome.get("errors"))
                    if code in SMALLER_BATCH_CODES and size > 1:
                        smaller.append(pair)
                        continue
                    status = record_status(code)
                    if status is WriteState.RETRYABLE and attempt < self.settings.lock_retries:
                        retry.append(pair)
                        continue
                    handoff, lead = pair
                    reason = SKIP_REASONS.get(code) or f"{kind}: {detail}"
                    results[handoff.key] = WriteResult(handoff.key, status, reason, lead.id)
            retry = [p for p in retry if not newer.skip(p, results)]
            if not retry:
                break
            self.client.sleep(self.client.backoff(attempt + 1, None))
            pending = retry
        for pair in pending:  # the last round's lock failures too: the outbox would re-send
            result = results.get(pair[0].key)
            if result is not None and result.status is WriteState.RETRYABLE:
                newer.skip(pair, results)
        if smaller:
            self.log.info("salesforce_smaller_batches", kind=kind, records=len(smaller),
                          size=size // 2)
            ok += self._send(smaller, build, path, results, kind, chunker, size // 2)
        return ok


class _NewerLanded:
    """Never send an older handoff again over a newer one for the same lead that landed.

    ``pairs`` come oldest first, and two decisions for one lead go out in separate rounds:
    the older may fail on a lock while the newer lands. Sending the older again, now or
    later from the outbox, would put an outdated SAL status back on the lead."""

    def __init__(self, pairs: list[Pair]) -> None:
        self.position = {id(pair): index for index, pair in enumerate(pairs)}
        self.newest: dict[str, int] = {}

    def landed(self, pair: Pair) -> None:
        lead_id = pair[1].id
        self.newest[lead_id] = max(self.newest.get(lead_id, -1), self.position[id(pair)])

    def skip(self, pair: Pair, results: dict[str, WriteResult]) -> bool:
        """Record ``pair`` as superseded (True) when a newer one for its lead landed."""
        handoff, lead = pair
        if self.newest.get(lead.id, -1) <= self.position[id(pair)]:
            return False
        results[handoff.key] = WriteResult(
            handoff.key, WriteState.SKIPPED, "superseded by a newer handoff in the same batch",
            lead.id)
        return True


def _tally(results: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status.value] = counts.get(result.status.value, 0) + 1
    return counts
