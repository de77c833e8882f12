"""Fixtures for the sandbox contract suite: one seeded sandbox per module, real clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hubspot import HubSpot

from connectors.sandbox import Sandbox


class Api:
    """Plain ``requests`` against the HubSpot emulator, for malformed and edge cases."""

    def __init__(self, info: dict[str, Any]) -> None:
        self.base = info["hubspot_url"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {info['hubspot_token']}"

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=10, **kwargs)

    def search(self, body: dict[str, Any], obj: str = "contacts") -> requests.Response:
        return self.post(f"/crm/v3/objects/{obj}/search", body)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(contacts=3000, seed=11, mql_share=0.6) as sb:
        yield sb


@pytest.fixture(scope="module")
def api(sandbox: Sandbox) -> Api:
    return Api(sandbox.info())


@pytest.fixture(scope="module")
def client(sandbox: Sandbox) -> HubSpot:
    info = sandbox.info()
    return HubSpot(access_token=info["hubspot_token"], host=info["hubspot_url"])



@pytest.fixture(scope="session")
def make_api() -> type[Api]:
    """The ``Api`` class, for tests that start their own sandbox."""
    return Api
