"""Pure parts of the HubSpot write-back: what to write, and what a batch answer means.

No I/O here: the SAL properties for a handoff, the lifecycle-stage rule (forward only),
the note's properties, and the reading of a 200/201/207 batch answer into per-input
outcomes. :mod:`connectors.hubspot.sink` does the calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.hubspot.errors import UnexpectedResponse, correlation_of
from connectors.hubspot.settings import HubSpotSettings
from sync_agent.model import Handoff, Outcome, WriteState

NOTE_TO_CONTACT = 202
_TRUNCATED = "\n[truncated]"
_RETRYABLE_CATEGORIES = {"RATE_LIMITS", "LOCKED", "INTERNAL_ERROR", "TIMEOUT"}
_GONE_CATEGORIES = {"OBJECT_NOT_FOUND"}


@dataclass(frozen=True)
class InputFailure:
    """Why one input of a batch call failed, and what that means for its handoff."""

    status: WriteState
    reason: str


def hs_datetime(moment: datetime) -> str:
    """HubSpot's datetime format, ``2026-01-15T10:30:00.000Z``."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def contact_id(handoff: Handoff, instance: str = "hubspot") -> str | None:
    """The contact of a handoff in this portal: the id the lead carries for this instance
    (its own source id when it came from this portal), else the one a source linked under
    the type name ``hubspot``."""
    ids = handoff.mql.crm_ids
    cid = ids.get(instance) or ids.get("hubspot")
    if not cid and handoff.mql.source == instance:
        cid = handoff.mql.source_id
    return str(cid) if cid else None


#: The contact owner property (an enumeration of the portal's owners).
OWNER = "hubspot_owner_id"


def sal_properties(settings: HubSpotSettings, handoff: Handoff,
                   current: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The contact properties to write for any outcome (accepted, rejected, review).

    ``current`` holds the contact's values the write depends on, when they were read:
    ``lifecyclestage`` (an accepted lead moves forward only) and the owner (a review lead
    is given to ``review_owner_id`` only when it has none, unless told to take it)."""
    decision = handoff.decision
    names = settings.sal
    props = {
        names.status: settings.status_values[decision.outcome.value],
        names.score: f"{decision.score:g}",
        names.reason: clip("; ".join(decision.reasons), settings.note_max_chars),
        names.decided_at: hs_datetime(decision.decided_at),
        names.handoff_key: handoff.key,
    }
    stage = next_stage(settings, decision.outcome, (current or {}).get("lifecyclestage"))
    if stage is not None:
        props["lifecyclestage"] = stage
    if review_owner_due(settings, handoff, current):
        props[OWNER] = settings.review_owner_id
    return props


def review_owner_due(settings: HubSpotSettings, handoff: Handoff,
                     current: Mapping[str, Any] | None) -> bool:
    """Whether this write gives the contact to the review owner: a review decision, an
    owner configured, and the contact known to have none (or ``review_owner_overrides``)."""
    if handoff.decision.outcome is not Outcome.REVIEW or not settings.review_owner_id:
        return False
    if settings.review_owner_overrides:
        return True
    return current is not None and not current.get(OWNER)


def note_text(handoff: Handoff) -> str:
    """The context note, or (a handoff the engine wrote no note for) its reasons."""
    decision = handoff.decision
    return handoff.note or f"SAL {decision.outcome.value}: " + "; ".join(decision.reasons)


def next_stage(settings: HubSpotSettings, outcome: Outcome, current: str | None) -> str | None:
    """The stage to move an accepted lead to, only if strictly later than ``current``.

    Unknown current stages (custom ones not in ``stage_order``) are never touched.
    """
    target = settings.advance_stage
    order = settings.stage_order
    if outcome is not Outcome.ACCEPTED or target is None or current not in order:
        return None
    return target if order.index(target) > order.index(current) else None


def note_properties(settings: HubSpotSettings, handoff: Handoff) -> dict[str, str]:
    """``hs_timestamp``, ``hs_note_body`` (clipped to the limit) and the idempotency key."""
    return {
        "hs_timestamp": hs_datetime(handoff.decision.decided_at),
        "hs_note_body": clip(note_text(handoff), settings.note_max_chars),
        settings.sal.handoff_key: handoff.key,
    }


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(_TRUNCATED)] + _TRUNCATED


def batch_outcome(
    status: int, body: Any, headers: Mapping[str, str], input_ids: Sequence[str],
    result_key: str = "id",
) -> tuple[dict[str, Mapping[str, Any]], dict[str, InputFailure]]:
    """Split a batch answer into ``{input id: result}`` and ``{input id: failure}``.

    ``result_key`` names how a result is matched to its input: ``"id"`` for updates, or a
    property name (the handoff key) for creates, whose ids are new. Inputs that an
    answer neither returns nor blames get the first unattributed error (or, on a 2xx
    without ``errors``, count as done).
    """
    correlation = correlation_of(body, headers)
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise UnexpectedResponse("HubSpot batch answer has no 'results' list", status=status,
                                 correlation_id=correlation)
    errors = body.get("errors")
    errors = [] if errors is None else errors
    if not isinstance(errors, list):
        raise UnexpectedResponse("HubSpot batch 'errors' is not a list", status=status,
                                 correlation_id=correlation)
    done: dict[str, Mapping[str, Any]] = {}
    for item in body.get("results") or []:
        key = _result_key(item, result_key)
        if key is not None:
            done[key] = item
    failed: dict[str, InputFailure] = {}
    loose: list[InputFailure] = []
    for error in errors:
        failure = _failure(error)
        blamed = _blamed_inputs(error, input_ids)
        for input_id in blamed:
            failed.setdefault(input_id, failure)
        if not blamed:
            loose.append(failure)
    for input_id in input_ids:
        if input_id in done or input_id in failed:
            continue
        if loose:
            failed[input_id] = loose[0]
        elif not errors and status < 300 and result_key == "id":
            done[input_id] = {}
    return done, failed


def _result_key(item: Any, result_key: str) -> str | None:
    if not isinstance(item, dict):
        return None
    if result_key == "id":
        value = item.get("id")
    else:
        props = item.get("properties")
        value = props.get(result_key) if isinstance(props, dict) else None
    return str(value) if value not in (None, "") else None


def _failure(error: Any) -> InputFailure:
    if not isinstance(error, dict):
        return InputFailure(WriteState.DEAD, f"unreadable error: {error!r}"[:200])
    category = str(error.get("category") or error.get("subCategory") or "ERROR")
    message = str(error.get("message") or "")
    details = error.get("errors")
    codes = [d.get("code") for d in details if isinstance(d, dict)] if isinstance(details,
                                                                                  list) else []
    code = next((c for c in codes if c), category)
    if category in _GONE_CATEGORIES:
        return InputFailure(WriteState.SKIPPED, "contact not found (deleted or merged)")
    status = (WriteState.RETRYABLE if category in _RETRYABLE_CATEGORIES
              else WriteState.DEAD)
    return InputFailure(status, f"{code}: {message}".strip()[:500])


def _blamed_inputs(error: Any, input_ids: Sequence[str]) -> list[str]:
    """Inputs an error names: ``context.ids``, ``context.inputIndex``, or ids in its text."""
    if not isinstance(error, dict):
        return []
    raw_context = error.get("context")
    context: dict[str, Any] = raw_context if isinstance(raw_context, dict) else {}
    named = [str(i) for i in context.get("ids") or [] if str(i) in input_ids]
    for index in context.get("inputIndex") or []:
        if str(index).isdigit() and int(index) < len(input_ids):
            named.append(input_ids[int(index)])
    return list(dict.fromkeys(named))
