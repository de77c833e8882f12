"""A local, faithful emulator of the HubSpot and Salesforce endpoints sync-agent uses.

Public API::

    from connectors.sandbox import Sandbox, SandboxStore, Faults, HubSpotLimits, SalesforceLimits
    with Sandbox(contacts=5000, seed=7, mql_share=0.6) as sb:
        sb.info()    # URLs, credentials, ca_bundle
        sb.state()   # records and request counts (== GET /_sandbox/state)
"""

from __future__ import annotations

from connectors.sandbox.faults import Faults
from connectors.sandbox.limits import HubSpotLimits, SalesforceLimits
from connectors.sandbox.seed import SeedOptions, seed_store
from connectors.sandbox.server import Sandbox
from connectors.sandbox.store import SandboxStore, hs_time, sf_time

__all__ = [
    "Faults",
    "HubSpotLimits",
    "SalesforceLimits",
    "Sandbox",
    "SandboxStore",
    "SeedOptions",
    "hs_time",
    "seed_store",
    "sf_time",
]
