"""The one exception hierarchy of sync-agent.

Errors are split by what the caller does next, not by where they come from:

* :class:`FatalError` stops the run (bad configuration, bad credentials, a broken
  ruleset, a budget that is used up). Nothing more is attempted until an operator acts.
* :class:`RetriableError` means "back off and try again": rate limits, 5xx answers,
  timeouts, row locks, expired sessions.
* :class:`SkippableError` means "record it, park it, go on": one malformed lead, one
  record the CRM refuses for good. It never stops a batch.

Vendor exceptions (each SDK's own exception types, urllib3 and requests errors) are
translated into these in one place per connector
(``connectors/<name>/errors.py``), so nothing above the connectors sees a vendor type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class SyncAgentError(Exception):
    """Root of every error sync-agent raises on purpose."""


class FatalError(SyncAgentError):
    """Stop the run: continuing cannot succeed until an operator fixes something."""


class StopSignalled(SyncAgentError):
    """A process of the run was stopped by SIGTERM or SIGINT (a service manager signals
    every process of the service at once): the run stops as on any such signal, with the
    rest of its work left for the next run (exit code 5)."""


class RetriableError(SyncAgentError):
    """A transient failure: back off (``retry_after`` seconds if known) and retry."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        correlation_id: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.correlation_id = correlation_id
        self.status = status


class SkippableError(SyncAgentError):
    """One record cannot be processed; record why and go on with the batch."""

    def __init__(self, message: str, *, record_id: str | None = None) -> None:
        super().__init__(message)
        self.record_id = record_id


class WebhookRefused(SkippableError):
    """One incoming webhook request is refused (nothing of it is queued); the sender is told
    ``status`` and metrics count it under ``reason`` (``signature``, ``stale``, ``malformed``,
    ``content_type``, ``too_large``, ``not_configured``). The message never holds a secret."""

    def __init__(self, message: str, *, status: int, reason: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class PermanentApiError(FatalError):
    """The remote API refused the request for good (4xx other than limits/auth expiry).

    ``configuration`` says the error names the set-up (a missing property or field, an
    unknown object): it would hit every record, so the run stops with the fix. Otherwise
    one record may be to blame, and the engine splits the batch to find it.
    """

    def __init__(
        self,
        message: str,
        *,
        correlation_id: str | None = None,
        status: int | None = None,
        configuration: bool = False,
    ) -> None:
        super().__init__(message)
        self.correlation_id = correlation_id
        self.status = status
        self.configuration = configuration


class AuthError(FatalError):
    """Credentials are missing, wrong, or lack a permission."""


class BudgetExhausted(FatalError):
    """The configured share of an API allocation is used up: stop cleanly, state saved."""


class ConfigError(FatalError):
    """The configuration file is invalid; ``problems`` lists every problem found."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class RulesError(FatalError):
    """A ruleset failed validation; ``problems`` lists every problem found, never just the first."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class AgentLocked(FatalError):
    """Another agent process holds the lock on this audit database."""


@dataclass(frozen=True)
class Problem:
    """One validation problem: where it is and how to fix it.

    ``location`` is a dotted path such as ``criteria.icp_fit.checks[2].op``; ``line`` is
    the 1-based line in ``file`` when it is known.
    """

    file: str
    location: str
    message: str
    hint: str = ""
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.location}: {self.message}" if self.location else ""
        text = text or f"{where}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text
