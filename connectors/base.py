"""What a connector is, for the core: two small interfaces and one descriptor.

A :class:`Source` reads MQLs page by page from an explicit :class:`Cursor`; a
:class:`Sink` writes a batch of handoffs and answers with one result per handoff.
A :class:`ConnectorSpec` describes a connector *type* (its name, the prefix under which
rules reach its raw properties, the secrets it reads, its settings model, how to build
its source and sinks, how a backfill's ``--since`` becomes its cursor, its connection
checks and optional CLI commands). Each connector package exports one spec as
``CONNECTOR`` and registers it under the ``sync_agent.connectors`` entry point group, so
a new system is a new package plus one line in its ``pyproject.toml``; the core never
names a connector (``docs/connectors.md`` walks through writing one).

A configuration may hold several :class:`Instance` s of one type (two portals, two
orgs): each has its own name (its audit identity: lead keys, sink names), settings,
secrets and connector state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sync_agent.model import MQL, Handoff, WriteResult
from sync_agent.rules.reading import PropertyType


@dataclass(frozen=True)
class Cursor:
    """Where a source stopped, as plain JSON-able data.

    ``position`` is source-specific (e.g. a closed lower bound on a modification time
    plus the ids already read at that boundary). An empty position means "from the
    beginning"; :attr:`ConnectorSpec.start_position` makes the one a backfill starts from.
    """

    position: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.position)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Cursor:
        return cls(dict(data or {}))


@dataclass(frozen=True)
class Page:
    """One page of MQLs and the cursor that resumes right after it.

    ``malformed`` holds raw records that could not be mapped (id, reason), so the
    engine can record them without stopping the batch. ``remaining`` is how many records
    the source still has to read after this page by its own count (HubSpot's search
    ``total``), when it knows: progress bars show a true total and ETA with it.
    """

    mqls: Sequence[MQL]
    cursor: Cursor
    malformed: Sequence[tuple[str, str]] = ()
    remaining: int | None = None


class Source(Protocol):
    """Reads MQLs modified since a cursor.

    Optional: an ``api_calls`` attribute (HTTP requests made so far), which run summaries
    report per system, ``close()``, called when the run is over (save state), and
    ``read_ids(ids) -> Iterator[Page]``: the records with those ids that are MQLs now (ids
    gone or no longer matching are left out), for webhook-triggered runs (``sync-agent
    serve``); its pages' cursors are ignored."""

    name: str

    def read(
        self, cursor: Cursor, *, until_ms: int | None = None
    ) -> Iterator[Page]:  # pragma: no cover - protocol
        """Yield pages in modification order; each page's cursor covers it and all before.

        ``until_ms`` (epoch milliseconds) bounds a backfill window; ``None`` reads to now.
        Raises ``RetriableError``/``FatalError`` from ``sync_agent.errors`` only.
        """
        ...


class Sink(Protocol):
    """Writes SAL decisions back to a CRM (optional ``api_calls`` and ``close()``, as for a
    Source, and ``preflight()``: a cheap call the engine makes before a run reads anything,
    raising ``AuthError``/``ConfigError``/... when writing could not work).

    Optional capability ``act(actions, *, recovering=False) -> list[WriteResult]``: carry
    out follow-up SLA breach actions (``sync_agent.model.SlaAction``: mark, escalate,
    reassign; ``docs/sla.md``), one result per ``action.key``, under the same rules as
    ``write`` (idempotent per key, per-record failures as results). A sink without it gets
    no actions."""

    name: str

    def write(
        self, handoffs: Sequence[Handoff], *, recovering: bool = False
    ) -> list[WriteResult]:  # pragma: no cover - protocol
        """Write a batch; return exactly one result per handoff, in any order.

        Must be idempotent per ``Handoff.key``: writing the same handoff twice leaves one
        note/task. ``recovering=True`` says an earlier attempt may have partly landed (the
        process died mid-write), so the sink reconciles before creating anything; first
        attempts must not pay extra calls for that. Per-record failures are results,
        never exceptions; only whole-call failures raise (``RetriableError`` etc.), and
        only when retrying them blindly is safe (idempotent updates). A create whose answer
        was lost is a RETRYABLE result with ``uncertain=True``: the engine retries it,
        reconciling, only after ``reconcile_after_seconds``.
        """
        ...


@dataclass(frozen=True)
class SourceSchema:
    """What a source's system declares about the records it reads (schema discovery).

    ``namespaces`` are the properties rules can reach, by raw prefix (``hubspot`` for a
    contact's, ``company`` for its company's); ``canonical`` says which property each mapped
    canonical field is read from, ``fallback`` which one when that has no value (a
    company's field falls back to the contact's), and ``mapped_by`` the instance option
    that maps it (``("field_map", "lead_score")``), so a check can name it; ``suggested``
    the properties to map a canonical field to when it is not mapped (a portal's score
    properties for ``lead_score``). ``stale`` is non-empty when this is the last known
    schema because the system could not be asked (and says why).
    """

    namespaces: Mapping[str, Mapping[str, PropertyType]]
    canonical: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    fetched_at: str = ""
    stale: str = ""
    fallback: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    mapped_by: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    suggested: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def types_for(self, prefix: str) -> Mapping[str, PropertyType]:
        """The declared types of one namespace (empty when unknown)."""
        return self.namespaces.get(prefix, {})


class StateStore(Protocol):
    """Small JSON values a connector keeps between runs (caches, budgets), per instance.

    The engine backs it with the audit database; tests and one-off commands may pass
    :class:`MemoryState`. Keys are the connector's own; values must be JSON-able.
    """

    def get(self, key: str) -> Any: ...  # pragma: no cover - protocol

    def put(self, key: str, value: Any) -> None: ...  # pragma: no cover - protocol

    def put_many(self, items: Mapping[str, Any]) -> None: ...  # pragma: no cover - protocol


class MemoryState:
    """A :class:`StateStore` that forgets everything when the process ends."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def put(self, key: str, value: Any) -> None:
        self.values[key] = value

    def put_many(self, items: Mapping[str, Any]) -> None:
        self.values.update(items)


#: One line of ``config check --connect``: what was tried, whether it worked, details.
ConnectionCheck = tuple[str, bool, str]


@dataclass(frozen=True)
class TargetProblem:
    """Something in a sink's system that its writes would trip over (a property missing or
    of another type, a picklist value the system lacks, a field the integration user may not
    edit), found by ``check_targets`` before any write.

    ``option`` is the path of the instance option it concerns (``("status_accepted",)``,
    ``("sal", "status")``; ``()``: the instance as a whole), so the agent can name the
    config file, line and option; ``hint`` says how to fix it. ``severity`` is ``error``
    (writes would fail or do the wrong thing) or ``warning``.
    """

    option: tuple[str, ...]
    message: str
    hint: str = ""
    severity: str = "error"


@dataclass(frozen=True)
class Instance:
    """One configured connector (``[connectors.<name>]``), ready to build from.

    ``secrets`` holds this instance's secrets under the names its spec declares, whatever
    prefix the environment used for them; ``state`` persists between runs.
    """

    name: str
    spec: ConnectorSpec
    settings: Any
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    state: StateStore = field(default_factory=MemoryState, repr=False)


@dataclass(frozen=True)
class Budget:
    """A connector instance's API budget for the day: calls used and calls it allows itself."""

    used: int
    allowed: int
    period: str = "day"

    @property
    def left(self) -> int:
        return max(0, self.allowed - self.used)


@dataclass(frozen=True)
class WebhookRequest:
    """One incoming webhook request as the agent's HTTP server received it.

    ``uri`` is the full URI the sender was configured with (scheme, host, path, query: the
    ``[serve] public_url`` when set, else rebuilt from the request), raw (still
    percent-encoded); ``headers`` have lower-case names; ``received_at`` is epoch seconds.
    """

    method: str
    uri: str
    headers: Mapping[str, str]
    body: bytes
    received_at: float


@dataclass(frozen=True)
class WebhookEvent:
    """One event of a verified webhook request.

    ``event_id`` is the sender's id (duplicates are dropped by it, per instance, across
    restarts); ``record_id`` the source record to read again; ``relevant`` is False for an
    event that cannot make a record an MQL (acknowledged, not read).
    """

    event_id: str
    record_id: str
    kind: str
    occurred_at_ms: int | None = None
    relevant: bool = True


@dataclass(frozen=True)
class WebhookSpec:
    """How a source connector receives webhooks (``POST /webhooks/<instance>``).

    ``verify(request, secret)`` checks the signature and freshness and parses the events;
    it raises :class:`~sync_agent.errors.WebhookRefused` (status 401 for a bad or stale
    signature, 400 for a body it cannot parse). ``secret`` names the secret (one of the
    spec's ``secrets``) it is verified with. The server refuses, before calling it, a
    content type not in ``content_types`` (415) and a body over ``max_body_bytes`` (413).
    ``subscriptions`` says what to subscribe to in the vendor's app (docs and logs).
    """

    secret: str
    verify: Callable[[WebhookRequest, str], Sequence[WebhookEvent]]
    content_types: tuple[str, ...] = ("application/json",)
    max_body_bytes: int = 1 << 20
    subscriptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutcomeRequest:
    """One accepted handoff whose follow-up a sink's system should be asked about.

    ``record_id`` is the record the sink wrote (``writes.target_id``); ``crm_ids``, ``source``
    and ``source_id`` are the lead's ids as the decision recorded them, so a connector can
    find its own record when the write left another id (an older audit log).
    ``handed_off_at`` is the decision's time: what happened before it is not an outcome.
    ``known`` lists the kinds already recorded for it in this system (nothing to re-derive).
    """

    handoff_key: str
    lead_key: str
    record_id: str | None
    handed_off_at: datetime
    crm_ids: Mapping[str, str] = field(default_factory=dict)
    source: str = ""
    source_id: str = ""
    known: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OutcomeEvent:
    """What sales did after a handoff, as a sink's system shows it.

    ``kind`` is an :class:`~sync_agent.model.OutcomeKind` value; ``at`` the system's time
    for it (aware); ``reason`` why sales rejected it (``rejected`` only); ``detail`` plain
    JSON-able facts: ``owner`` (the owner's id in that system), status values, record ids,
    and how the time was found.
    """

    handoff_key: str
    kind: str
    at: datetime
    reason: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


#: ``read_outcomes(sink, requests)``: the events a sink's system shows for those handoffs,
#: through the sink's own client (its call counters and API budget).
OutcomeReader = Callable[["Sink", Sequence[OutcomeRequest]], list[OutcomeEvent]]


def _no_position(_since_ms: int) -> dict[str, Any]:
    return {}


def _no_time(_position: Mapping[str, Any]) -> int | None:
    return None


@dataclass(frozen=True)
class ConnectorSpec:
    """Everything the core knows about a connector type (exported as ``CONNECTOR``).

    * ``raw_prefix``: rules reach a record's unmapped properties as ``<raw_prefix>.<name>``.
    * ``secrets``: the names it reads (``{NAME: what it is}``); an instance whose
      ``secrets_prefix`` is ``EU_`` reads ``EU_NAME`` from the environment or secrets file.
    * ``settings``: a pydantic model (``extra="forbid"``) for its ``[connectors.X]`` table.
    * ``start_position(since_ms)``: the cursor position a backfill from ``since`` starts at;
      ``position_ms(position)``: where a cursor stands in time (progress, ETA), if it knows.
    * ``commands()``: an optional click group added to the CLI under the spec's name.
    * ``describe(instance, refresh)``: a source's :class:`SourceSchema` (declared property
      types, options, labels), for reading values by type and checking rules against it.
    * ``check_targets(instance, refresh)``: a sink's :class:`TargetProblem` s: what it
      writes checked against its system's live schema (``rules check --against``,
      ``config check --connect``); raises ``SyncAgentError`` when the system cannot be
      asked and no schema is cached.
    * ``webhook``: a source that can be told of changes as they happen (``sync-agent
      serve``): a :class:`WebhookSpec`; its source implements ``read_ids``.
    * ``budget(instance, now)``: today's API :class:`Budget` as the instance's state
      records it (no API call), for ``status`` and ``/metrics``; None when unknown.
    * ``read_outcomes(sink, requests)``: what sales did after the handoffs a sink wrote
      (:class:`OutcomeEvent` s: first touch, SQL, opportunity, rejected, recycled), read
      through that built sink so its calls count and its budget holds.
    """

    name: str
    title: str
    summary: str
    raw_prefix: str
    settings: type[Any]
    #: more prefixes its records carry (a HubSpot contact's company: ``company.<name>``)
    extra_prefixes: tuple[str, ...] = ()
    secrets: Mapping[str, str] = field(default_factory=dict)
    build_source: Callable[[Instance], Source] | None = None
    build_sink: Callable[[Instance], Sink] | None = None
    check_connection: Callable[[Instance], list[ConnectionCheck]] | None = None
    start_position: Callable[[int], dict[str, Any]] = _no_position
    position_ms: Callable[[Mapping[str, Any]], int | None] = _no_time
    commands: Callable[[], Any] | None = None
    #: schema discovery of a source: ``describe(instance, refresh)`` (cached in the
    #: instance's state; ``refresh`` asks the system again now)
    describe: Callable[[Instance, bool], SourceSchema] | None = None
    #: write-back targets of a sink checked against its system: ``check_targets(instance,
    #: refresh)`` (schema answers cached as for ``describe``)
    check_targets: Callable[[Instance, bool], list[TargetProblem]] | None = None
    #: webhooks it can receive (``sync-agent serve``), see :class:`WebhookSpec`
    webhook: WebhookSpec | None = None
    #: today's API budget from the instance's state, without calling the API
    budget: Callable[[Instance, datetime], Budget | None] | None = None
    #: outcome read-back of a sink (``docs/loop.md``), see :data:`OutcomeReader`
    read_outcomes: OutcomeReader | None = None

    @property
    def raw_prefixes(self) -> tuple[str, ...]:
        """Every ``<prefix>.`` rules may use on this connector's records."""
        return (self.raw_prefix, *self.extra_prefixes)

    @property
    def roles(self) -> tuple[str, ...]:
        """``("source", "sink")``, or just one of them."""
        return tuple(
            role
            for role, builder in (("source", self.build_source), ("sink", self.build_sink))
            if builder is not None
        )
