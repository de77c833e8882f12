"""The HubSpot MQL source: contacts matching the MQL filter, modified since a cursor.

The paging logic lives in :mod:`connectors.hubspot.keyset` (pure); this module turns its
keyset queries into search requests (SDK models), checks every response's shape before
trusting it, and maps contacts to canonical MQLs. A page is yielded only after its
response was fully validated, so a malformed answer raises before any cursor moves.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from hubspot.crm.contacts import (
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectId,
)

from connectors.base import Cursor, MemoryState, Page, SourceSchema, StateStore
from connectors.hubspot.client import HubSpotClient, Response
from connectors.hubspot.companies import Companies
from connectors.hubspot.errors import UnexpectedResponse, correlation_of
from connectors.hubspot.filters import matches
from connectors.hubspot.keyset import Hit, KeysetReader, Position, Query, Result
from connectors.hubspot.schema import COMPANY_PREFIX, CONTACT_PREFIX, load_schema
from connectors.hubspot.settings import HubSpotSettings
from connectors.hubspot.writeback import batch_outcome
from connectors.mapping import Related, parse_datetime, to_mql
from sync_agent.errors import SyncAgentError
from sync_agent.logs import get_logger
from sync_agent.model import MQL
from sync_agent.prefetch import Prefetcher

ID_PROPERTY = "hs_object_id"
#: contacts per batch read (HubSpot's limit)
READ_BATCH = 100


class HubSpotSource:
    """Reads MQL contacts page by page (implements ``connectors.base.Source``)."""

    def __init__(self, settings: HubSpotSettings, client: HubSpotClient,
                 name: str = "hubspot", state: StateStore | None = None) -> None:
        self.name = name  # the instance's name: lead keys are "<name>:<contact id>"
        self.settings = settings
        self.client = client
        self.state = state or MemoryState()
        self.companies = Companies(client, settings, self.state) if settings.company_context \
            else None
        self.schema: SourceSchema | None = None
        self.properties = settings.properties_to_read()
        self.log = get_logger("connectors.hubspot.source")
        self.last_reader: KeysetReader | None = None

    @property
    def api_calls(self) -> int:
        """HTTP requests this connector made so far (retries and logins included)."""
        return int(self.client.calls)

    def close(self) -> None:
        self.client.close()

    def read(self, cursor: Cursor, *, until_ms: int | None = None) -> Iterator[Page]:
        """Pages of MQLs modified after the cursor and up to ``until_ms``.

        ``until_ms=None`` means "up to when this read started": a run reads a fixed
        window, so records modified while it runs (our own write-back bumps
        ``lastmodifieddate``) are left to the next run instead of chasing them forever.
        """
        s = self.settings
        if until_ms is None:
            until_ms = int(self.client.clock() * 1000)
        self.schema = self._schema()
        if self.companies is not None:
            self.companies.forget_changed()
        reader = KeysetReader(self._search, page_size=s.page_size,
                              overlap_ms=s.overlap_ms, max_seen=s.max_seen, until_ms=until_ms)
        self.last_reader = reader
        count = 0
        # The searches run one answer ahead of the mapping: the next keyset query needs only
        # the last answer, so the search limit's pace (a backfill's floor) holds while a
        # page is mapped and its companies read.
        answers = Prefetcher(_answers(reader, Position.from_dict(cursor.position)), depth=1,
                             name="sync-agent-hubspot-search")  # fmt: skip
        try:
            for hits, position, remaining in answers:
                page = self._page(hits, position, remaining)
                count += len(page.mqls)
                yield page
        finally:
            answers.close()
        self.log.info("hubspot_read_done", mqls=count, queries=reader.queries,
                      ties=reader.ties)

    def _schema(self) -> SourceSchema | None:
        """Declared property types (cached; a portal that can't be asked: read untyped)."""
        try:
            return load_schema(self.client, self.settings, self.state)
        except SyncAgentError as exc:
            self.log.warning("schema_unavailable", error=str(exc))
            return None

    def read_ids(self, ids: Sequence[str]) -> Iterator[Page]:
        """The contacts among ``ids`` that are MQLs now, by batch read (100 per call).

        For webhook-triggered runs: reading by id sees a change at once (the search index
        trails writes by seconds), and the MQL filter is applied here as search applies it
        (:mod:`connectors.hubspot.filters`). Ids HubSpot no longer has, and contacts that
        are not (or no longer) MQLs, are left out. Companies are read as in :meth:`read`,
        from the cache the scheduled runs keep fresh.
        """
        self.schema = self._schema()
        wanted = list(dict.fromkeys(str(i) for i in ids if str(i).strip()))
        props = sorted({*self.properties,
                        *(str(f["propertyName"]) for f in self.settings.mql_filter)})
        types = self.schema.types_for(CONTACT_PREFIX) if self.schema else None
        found = 0
        for start in range(0, len(wanted), READ_BATCH):
            chunk = wanted[start:start + READ_BATCH]
            request = BatchReadInputSimplePublicObjectId(
                inputs=[SimplePublicObjectId(id=cid) for cid in chunk],
                properties=props, properties_with_history=[])
            response = self.client.read_contacts(request)
            done, _gone = batch_outcome(response.status, response.body, response.headers, chunk)
            hits = []
            for cid in chunk:
                item = done.get(cid)
                values = item.get("properties") if isinstance(item, Mapping) else None
                if isinstance(values, Mapping) and matches(values, self.settings.mql_filter,
                                                           types):
                    hits.append(_hit(item, self.settings.modified_property))
            found += len(hits)
            yield self._page(hits, Position())  # its cursor is ignored (no keyset here)
        self.log.info("hubspot_read_ids_done", asked=len(wanted), mqls=found)

    def _page(self, hits: list[Hit], position: Position, remaining: int | None = None) -> Page:
        mqls: list[MQL] = []
        malformed: list[tuple[str, str]] = []
        contacts = self.schema.types_for(CONTACT_PREFIX) if self.schema else None
        company_types = self.schema.types_for(COMPANY_PREFIX) if self.schema else {}
        companies = self._companies(hits)
        for hit in hits:
            item = hit.raw if isinstance(hit.raw, Mapping) else {}
            props = item.get("properties")
            sf_id = props.get("salesforceleadid") if isinstance(props, Mapping) else None
            company_id = props.get("associatedcompanyid") if isinstance(props, Mapping) else None
            related = None
            if companies is not None and company_id:
                related = {COMPANY_PREFIX: Related(companies.get(str(company_id), {}),
                                                   company_types, self.settings.prefer_company)}
            outcome = to_mql(self.name, item.get("id"), props, self.settings.field_map,
                             raw_prefix="hubspot", modified_at=_from_ms(hit.ms),
                             crm_ids={self.name: hit.id, "salesforce": sf_id},
                             schema=contacts, related=related)
            if isinstance(outcome, MQL):
                mqls.append(outcome)
            else:
                malformed.append(outcome)
        return Page(mqls, Cursor(position.to_dict()), malformed, remaining)

    def _companies(self, hits: list[Hit]) -> dict[str, Mapping[str, Any]] | None:
        """The primary companies of a page's contacts (batch reads for the unknown ones)."""
        if self.companies is None:
            return None
        ids = []
        for hit in hits:
            props = hit.raw.get("properties") if isinstance(hit.raw, Mapping) else None
            company = props.get("associatedcompanyid") if isinstance(props, Mapping) else None
            if isinstance(company, (str, int)) and str(company).strip():
                ids.append(str(company).strip())
        return self.companies.lookup(ids)

    def _search(self, query: Query) -> Result:
        response = self.client.search_contacts(build_request(self.settings, query,
                                                             self.properties))
        return parse_result(response, self.settings.modified_property)


def _answers(reader: KeysetReader,
             start: Position) -> Iterator[tuple[list[Hit], Position, int | None]]:
    """The reader's pages with the count of what remained when each was read."""
    for hits, position in reader.pages(start):
        yield hits, position, reader.remaining


def build_request(settings: HubSpotSettings, query: Query,
                  properties: list[str]) -> PublicObjectSearchRequest:
    """The search body for one keyset query: the MQL filter AND the keyset filters."""
    modified = settings.modified_property
    filters = [_filter(spec) for spec in settings.mql_filter]
    if query.eq_ms is not None:
        filters.append(Filter(property_name=modified, operator="EQ", value=str(query.eq_ms)))
        if query.id_lte is not None:
            filters.append(Filter(property_name=ID_PROPERTY, operator="LTE",
                                  value=str(query.id_lte)))
        elif query.after_id:
            filters.append(Filter(property_name=ID_PROPERTY, operator="GT",
                                  value=str(query.after_id)))
        sort = ID_PROPERTY
    else:
        if query.lower_ms is not None:
            filters.append(Filter(property_name=modified, operator=query.lower_op,
                                  value=str(query.lower_ms)))
        sort = modified
    if query.upper_ms is not None and query.eq_ms is None:
        filters.append(Filter(property_name=modified, operator="LTE", value=str(query.upper_ms)))
    return PublicObjectSearchRequest(
        filter_groups=[FilterGroup(filters=filters)],
        sorts=[{"propertyName": sort, "direction": "ASCENDING"}],
        properties=properties,
        limit=query.limit,
        after=str(query.after),
    )


def parse_result(response: Response, modified_property: str) -> Result:
    """Validate a search answer's shape; anything off is an ``UnexpectedResponse``."""
    body = response.body
    correlation = correlation_of(body, response.headers)
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise UnexpectedResponse("HubSpot search answer has no 'results' list",
                                 status=response.status, correlation_id=correlation)
    total = body.get("total")
    if total is not None and (not isinstance(total, int) or isinstance(total, bool)):
        raise UnexpectedResponse(f"HubSpot search 'total' is {type(total).__name__}",
                                 status=response.status, correlation_id=correlation)
    return Result([_hit(item, modified_property) for item in body["results"]], total,
                  _next_after(body, response.status, correlation))


def _next_after(body: dict[str, Any], status: int, correlation: str | None) -> int | None:
    """``paging.next.after`` as an int; no ``paging``/``next`` means the last page."""
    paging = body.get("paging")
    if paging is None or (isinstance(paging, dict) and paging.get("next") is None):
        return None
    nxt = paging.get("next") if isinstance(paging, dict) else None
    after = nxt.get("after") if isinstance(nxt, dict) else None
    try:
        return int(str(after))
    except ValueError:
        raise UnexpectedResponse(f"HubSpot search paging.next.after is {after!r}",
                                 status=status, correlation_id=correlation) from None


def _hit(item: Any, modified_property: str) -> Hit:
    if not isinstance(item, dict):
        return Hit(None, None, item)
    raw_id = item.get("id")
    record_id = str(raw_id) if isinstance(raw_id, (str, int)) and str(raw_id) else None
    props = item.get("properties")
    value = props.get(modified_property) if isinstance(props, dict) else None
    if value is None:
        value = item.get("updatedAt")
    moment = parse_datetime(value) if isinstance(value, str) else None
    ms = int(moment.timestamp() * 1000) if moment is not None else None
    return Hit(record_id, ms, item)


def _filter(spec: Mapping[str, Any]) -> Filter:
    return Filter(property_name=spec["propertyName"], operator=spec["operator"],
                  value=spec.get("value"), values=spec.get("values"),
                  high_value=spec.get("highValue"))


def _from_ms(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)
