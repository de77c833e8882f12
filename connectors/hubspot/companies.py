"""A contact's primary company, for ICP fit: industry, size, revenue live on the company.

A contact carries its primary company's id (``associatedcompanyid``, requested in the same
search), so no association call is needed (real-portals.md); companies come from
``companies/batch/read``, 100 per call. Contacts share companies, so each company is kept
in the instance's state between runs, and each read first asks HubSpot which companies
changed since the last one (a search on ``hs_lastmodifieddate``) and forgets those: a
backfill reads each company once, and a changed company is read again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hubspot.crm.companies import (
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectId,
)

from connectors.base import StateStore
from connectors.hubspot.client import HubSpotClient
from connectors.hubspot.settings import HubSpotSettings
from sync_agent.logs import get_logger

BATCH = 100
#: more changed companies than this since the last read: forget them all instead
MAX_CHANGED = 2_000
_MARK = "companies_checked_ms"
_GENERATION = "companies_generation"


class Companies:
    """Company properties by id, from memory, the instance's state, or HubSpot."""

    def __init__(self, client: HubSpotClient, settings: HubSpotSettings,
                 state: StateStore) -> None:  # fmt: skip
        self.client = client
        self.settings = settings
        self.state = state
        self.known: dict[str, Mapping[str, Any]] = {}
        self.generation = int(state.get(_GENERATION) or 0)
        self.reads = 0
        self.log = get_logger("connectors.hubspot.companies")

    def forget_changed(self) -> None:
        """Once per read: drop the companies HubSpot changed since the last read."""
        now_ms = int(self.client.clock() * 1000)
        mark = self.state.get(_MARK)
        self.state.put(_MARK, now_ms)
        if not isinstance(mark, int):
            return
        changed = self._changed_since(mark - self.settings.overlap_ms)
        if changed is None:  # too many to name: start the cache over
            self.generation += 1
            self.state.put(_GENERATION, self.generation)
            self.known.clear()
            return
        self.state.put_many({self._key(cid): None for cid in changed})
        for cid in changed:
            self.known.pop(cid, None)

    def lookup(self, ids: Iterable[str]) -> dict[str, Mapping[str, Any]]:
        """``{company id: properties}`` (a company HubSpot no longer has: ``{}``)."""
        wanted = sorted({i for i in ids if i})
        for cid in wanted:
            if cid not in self.known:
                saved = self.state.get(self._key(cid))
                if isinstance(saved, dict):
                    self.known[cid] = saved
        missing = [cid for cid in wanted if cid not in self.known]
        fresh: dict[str, Mapping[str, Any]] = {}
        for start in range(0, len(missing), BATCH):
            chunk = missing[start : start + BATCH]
            fresh |= self._read(chunk)
        if fresh:
            self.known |= fresh
            self.state.put_many({self._key(cid): props for cid, props in fresh.items()})
        return {cid: self.known.get(cid, {}) for cid in wanted}

    def _read(self, ids: list[str]) -> dict[str, Mapping[str, Any]]:
        request = BatchReadInputSimplePublicObjectId(
            inputs=[SimplePublicObjectId(id=cid) for cid in ids],
            properties=self.settings.company_properties_to_read(), properties_with_history=[])
        body = self.client.read_companies(request).body
        self.reads += 1
        found: dict[str, Mapping[str, Any]] = {cid: {} for cid in ids}
        results = body.get("results") if isinstance(body, dict) else None
        for item in results if isinstance(results, list) else ():
            props = item.get("properties") if isinstance(item, dict) else None
            if isinstance(props, dict) and str(item.get("id")) in found:
                found[str(item["id"])] = {k: v for k, v in props.items() if v is not None}
        return found

    def _changed_since(self, since_ms: int) -> list[str] | None:
        ids: list[str] = []
        after: str | None = "0"
        while after is not None:
            request = PublicObjectSearchRequest(
                filter_groups=[FilterGroup(filters=[Filter(
                    property_name="hs_lastmodifieddate", operator="GTE", value=str(since_ms))])],
                properties=["hs_object_id"], limit=200, after=after)  # fmt: skip
            body = self.client.search_companies(request).body
            total = body.get("total") if isinstance(body, dict) else None
            if isinstance(total, int) and total > MAX_CHANGED:
                return None
            results = body.get("results") if isinstance(body, dict) else None
            ids += [str(r["id"]) for r in results or () if isinstance(r, dict) and "id" in r]
            paging = body.get("paging") if isinstance(body, dict) else None
            nxt = paging.get("next") if isinstance(paging, dict) else None
            after = str(nxt["after"]) if isinstance(nxt, dict) and "after" in nxt else None
        return ids

    def _key(self, cid: str) -> str:
        return f"company:{self.generation}:{cid}"
