"""Webhook intake: verify, deduplicate, hand the records to the workers (no HTTP here).

One :class:`Endpoint` per configured source whose connector receives webhooks
(``ConnectorSpec.webhook``) and that an enabled pipeline reads; it answers
``POST /webhooks/<instance>``. A verified request's events are kept in the audit log once
per event id (a redelivery is counted as a duplicate and not queued again, across
restarts), and the new ones go to the source's worker. Every refusal is counted by reason;
no refusal queues anything, and no message carries the secret.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from connectors.base import WebhookEvent, WebhookRequest, WebhookSpec
from sync_agent.audit import AuditLog
from sync_agent.config import Config
from sync_agent.errors import WebhookRefused
from sync_agent.logs import get_logger, register_secret

Submit = Callable[[Sequence[tuple[str, str]]], None]


@dataclass
class Endpoint:
    """Where one source's webhooks arrive, and what checks them."""

    source: str
    spec: WebhookSpec
    secret: str | None
    secret_name: str  # as the environment / secrets file names it (for messages)
    pipelines: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"/webhooks/{self.source}"


def endpoints(config: Config) -> dict[str, Endpoint]:
    """Every source that can receive webhooks and that an enabled pipeline reads."""
    out: dict[str, Endpoint] = {}
    for name, conn in config.connectors.items():
        hook = conn.spec.webhook
        readers = tuple(p.name for p in config.pipelines if p.enabled and p.source == name)
        if hook is None or not readers:
            continue
        secret = config.instance(name).secrets.get(hook.secret) or None
        register_secret(secret)
        out[name] = Endpoint(name, hook, secret, conn.secrets_prefix + hook.secret, readers)
    return out


class WebhookMetrics:
    """The intake's counters (exported on ``/metrics``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "sync_agent_webhook_events", "Webhook events received, by source and result "
            "(accepted: queued for reading; duplicate: seen before; ignored: cannot make an MQL)",
            ["source", "result"], registry=registry)  # fmt: skip
        self.refused = Counter(
            "sync_agent_webhook_requests_refused", "Webhook requests refused, by source and "
            "reason (signature, stale, malformed, content_type, too_large, not_configured)",
            ["source", "reason"], registry=registry)  # fmt: skip


class Intake:
    """Receives verified batches for every endpoint (thread-safe: the audit log locks)."""

    def __init__(
        self,
        audit: AuditLog,
        points: dict[str, Endpoint],
        submit: dict[str, Submit],
        metrics: WebhookMetrics,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.audit = audit
        self.points = points
        self.submit = submit
        self.metrics = metrics
        self.clock = clock or (lambda: datetime.now(UTC))
        self.log = get_logger("sync_agent.serve")
        self._lock = threading.Lock()
        for point in points.values():
            for result in ("accepted", "duplicate", "ignored"):
                metrics.events.labels(point.source, result)
            for reason in ("signature", "stale", "malformed", "content_type", "too_large",
                           "not_configured"):
                metrics.refused.labels(point.source, reason)

    def refuse(self, source: str, error: WebhookRefused, remote: str = "") -> tuple[int, Any]:
        """Count and log a refusal; the answer the sender gets."""
        self.metrics.refused.labels(source, error.reason).inc()
        self.log.warning("webhook_refused", source=source, status=error.status,
                         reason=error.reason, detail=str(error), remote=remote)
        return error.status, {"error": str(error), "reason": error.reason}

    def receive(self, point: Endpoint, request: WebhookRequest, remote: str = "") -> tuple[int,
                                                                                              Any]:
        """Verify a request and queue its new events: (status, JSON answer)."""
        if not point.secret:
            return self.refuse(point.source, WebhookRefused(
                f"webhooks for {point.source!r} are off: {point.secret_name} is not set "
                "(environment or the secrets file); the scheduled poll still runs",
                status=503, reason="not_configured"), remote)
        try:
            events = point.spec.verify(request, point.secret)
        except WebhookRefused as error:
            return self.refuse(point.source, error, remote)
        return 202, self._keep(point, events)

    def _keep(self, point: Endpoint, events: Sequence[WebhookEvent]) -> dict[str, int]:
        unique = list({e.event_id: e for e in events}.values())
        rows = [(e.event_id, e.record_id, e.kind, e.occurred_at_ms, e.relevant) for e in unique]
        with self._lock:  # keep-then-submit in order, so a redelivery never overtakes
            fresh = self.audit.record_webhook_events(point.source, rows, self.clock())
            queued = [(event_id, record_id) for event_id, record_id, _k, _o, relevant in fresh
                      if relevant]
            if queued:
                self.submit[point.source](queued)
        counts = {"accepted": len(queued), "duplicate": len(events) - len(fresh),
                  "ignored": len(fresh) - len(queued)}
        for result, n in counts.items():
            if n:
                self.metrics.events.labels(point.source, result).inc(n)
        self.log.info("webhook_received", source=point.source, events=len(events), **counts)
        return counts
