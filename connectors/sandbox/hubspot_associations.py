"""``POST /crm/v4/associations/{from}/{to}/batch/read`` for contacts and companies.

Answer shape from HubSpot's v4 reference: ``{"status", "results": [{"from": {"id"},
"to": [{"toObjectId", "associationTypes": [{"category", "typeId", "label"}]}]}],
"startedAt", "completedAt"}``. A contact's primary company carries two types, the
unlabeled one (contact→company 279, company→contact 280) and the primary one (1 / 2,
labelled "Contact with Primary Company" since HubSpot's February 2024 change); other
companies carry only the unlabeled type. Ids without associations are left out of the
results (unverified: HubSpot may list them as errors instead).
"""

from __future__ import annotations

from typing import Any

from connectors.sandbox.hubspot_validate import ApiError, check_batch_size
from connectors.sandbox.store import SandboxStore, hs_time

MAX_INPUTS = 1_000  # unverified for v4 batch read; v3 object batch endpoints take 100
PRIMARY_LABEL = "Contact with Primary Company"
#: (from, to) -> (unlabeled typeId, primary typeId)
TYPE_IDS = {("contacts", "companies"): (279, 1), ("companies", "contacts"): (280, 2)}


def _type(type_id: int, label: str | None) -> dict[str, Any]:
    return {"category": "HUBSPOT_DEFINED", "typeId": type_id, "label": label}


def _links(store: SandboxStore, source: str,
           ids: list[str]) -> dict[str, list[tuple[str, bool]]]:
    """(other id, primary?) pairs per input id, primary first (one pass for companies)."""
    if source == "contacts":
        return {oid: [(cid, i == 0) for i, cid in enumerate(store.contact_companies.get(oid, []))]
                for oid in ids}
    wanted: dict[str, list[tuple[str, bool]]] = {oid: [] for oid in ids}
    for contact_id, linked in store.contact_companies.items():
        for i, company_id in enumerate(linked):
            if company_id in wanted:
                wanted[company_id].append((contact_id, i == 0))
    return wanted


def batch_read_associations(
    store: SandboxStore, source: str, target: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Associations of each input record to ``target`` records."""
    types = TYPE_IDS.get((source, target))
    if types is None:
        raise ApiError(400, f"Unsupported association {source} -> {target}",
                       code="INVALID_OBJECT_TYPE")
    inputs = body.get("inputs")
    check_batch_size(inputs, MAX_INPUTS)
    unlabeled, primary = types
    stamp = hs_time(store.now())
    ids = [str(item.get("id", "")) for item in inputs or []]
    found = _links(store, source, ids)
    results = []
    for oid in ids:
        links = found.get(oid)
        if not links:
            continue
        results.append({
            "from": {"id": oid},
            "to": [
                {"toObjectId": other,
                 "associationTypes": [_type(unlabeled, None)]
                 + ([_type(primary, PRIMARY_LABEL)] if is_primary else [])}
                for other, is_primary in links
            ],
        })
    return 200, {"status": "COMPLETE", "results": results, "startedAt": stamp,
                 "completedAt": stamp}
