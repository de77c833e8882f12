"""The search cache must always agree with a fresh search, whatever changed in between."""

from __future__ import annotations

import random
from typing import Any

import pytest

from connectors.sandbox import SandboxStore, seed_store
from connectors.sandbox import hubspot_search as hs
from connectors.sandbox.hubspot_objects import HubSpotHandlers
from connectors.sandbox.hubspot_validate import property_types

QUERIES = [
    (
        {
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "lifecyclestage",
                            "operator": "EQ",
                            "value": "marketingqualifiedlead",
                        }
                    ]
                }
            ],
            "sorts": [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}],
        }
    ),
    (
        {
            "filterGroups": [
                {"filters": [{"propertyName": "hubspotscore", "operator": "GTE", "value": "50"}]}
            ],
            "sorts": [{"propertyName": "hubspotscore", "direction": "DESCENDING"}],
        }
    ),
    {"sorts": [{"propertyName": "company", "direction": "DESCENDING"}]},
]


def _fresh(store: SandboxStore, body: dict[str, Any]) -> list[str]:
    types = property_types(store.contact_property_defs)
    _limit, _after, sort = hs.parse_request(body, 0)
    return hs.sorted_ids(
        store.contacts, hs.compile_groups(body.get("filterGroups"), types), sort, types
    )


def _mutate(store: SandboxStore, rng: random.Random) -> None:
    ids = list(store.contacts)
    for _ in range(rng.randrange(1, 40)):
        cid = rng.choice(ids)
        action = rng.random()
        if action < 0.4:
            store.contacts[cid]["properties"]["lastmodifieddate"] = (
                f"2026-0{rng.randrange(1, 9)}-01T00:00:00.000Z"
            )
        elif action < 0.6:
            store.contacts[cid]["properties"]["lifecyclestage"] = rng.choice(
                ["lead", "marketingqualifiedlead"]
            )
        elif action < 0.75:
            store.contacts[cid]["properties"].update(hubspotscore=str(rng.randrange(100)))
        elif action < 0.85:
            store.contacts[cid]["properties"] = {
                **store.contacts[cid]["properties"],
                "company": rng.choice([None, "Zeta", "Acme"]),
            }
        elif action < 0.95:
            store.add_contact(
                {"lifecyclestage": "marketingqualifiedlead", "hubspotscore": "99", "company": "New"}
            )
        elif len(store.contacts) > 10:
            del store.contacts[cid]
            ids.remove(cid)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cached_search_equals_fresh_search_after_random_changes(seed: int) -> None:
    store = SandboxStore()
    seed_store(store, 400, seed=seed)
    handlers = HubSpotHandlers(store)
    rng = random.Random(seed)
    for _round in range(25):
        for body in QUERIES:
            status, payload = handlers.search("contacts", {**body, "limit": 200}, 0)
            assert status == 200
            fresh = _fresh(store, body)
            assert payload["total"] == len(fresh)
            assert [r["id"] for r in payload["results"]] == fresh[:200]
        _mutate(store, rng)
