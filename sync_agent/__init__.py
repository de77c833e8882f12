"""sync-agent: automates the MQL -> SAL hand-off between marketing and sales.

The package is a library first; ``sync_agent.cli`` is a thin click layer over it.
Layout: ``rules`` (pure ruleset language and engine), ``model`` (domain types shared by
all layers), ``errors`` (the one exception hierarchy), ``logs`` (structlog set-up).
The connectors to HubSpot and Salesforce, and the local sandbox that emulates both,
live in the sibling package ``connectors``.
"""

__version__ = "0.1.0"
