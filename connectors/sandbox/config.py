"""A sync-agent configuration for a running sandbox (demo, benches, tests, ``--write-config``).

The sandbox is the embedded default target, so it ships the sample configuration that
points at it: both connectors, the default ruleset, the ``hubspot-mqls`` pipeline. Its
secrets never go into the config text: they go to a 0600 secrets file the config names.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from sync_agent.config import DEFAULT_CONFIG_NAME, Config, load_config
from sync_agent.secrets import write_secrets_file
from sync_agent.shipped import default_ruleset


def _q(value: Any) -> str:
    """A TOML basic string."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def sandbox_config_text(info: Mapping[str, Any]) -> str:
    """A config TOML for a running sandbox; its secrets never go into the text.

    Without ``info["secrets_file"]`` the sandbox's credentials are written (mode 0600) to a
    per-user runtime folder and the config names that file by absolute path, so
    ``sandbox serve --write-config`` works with the text alone.

    ``info`` keys (all optional but the URLs): ``hubspot_base_url``, ``salesforce_instance_url``,
    ``salesforce_login_url`` (defaults to the instance URL), ``ca_bundle`` (path of the
    sandbox CA), ``audit_db`` (default ``sync-agent.db``), ``secrets_file`` (default
    ``sync-agent.secrets.toml``), ``ruleset`` (default the shipped ``sal.toml``),
    ``every_minutes`` (default 1), ``batch_size`` (default 2000), and extra option tables
    ``hubspot_options`` / ``salesforce_options`` merged into the connector tables.
    """
    secrets_file = info.get("secrets_file")
    if secrets_file is None and sandbox_secrets(info):
        secrets_file = str(_runtime_secrets(info))
    hub = info.get("hubspot_base_url") or info.get("hubspot_url") or info.get("base_url")
    sf = (
        info.get("salesforce_instance_url")
        or info.get("salesforce_url")
        or info.get("instance_url")
    )
    login = info.get("salesforce_login_url") or sf
    ca = info.get("ca_bundle")
    lines = [
        "# sync-agent configuration for the local sandbox (generated).",
        "[agent]",
        f"audit_db = {_q(info.get('audit_db', 'sync-agent.db'))}",
        f"secrets_file = {_q(secrets_file or 'sync-agent.secrets.toml')}",
        'log_level = "INFO"',
        "",
        "[connectors.hubspot]",
        f"base_url = {_q(hub)}",
    ]
    lines += [f"ca_bundle = {_q(ca)}"] if ca else []
    lines += _extra(_hubspot_options(info.get("hubspot_options")))
    lines += ["", "[connectors.salesforce]", f"instance_url = {_q(sf)}", f"login_url = {_q(login)}"]
    lines += [f"ca_bundle = {_q(ca)}"] if ca else []
    lines += _extra(_salesforce_options(info.get("salesforce_options")))
    lines += [
        "",
        "[[pipelines]]",
        'name = "hubspot-mqls"',
        'source = "hubspot"',
        f"ruleset = {_q(info.get('ruleset', default_ruleset()))}",
        'sinks = ["salesforce", "hubspot"]',
        f"schedule = {{ every_minutes = {info.get('every_minutes', 1)} }}",
        f"batch_size = {int(info.get('batch_size', 2000))}",
        "",
    ]
    return "\n".join(lines)


#: The sandbox portal's lead score: HubSpot sunset the legacy ``hubspotscore`` (frozen since
#: 31 August 2025); portals score with their own properties, the sandbox's is
#: ``example_combined_score`` (see ``hubspot_catalog.SCORE_PROPERTIES``).
SANDBOX_HUBSPOT_FIELD_MAP = {"lead_score": "example_combined_score"}


#: Where the sandbox's sales team puts its rejection reasons (``sales_team.py``): the org's
#: reason picklist on Lead, and the portal's example contact property.
SANDBOX_OUTCOMES = {
    "salesforce": {"rejection_reason_field": "Rejection_Reason__c"},
    "hubspot": {"rejection_reason_property": "sales_rejection_reason"},
}


def _hubspot_options(options: Any) -> dict[str, Any]:
    """The caller's HubSpot options, with the sandbox's score property mapped unless the
    caller maps ``lead_score`` itself, and its rejection reason property read back."""
    merged = dict(options) if isinstance(options, Mapping) else {}
    field_map = merged.get("field_map")
    merged["field_map"] = {**SANDBOX_HUBSPOT_FIELD_MAP,
                           **(field_map if isinstance(field_map, Mapping) else {})}
    return _with_outcomes(merged, "hubspot")


def _salesforce_options(options: Any) -> dict[str, Any]:
    """The caller's Salesforce options, with the org's rejection reason field read back."""
    return _with_outcomes(dict(options) if isinstance(options, Mapping) else {}, "salesforce")


def _with_outcomes(merged: dict[str, Any], system: str) -> dict[str, Any]:
    given = merged.get("outcomes")
    merged["outcomes"] = {**SANDBOX_OUTCOMES[system],
                          **(given if isinstance(given, Mapping) else {})}
    return merged


def _extra(options: Any) -> list[str]:
    if not isinstance(options, Mapping):
        return []
    return [f"{key} = {_value(value)}" for key, value in options.items()]


def _value(value: Any) -> str:
    """A TOML value: booleans, numbers, strings, and (for maps) an inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_q(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return _q(value)


def _runtime_secrets(info: Mapping[str, Any]) -> Path:
    """Write the sandbox's secrets to ``$TMPDIR/sync-agent-<uid>/sandbox-<hash>.secrets.toml``."""
    folder = Path(tempfile.gettempdir()) / f"sync-agent-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    tag = hashlib.sha256(repr(sorted(sandbox_secrets(info).items())).encode()).hexdigest()[:12]
    return write_secrets_file(folder / f"sandbox-{tag}.secrets.toml", sandbox_secrets(info))


def sandbox_secrets(info: Mapping[str, Any]) -> dict[str, str]:
    """The secrets a sandbox hands out (token, session id), as env-var names."""
    names = {
        "salesforce_client_id": "SALESFORCE_CLIENT_ID",
        "salesforce_client_secret": "SALESFORCE_CLIENT_SECRET",
        "hubspot_token": "HUBSPOT_ACCESS_TOKEN",
        "hubspot_access_token": "HUBSPOT_ACCESS_TOKEN",
        "salesforce_session_id": "SALESFORCE_SESSION_ID",
        "salesforce_token": "SALESFORCE_SESSION_ID",
    }
    out = {env: str(info[key]) for key, env in names.items() if info.get(key)}
    out.update({str(k): str(v) for k, v in (info.get("secrets") or {}).items()})
    return out


def write_sandbox_config(info: Mapping[str, Any], path: str | Path) -> tuple[Path, Path]:
    """Write the sandbox config at ``path`` and its secrets file (0600) next to it."""
    path = Path(path).resolve()
    secrets_name = str(info.get("secrets_file", path.stem + ".secrets.toml"))
    path.write_text(sandbox_config_text({**info, "secrets_file": secrets_name}), encoding="utf-8")
    secrets_path = write_secrets_file(path.parent / secrets_name, sandbox_secrets(info))
    return path, secrets_path


def config_for_sandbox(info: Mapping[str, Any], workdir: str | Path, **overrides: Any) -> Config:
    """Write a sandbox config into ``workdir`` and load it (demo, benches, tests).

    ``overrides`` replace Config fields after loading (e.g. ``max_attempts=2``).
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    path, _ = write_sandbox_config(info, workdir / DEFAULT_CONFIG_NAME)
    config = load_config(path, environ={})
    if overrides:
        config = replace(config, **overrides)
    return config
