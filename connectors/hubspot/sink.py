"""The HubSpot sink: SAL properties on the contact, and a note for accepted handoffs.

Review decisions may give the contact to a reviewer (``review_owner_id``, only contacts
without an owner unless ``review_owner_overrides``) and get a note too (``review_note``).
Everything is batched (100 inputs per call): ⌈M/100⌉ update calls for M handoffs and
⌈noted/100⌉ note-create calls. Note creation is idempotent per handoff key: notes carry
``sal_handoff_key``; with ``recovering=True`` (an earlier attempt may have landed) the
sink first searches for the keys and creates only the missing notes, and a failed create
is retried only through that same search, never blindly. First attempts pay no extra
call. ``lifecyclestage`` is never written backwards: it is only written at all when
``advance_stage`` is set, after reading the current stages (and the owners review may
take) in one batch read per 100.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    BatchReadInputSimplePublicObjectId,
    SimplePublicObjectBatchInput,
    SimplePublicObjectId,
)
from hubspot.crm.contacts import Configuration as ContactsConfiguration
from hubspot.crm.contacts import Filter as ContactFilter
from hubspot.crm.contacts import FilterGroup as ContactFilterGroup
from hubspot.crm.contacts import PublicObjectSearchRequest as ContactSearchRequest
from hubspot.crm.objects.notes import (
    AssociationSpec,
    BatchInputSimplePublicObjectBatchInputForCreate,
    Configuration,
    Filter,
    FilterGroup,
    PublicAssociationsForObject,
    PublicObjectId,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputForCreate,
)

import connectors.hubspot.sla as sla
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.settings import HubSpotSettings
from connectors.hubspot.writeback import (
    NOTE_TO_CONTACT,
    OWNER,
    batch_outcome,
    contact_id,
    note_properties,
    sal_properties,
)
from sync_agent.errors import PermanentApiError, RetriableError
from sync_agent.logs import get_logger
from sync_agent.model import Handoff, Outcome, SlaAction, WriteResult, WriteState

T = TypeVar("T")
Target = tuple[Handoff, str]

#: The SDK's models each build a default ``Configuration`` (loggers and all) when given
#: none, about half of what building a 100-contact batch costs; the models only read its
#: ``client_side_validation``, so the per-handoff ones share one default each.
_CONTACT_MODELS = ContactsConfiguration()
_NOTE_MODELS = Configuration()


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def key_chunks(keys: Sequence[str], *, max_values: int = 100,
               max_chars: int = 2_700) -> Iterator[list[str]]:
    """Keys for ``IN`` searches: ≤ 100 values, and few enough characters that the whole
    search body stays under HubSpot's 3,000-character limit (long keys: fewer per call)."""
    chunk: list[str] = []
    size = 0
    for key in keys:
        cost = len(json.dumps(key.lower())) + 2  # quotes, ", " separator
        if chunk and (len(chunk) >= max_values or size + cost > max_chars):
            yield chunk
            chunk, size = [], 0
        chunk.append(key)
        size += cost
    if chunk:
        yield chunk


class HubSpotSink:
    """Writes SAL decisions to HubSpot (implements ``connectors.base.Sink``)."""

    def __init__(self, settings: HubSpotSettings, client: HubSpotClient,
                 name: str = "hubspot") -> None:
        self.name = name
        self.settings = settings
        self.client = client
        self.log = get_logger("connectors.hubspot.sink")

    @property
    def api_calls(self) -> int:
        """HTTP requests this connector made so far (retries and logins included)."""
        return int(self.client.calls)

    def close(self) -> None:
        self.client.close()

    def preflight(self) -> None:
        """Before a run reads anything: the token works and the SAL properties exist (one
        call), so a wrong token or a missing set-up stops it with the fix at once."""
        try:
            self.client.get_property("contacts", self.settings.sal.status)
        except PermanentApiError as error:
            if error.status == 404:
                raise PermanentApiError(
                    f"create the SAL properties: sync-agent hubspot setup-properties "
                    f"(contact property {self.settings.sal.status!r} does not exist)",
                    status=404, configuration=True) from error
            raise

    def write(self, handoffs: Sequence[Handoff], *, recovering: bool = False) -> list[WriteResult]:
        results: dict[str, WriteResult] = {}
        targets: list[Target] = []
        unknown: list[Handoff] = []
        for handoff in dict((h.key, h) for h in handoffs).values():
            cid = contact_id(handoff, self.name)
            if cid is None:
                unknown.append(handoff)
            else:
                targets.append((handoff, cid))
        targets += self._match_by_email(unknown, results)
        self._update(targets, results)
        noted = [(h, c) for h, c in targets if h.key not in results and self._wants_note(h)]
        self._notes(noted, recovering, results)
        for handoff, cid in targets:
            results.setdefault(handoff.key, WriteResult(handoff.key, WriteState.WRITTEN,
                                                        target_id=cid))
        self.log.info("hubspot_write_done", handoffs=len(handoffs), notes=len(noted),
                      recovering=recovering,
                      failed=sum(r.status is not WriteState.WRITTEN for r in results.values()))
        return [results[h.key] for h in handoffs]

    def act(self, actions: Sequence[SlaAction], *, recovering: bool = False) -> list[WriteResult]:
        """Follow-up SLA breach actions (mark, escalate, reassign): :mod:`.sla`."""
        return sla.act(self, actions, recovering)

    def _wants_note(self, handoff: Handoff) -> bool:
        outcome = handoff.decision.outcome
        return outcome is Outcome.ACCEPTED or (outcome is Outcome.REVIEW
                                               and self.settings.review_note)

    # -- matching ------------------------------------------------------------------------

    def _match_by_email(self, handoffs: list[Handoff],
                        results: dict[str, WriteResult]) -> list[Target]:
        """Contacts for leads that carry no id of this portal (a file, another portal), by
        e-mail: one search per 100 addresses. No e-mail or no contact: skipped, with why."""
        wanted: dict[str, list[Handoff]] = {}
        for handoff in handoffs:
            email = handoff.mql.fields.get("email")
            if isinstance(email, str) and "@" in email:
                wanted.setdefault(email.strip().lower(), []).append(handoff)
            else:
                results[handoff.key] = WriteResult(handoff.key, WriteState.SKIPPED,
                                                   "no HubSpot contact id and no e-mail")
        found = self.contacts_by_email(list(wanted))
        targets: list[Target] = []
        for email, group in wanted.items():
            for handoff in group:
                if email in found:
                    targets.append((handoff, found[email]))
                else:
                    results[handoff.key] = WriteResult(handoff.key, WriteState.SKIPPED,
                                                       "no HubSpot contact with this e-mail")
        return targets

    def contacts_by_email(self, emails: Sequence[str]) -> dict[str, str]:
        """``{lower-case e-mail: contact id}`` for the contacts that have these addresses."""
        found: dict[str, str] = {}
        for chunk in key_chunks(emails):
            request = ContactSearchRequest(
                filter_groups=[ContactFilterGroup(filters=[
                    ContactFilter(property_name="email", operator="IN", values=chunk)])],
                properties=["email"], limit=200, after="0")
            for item in _results(self.client.search_contacts(request).body):
                email = str((item.get("properties") or {}).get("email") or "").strip().lower()
                if email and item.get("id") is not None:
                    found.setdefault(email, str(item["id"]))
        return found

    # -- SAL properties ------------------------------------------------------------------

    def _update(self, targets: list[Target], results: dict[str, WriteResult]) -> None:
        current = self._current(targets)
        latest: dict[str, Handoff] = {}
        for handoff, cid in targets:
            superseded = latest.get(cid)
            if superseded is not None and superseded.decision.outcome is not Outcome.ACCEPTED:
                results[superseded.key] = WriteResult(
                    superseded.key, WriteState.SKIPPED,
                    f"superseded by {handoff.key} in the same batch")
            latest[cid] = handoff
        by_contact = list(latest.items())
        for chunk in chunks(by_contact, self.settings.batch_size):
            inputs = [SimplePublicObjectBatchInput(
                id=cid, properties=sal_properties(self.settings, h, current.get(cid)),
                local_vars_configuration=_CONTACT_MODELS)
                for cid, h in chunk]
            try:
                response = self.client.update_contacts(
                    BatchInputSimplePublicObjectBatchInput(inputs=inputs))
            except PermanentApiError as error:
                raise _with_setup_hint(error) from error
            ids = [cid for cid, _ in chunk]
            _, failed = batch_outcome(response.status, response.body, response.headers, ids)
            for handoff, cid in targets:
                if cid in failed and handoff.key not in results:
                    failure = failed[cid]
                    results[handoff.key] = WriteResult(handoff.key, failure.status,
                                                       failure.reason, target_id=cid)

    def _current(self, targets: list[Target]) -> dict[str, dict[str, Any]]:
        """The contact values a write depends on, read only when needed (one batch read
        per 100 contacts): the stage of accepted leads when ``advance_stage`` may move it,
        the owner of review leads when ``review_owner_id`` may take it."""
        s = self.settings
        wanted: dict[str, set[str]] = {}
        for handoff, cid in targets:
            outcome = handoff.decision.outcome
            if outcome is Outcome.ACCEPTED and s.advance_stage is not None:
                wanted.setdefault(cid, set()).add("lifecyclestage")
            if outcome is Outcome.REVIEW and s.review_owner_id and not s.review_owner_overrides:
                wanted.setdefault(cid, set()).add(OWNER)
        names = sorted(set().union(*wanted.values())) if wanted else []
        current: dict[str, dict[str, Any]] = {}
        ids = sorted(wanted)
        for chunk in chunks(ids, s.batch_size):
            request = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=cid, local_vars_configuration=_CONTACT_MODELS)
                        for cid in chunk],
                properties=names, properties_with_history=[])
            response = self.client.read_contacts(request)
            done, _ = batch_outcome(response.status, response.body, response.headers, chunk)
            for cid, item in done.items():
                props = item.get("properties") if isinstance(item, dict) else None
                current[cid] = dict(props) if isinstance(props, dict) else {}
        return current

    # -- notes ---------------------------------------------------------------------------

    def _notes(self, accepted: list[Target], recovering: bool,
               results: dict[str, WriteResult]) -> None:
        created = 0
        for chunk in chunks(accepted, self.settings.batch_size):
            todo = list(chunk)
            if recovering:
                try:
                    todo = self._drop_existing(todo, results)
                except RetriableError as error:  # nothing created for this chunk: say so
                    for handoff, cid in todo:
                        results[handoff.key] = WriteResult(
                            handoff.key, WriteState.RETRYABLE,
                            f"note: search before create failed: {error}", target_id=cid)
                    continue
            if todo:
                self._create_refused_apart(todo, results, first=created == 0)
                created += len(todo)

    def _create_refused_apart(self, todo: list[Target], results: dict[str, WriteResult], *,
                              first: bool) -> None:
        """Create notes; a batch HubSpot refuses as a whole (400) created nothing, so its
        halves are sent again to find the note that fails alone (a dead letter). A refusal
        that names the set-up stops the call, unless notes of this call already exist:
        then the rest waits (raising would make the engine re-send what landed)."""
        try:
            self._create_notes(todo, results)
        except PermanentApiError as refused:
            error = _with_setup_hint(refused)
            if error.configuration and first:
                raise error from refused
            if len(todo) == 1 or error.configuration:
                for handoff, cid in todo:
                    state = WriteState.RETRYABLE if error.configuration else WriteState.DEAD
                    results[handoff.key] = WriteResult(handoff.key, state, f"note: {error}",
                                                       target_id=cid)
                return
            half = len(todo) // 2
            self._create_refused_apart(todo[:half], results, first=first)
            self._create_refused_apart(todo[half:], results, first=False)

    def _create_notes(self, todo: list[Target], results: dict[str, WriteResult]) -> None:
        """Create; send again only what HubSpot refused (429), never what may have landed.

        After a 5xx, a timeout or a cut answer the notes may exist, and HubSpot's search
        sees new notes only after a delay: searching now could miss them and create them
        twice. Those handoffs are left RETRYABLE; the outbox re-sends them later, reconciling.
        """
        attempt = 0
        while todo:
            attempt += 1
            try:
                response = self.client.create_notes(self._note_batch(todo))
            except RetriableError as error:
                if error.status == 429 and attempt < self.settings.max_attempts:
                    self.log.info("hubspot_note_retry", attempt=attempt, status=error.status,
                                  correlation_id=error.correlation_id)
                    self.client.pause(error, attempt)
                    continue
                for handoff, cid in todo:
                    results[handoff.key] = WriteResult(
                        handoff.key, WriteState.RETRYABLE, f"note: outcome unknown: {error}",
                        target_id=cid, uncertain=True)
                return
            keys = [h.key for h, _ in todo]
            done, failed = batch_outcome(response.status, response.body, response.headers,
                                         keys, result_key=self.settings.sal.handoff_key)
            for handoff, cid in todo:
                item = done.get(handoff.key)
                if item is not None or (handoff.key not in failed and response.status < 300):
                    # the contact, not the note: outcome read-back reads it by this id
                    results[handoff.key] = WriteResult(
                        handoff.key, WriteState.WRITTEN, target_id=cid)
                else:
                    failure = failed[handoff.key]
                    results[handoff.key] = WriteResult(
                        handoff.key, failure.status, f"note: {failure.reason}", target_id=cid)
            return

    def _drop_existing(self, todo: list[Target], results: dict[str, WriteResult]) -> list[Target]:
        existing = self.existing_notes([h.key for h, _ in todo])
        for handoff, cid in todo:
            if handoff.key in existing:
                results[handoff.key] = WriteResult(handoff.key, WriteState.WRITTEN,
                                                   target_id=cid)
        return [(h, c) for h, c in todo if h.key not in existing]

    def existing_notes(self, keys: Sequence[str]) -> dict[str, str]:
        """``{handoff key: note id}`` for notes already carrying these keys (≤ 100 a call)."""
        prop = self.settings.sal.handoff_key
        found: dict[str, str] = {}
        for chunk in key_chunks(keys):
            # HubSpot wants IN values on string properties in lowercase (it matches them
            # case-insensitively), so match what comes back the same way.
            wanted = {k.lower(): k for k in chunk}
            after: str | None = "0"
            while after is not None:
                request = PublicObjectSearchRequest(
                    filter_groups=[FilterGroup(filters=[
                        Filter(property_name=prop, operator="IN", values=sorted(wanted))])],
                    properties=[prop], limit=200, after=after)
                body = self.client.search_notes(request).body
                for item in _results(body):
                    key = str((item.get("properties") or {}).get(prop) or "").lower()
                    if key in wanted and item.get("id") is not None:
                        found.setdefault(wanted[key], str(item["id"]))
                after = _next(body)
        return found

    def _note_batch(self, todo: list[Target]) -> BatchInputSimplePublicObjectBatchInputForCreate:
        spec = AssociationSpec(association_category="HUBSPOT_DEFINED",
                               association_type_id=NOTE_TO_CONTACT)
        return BatchInputSimplePublicObjectBatchInputForCreate(inputs=[
            SimplePublicObjectBatchInputForCreate(
                properties=note_properties(self.settings, handoff),
                associations=[PublicAssociationsForObject(
                    to=PublicObjectId(id=cid, local_vars_configuration=_NOTE_MODELS),
                    types=[spec], local_vars_configuration=_NOTE_MODELS)],
                local_vars_configuration=_NOTE_MODELS)
            for handoff, cid in todo])


def _results(body: Any) -> list[dict[str, Any]]:
    from connectors.hubspot.errors import UnexpectedResponse

    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise UnexpectedResponse("HubSpot notes search answer has no 'results' list")
    return [r for r in body["results"] if isinstance(r, dict)]


def _next(body: dict[str, Any]) -> str | None:
    paging = body.get("paging")
    nxt = paging.get("next") if isinstance(paging, dict) else None
    after = nxt.get("after") if isinstance(nxt, dict) else None
    return str(after) if after is not None else None


def _with_setup_hint(error: PermanentApiError) -> PermanentApiError:
    text = str(error)
    if "does not exist" in text or "PROPERTY_DOESNT_EXIST" in text:
        return PermanentApiError(
            f"create the SAL properties: sync-agent hubspot setup-properties ({text})",
            correlation_id=error.correlation_id, status=error.status, configuration=True)
    return error
