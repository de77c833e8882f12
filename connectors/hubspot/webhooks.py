"""HubSpot webhooks: signature v3 checked, events parsed (the spec's ``webhook`` field).

HubSpot POSTs a JSON array of events (``eventId``, ``subscriptionType``, ``objectId``,
``propertyName`` ...) to the app's target URL, signed as HubSpot's "Validating requests"
page documents for ``X-HubSpot-Signature-v3``:

* refuse a request whose ``X-HubSpot-Request-Timestamp`` (epoch ms) is older than 5
  minutes (we also refuse one more than 5 minutes ahead: a clock that far off is a fault);
* HMAC-SHA256, keyed with the app's client secret, of the UTF-8 string ``method + URI +
  raw body + timestamp``, base64-encoded, compared in constant time. The URI is the full
  target URL with these percent-encodings decoded first: ``%3A : %2F / %3F ? %40 @ %21 !
  %24 $ %27 ' %28 ( %29 ) %2A * %2C , %3B ;`` (the page's table; other encodings stay).

The signature is checked before the body is parsed: nothing unauthenticated is read.
The secret is ``HUBSPOT_APP_SECRET`` (the app's "Client secret", environment or secrets
file). Sources: docs/serve.md and docs/sandbox.md (``wh-*`` rows).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from connectors.base import WebhookEvent, WebhookRequest, WebhookSpec
from sync_agent.errors import WebhookRefused

SECRET_ENV = "HUBSPOT_APP_SECRET"
SIGNATURE_HEADER = "x-hubspot-signature-v3"
TIMESTAMP_HEADER = "x-hubspot-request-timestamp"
MAX_AGE_MS = 5 * 60 * 1000
#: 100 events per request at most (HubSpot's batches), a few hundred bytes each: 1 MiB is
#: far above any real batch and small enough that a flood cannot fill memory.
MAX_BODY_BYTES = 1 << 20
#: What can make a contact an MQL (a stage change, a new contact, a restored one); other
#: event types are acknowledged and not read.
RELEVANT = frozenset({"contact.creation", "contact.propertyChange", "contact.restore"})
SUBSCRIPTIONS = ("contact.creation", "contact.propertyChange (lifecyclestage)")
_ENCODED = re.compile(r"%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)", re.IGNORECASE)


def signed_uri(uri: str) -> str:
    """The URI as HubSpot signs it: the documented percent-encodings decoded."""
    return _ENCODED.sub(lambda m: chr(int(m.group(1), 16)), uri)


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The ``X-HubSpot-Signature-v3`` HubSpot sends for this request."""
    message = (method.upper() + signed_uri(uri)).encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(request: WebhookRequest, secret: str) -> list[WebhookEvent]:
    """The events of a request signed with ``secret``; :class:`WebhookRefused` otherwise."""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    stamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not signature or not stamp:
        raise WebhookRefused("missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp",
                             status=401, reason="signature")
    if not stamp.isascii() or not stamp.strip().isdigit():
        raise WebhookRefused("X-HubSpot-Request-Timestamp is not epoch milliseconds",
                             status=401, reason="signature")
    age_ms = request.received_at * 1000 - int(stamp)
    if abs(age_ms) > MAX_AGE_MS:
        when = "old" if age_ms > 0 else "ahead"
        raise WebhookRefused(f"request timestamp is {abs(age_ms) / 1000:.0f} s {when} "
                             "(more than 5 minutes): refused as a possible replay",
                             status=401, reason="stale")
    expected = signature_v3(secret, request.method, request.uri, request.body, stamp.strip())
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise WebhookRefused("X-HubSpot-Signature-v3 does not match (wrong app secret, or the "
                             "target URL differs from [serve] public_url)",
                             status=401, reason="signature")
    return parse_events(request.body)


def parse_events(body: bytes) -> list[WebhookEvent]:
    """A verified body's events; anything but an array of event objects is a 400."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise WebhookRefused("the body is not JSON", status=400, reason="malformed") from None
    if not isinstance(data, list):
        raise WebhookRefused("the body is not a JSON array of events", status=400,
                             reason="malformed")
    return [_event(item, i) for i, item in enumerate(data)]


def _event(item: Any, index: int) -> WebhookEvent:
    if not isinstance(item, Mapping):
        raise WebhookRefused(f"event {index} is not an object", status=400, reason="malformed")
    event_id, object_id = _id(item.get("eventId")), _id(item.get("objectId"))
    kind = item.get("subscriptionType")
    if event_id is None or object_id is None or not isinstance(kind, str):
        raise WebhookRefused(f"event {index} lacks eventId, objectId or subscriptionType",
                             status=400, reason="malformed")
    occurred = item.get("occurredAt")
    at = occurred if isinstance(occurred, int) and not isinstance(occurred, bool) else None
    return WebhookEvent(event_id, object_id, kind, at, relevant=kind in RELEVANT)


def _id(value: Any) -> str | None:
    """An id HubSpot sends as a number (or a string of digits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 30:
        return value
    return None


WEBHOOK = WebhookSpec(secret=SECRET_ENV, verify=verify, content_types=("application/json",),
                      max_body_bytes=MAX_BODY_BYTES, subscriptions=SUBSCRIPTIONS)
