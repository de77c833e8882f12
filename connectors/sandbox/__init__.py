"""A local, faithful emulator of the HubSpot and Salesforce endpoints sync-agent uses.

Public API::

    from connectors.sandbox import Sandbox, SandboxStore, Faults, HubSpotLimits, SalesforceLimits
    with Sandbox(contacts=5000, seed=7, mql_share=0.6) as sb:
        sb.info()    # URLs, credentials, ca_bundle
        sb.state()   # records and request counts (== GET /_sandbox/state)
        sb.org       # the Salesforce org's knobs (SalesforceOrg)
        sb.advance(hours=24)   # move sandbox time; what is due happens (== POST /_sandbox/clock)
"""

from __future__ import annotations

from connectors.sandbox.faults import Faults
from connectors.sandbox.limits import HubSpotLimits, SalesforceLimits
from connectors.sandbox.sales_team import SalesTeam, TeamConfig
from connectors.sandbox.salesforce_org import AssignmentRule, SalesforceOrg, ValidationRule
from connectors.sandbox.salesforce_schema import FieldSecurity
from connectors.sandbox.seed import SeedOptions, seed_store
from connectors.sandbox.server import Sandbox
from connectors.sandbox.store import SandboxStore, hs_time, sf_time
from connectors.sandbox.webhooks import WebhookConfig, Webhooks

__all__ = [
    "AssignmentRule",
    "Faults",
    "FieldSecurity",
    "HubSpotLimits",
    "SalesTeam",
    "SalesforceLimits",
    "SalesforceOrg",
    "Sandbox",
    "SandboxStore",
    "SeedOptions",
    "TeamConfig",
    "ValidationRule",
    "WebhookConfig",
    "Webhooks",
    "hs_time",
    "seed_store",
    "sf_time",
]
