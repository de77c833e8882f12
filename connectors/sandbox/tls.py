"""A throw-away certificate authority for the Salesforce emulator's HTTPS.

simple-salesforce always builds ``https://`` URLs, so the emulator serves TLS with a
certificate from a locally generated ``trustme`` CA; clients trust it through the
``ca_bundle`` PEM path (``requests`` ``verify=``), no URL rewriting needed.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class LocalTLS:
    """The server's SSL context and the CA bundle clients must trust."""

    context: ssl.SSLContext
    ca_bundle: Path


def make_local_tls(directory: Path) -> LocalTLS:
    """Create a CA, a certificate for 127.0.0.1/localhost, and write ``ca.pem`` to ``directory``."""
    ca = trustme.CA(organization_name="sync-agent sandbox")
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_path = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    return LocalTLS(context=context, ca_bundle=ca_path)
