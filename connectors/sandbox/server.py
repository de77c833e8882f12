"""Run both emulators on 127.0.0.1: HubSpot over http, Salesforce over https.

:class:`Sandbox` seeds a :class:`SandboxStore`, starts one threaded werkzeug server per
system in a daemon thread (ephemeral ports unless given), and serves the ``/_sandbox/``
control routes on both (:mod:`connectors.sandbox.control`). Use it as a context manager in
tests, or through ``sync-agent sandbox serve`` in the foreground.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from connectors.sandbox.control import Control
from connectors.sandbox.faults import Faults
from connectors.sandbox.hubspot_app import make_hubspot_app
from connectors.sandbox.lead_sync import install_lead_sync
from connectors.sandbox.limits import HubSpotLimits, SalesforceLimits
from connectors.sandbox.sales_team import SalesTeam, TeamConfig
from connectors.sandbox.salesforce_org import SalesforceOrg
from connectors.sandbox.seed import seed_store
from connectors.sandbox.store import SandboxStore
from connectors.sandbox.tls import make_local_tls
from connectors.sandbox.webhooks import WebhookConfig, Webhooks, install_webhook_routes
from sync_agent.errors import FatalError

HOST = "127.0.0.1"
STATE_PATH = "/_sandbox/state"
WSGIApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


class SandboxNotRunning(FatalError):
    """``info()`` was asked before ``start()``."""


class _QuietHandler(WSGIRequestHandler):
    """Don't log every request line to stderr (benchmarks make thousands)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def _credentials(seed: int) -> dict[str, str]:
    """Deterministic, obviously fake credentials (a sandbox holds no secrets)."""
    rng = random.Random(f"credentials-{seed}")

    def hex_(n: int) -> str:
        return "".join(rng.choice("0123456789abcdef") for _ in range(n))

    return {
        "hubspot_token": f"pat-sandbox-{hex_(8)}-{hex_(4)}-{hex_(12)}",
        "salesforce_session_id": f"00D5g00000SANDBX!{hex_(40)}",
        "salesforce_client_id": f"3MVG9sandbox{hex_(24)}",
        "salesforce_client_secret": hex_(32).upper(),
        "salesforce_username": "integration@sandbox.example.com",
        "salesforce_password": f"sandbox-{hex_(10)}",
        "salesforce_security_token": hex_(24),
    }


class Sandbox:
    """Both emulators over one seeded store; start/stop or use ``with Sandbox(...) as sb``."""

    def __init__(
        self,
        contacts: int = 0,
        seed: int = 7,
        mql_share: float = 0.6,
        faults: Faults | None = None,
        hubspot_limits: HubSpotLimits | None = None,
        salesforce_limits: SalesforceLimits | None = None,
        *,
        hubspot_faults: Faults | None = None,
        salesforce_faults: Faults | None = None,
        hubspot_port: int = 0,
        salesforce_port: int = 0,
        clock: Callable[[], datetime] | None = None,
        seed_options: dict[str, Any] | None = None,
        org: SalesforceOrg | None = None,
        team: TeamConfig | None = None,
        webhooks: WebhookConfig | None = None,
    ) -> None:
        self.store = SandboxStore(clock, org=org) if clock else SandboxStore(org=org)
        self.store.org.seed = seed
        self.control = Control(self.store)
        install_lead_sync(self.store)
        self.team = SalesTeam(self.store, team or TeamConfig(seed=seed))
        self.webhooks = Webhooks(self.store, webhooks or WebhookConfig(seed=seed))
        install_webhook_routes(self.control, self.webhooks)
        self.faults = faults if faults is not None else Faults()
        self.hubspot_faults = hubspot_faults or self.faults
        self.salesforce_faults = salesforce_faults or self.faults
        self.hubspot_limits = hubspot_limits or HubSpotLimits()
        self.salesforce_limits = salesforce_limits or SalesforceLimits()
        self.store.api_usage["sf_api_max"] = self.salesforce_limits.daily_api_max
        self.store.credentials.update(_credentials(seed))
        self.ports = (hubspot_port, salesforce_port)
        if contacts:
            seed_store(self.store, contacts, seed=seed, mql_share=mql_share, **(seed_options or {}))
        self._servers: list[BaseWSGIServer] = []
        self._threads: list[threading.Thread] = []
        self._tmp: Path | None = None
        self._ca_bundle: Path | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Start both servers in daemon threads; returns self."""
        from connectors.sandbox.salesforce_app import make_salesforce_app

        if self._servers:
            return self
        self._tmp = Path(tempfile.mkdtemp(prefix="sync-agent-sandbox-"))
        tls = make_local_tls(self._tmp)
        self._ca_bundle = tls.ca_bundle
        hubspot = make_hubspot_app(self.store, self.hubspot_faults, self.hubspot_limits)
        salesforce = make_salesforce_app(self.store, self.salesforce_faults, self.salesforce_limits)
        self._serve(hubspot, self.ports[0], None)
        self._serve(salesforce, self.ports[1], tls.context)
        self.webhooks.start()
        return self

    def _serve(self, app: WSGIApp, port: int, ssl_context: Any) -> None:
        server = make_server(
            HOST,
            port,
            self.control.wrap(app),
            threaded=True,
            request_handler=_QuietHandler,
            ssl_context=ssl_context,
        )
        server.daemon_threads = True  # type: ignore[attr-defined]
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{port}",
            daemon=True,
        )
        thread.start()
        self._servers.append(server)
        self._threads.append(thread)

    def stop(self) -> None:
        """Stop the servers and webhook deliveries, delete the temporary CA bundle."""
        self.webhooks.stop()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients need -------------------------------------------------------------

    @property
    def hubspot_url(self) -> str:
        """Base URL of the HubSpot emulator (http)."""
        return f"http://{HOST}:{self._servers[0].server_port}"

    @property
    def salesforce_url(self) -> str:
        """Instance URL of the Salesforce emulator (https)."""
        return f"https://{HOST}:{self._servers[1].server_port}"

    def info(self) -> dict[str, Any]:
        """URLs, credentials and the CA bundle path, as ``sandbox serve`` prints them."""
        if not self._servers:
            raise SandboxNotRunning(
                "Sandbox is not started: call start() or use it as a context manager"
            )
        creds = self.store.credentials
        return {
            "hubspot_url": self.hubspot_url,
            "hubspot_token": creds["hubspot_token"],
            "salesforce_url": self.salesforce_url,
            "salesforce_session_id": creds["salesforce_session_id"],
            "ca_bundle": str(self._ca_bundle),
            "salesforce_client_id": creds["salesforce_client_id"],
            "salesforce_client_secret": creds["salesforce_client_secret"],
            "salesforce_username": creds["salesforce_username"],
            "salesforce_password": creds["salesforce_password"],
            "salesforce_security_token": creds["salesforce_security_token"],
            "state_url": self.hubspot_url + STATE_PATH,
        }

    def state(self, include_records: bool = True) -> dict[str, Any]:
        """The same dict ``GET /_sandbox/state`` returns."""
        return self.store.snapshot(include_records=include_records)

    # -- sandbox time ----------------------------------------------------------------------

    @property
    def org(self) -> SalesforceOrg:
        """The Salesforce org's configuration (change it at any time)."""
        return self.store.org

    def now(self) -> datetime:
        """Sandbox time."""
        return self.store.now()

    def advance(self, seconds: float = 0, *, hours: float = 0, days: float = 0) -> int:
        """Move sandbox time forward and run everything that became due (no sleeping);
        returns how many agenda entries ran (== ``POST /_sandbox/clock``)."""
        return self.store.advance(seconds + 3600 * hours + 86400 * days)
