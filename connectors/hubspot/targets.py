"""What the sink writes, checked against the portal before any write (``check_targets``).

The sink writes the ``sal_*`` contact properties (named by ``[connectors.<name>.sal]``) and
a note carrying ``sal_handoff_key``; ``setup-properties`` creates them with the types in
:func:`connectors.hubspot.setup.wanted_properties`. A portal can still differ: a property
someone created by hand as text where a number is written, a ``sal_status`` whose options
lack a configured status value (HubSpot refuses the write: ``INVALID_OPTION``), a property
only HubSpot may set, an ``advance_stage`` that is not a lifecycle stage. Contact
properties come from the schema cache (:mod:`connectors.hubspot.schema`), note properties
from one more call. :func:`target_problems` is pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import Instance, TargetProblem
from connectors.hubspot.build import build_client
from connectors.hubspot.schema import fetch, parse_properties
from connectors.hubspot.settings import HubSpotSettings
from connectors.hubspot.setup import wanted_properties
from connectors.schema_cache import cached_answers
from sync_agent.errors import SyncAgentError
from sync_agent.rules.fitting import closest_options, closest_properties
from sync_agent.rules.reading import PropertyType

Props = Mapping[str, PropertyType]
_SETUP = "run: sync-agent hubspot setup-properties (it creates what is missing)"


def check_targets(instance: Instance, refresh: bool) -> list[TargetProblem]:
    """``ConnectorSpec.check_targets``: contact properties cached unless ``refresh``."""
    settings: HubSpotSettings = instance.settings
    client = build_client(settings, instance.secrets)
    try:
        answers, _fetched_at, stale = cached_answers(
            instance.state,
            lambda: fetch(client),
            refresh_hours=settings.schema_refresh_hours,
            force=refresh,
        )
        found: list[TargetProblem] = []
        try:
            notes: Props | None = parse_properties(client.get_properties("notes").body)
        except SyncAgentError as exc:
            notes = None
            found.append(
                TargetProblem(
                    (),
                    f"the portal's note properties could not be read: {exc}",
                    "retry when the portal answers",
                    "warning",
                )
            )
    finally:
        client.close()
    found += target_problems(parse_properties(answers.get("contacts")), notes, settings)
    if stale:
        found.append(
            TargetProblem(
                (),
                stale,
                "retry when the portal answers",
                "warning",
            )
        )
    return found


def target_problems(
    contacts: Props, notes: Props | None, settings: HubSpotSettings
) -> list[TargetProblem]:
    """Every problem the portal's property definitions show for these settings."""
    options = {getattr(settings.sal, key): ("sal", key) for key in type(settings.sal).model_fields}
    found: list[TargetProblem] = []
    for spec in wanted_properties(settings):
        props = contacts if spec.object_type == "contacts" else notes
        if props is None:
            continue
        option = (
            options.get(spec.name, ("sal",))
            if spec.object_type == "contacts"
            else ("sal", "handoff_key")
        )
        declared = props.get(spec.name)
        if declared is None:
            close = closest_properties(spec.name, props)
            guess = "did you mean " + " or ".join(f"'{c}'" for c in close) + "? " if close else ""
            # the SLA status is only written by [sla] actions: its absence is a warning
            optional = spec.object_type == "contacts" and spec.name == settings.sal.sla_status
            found.append(
                TargetProblem(
                    option,
                    f"the portal has no {spec.object_type[:-1]} property '{spec.name}'",
                    guess + _SETUP,
                    "warning" if optional else "error",
                )
            )
            continue
        found += _property_problems(spec.name, spec.type, declared, option)
        if spec.options:
            found += _option_problems(spec.name, declared, settings)
    stage = settings.advance_stage
    declared = contacts.get("lifecyclestage")
    if stage and declared is not None and declared.options and declared.label(stage) is None:
        found.append(
            TargetProblem(
                ("advance_stage",),
                f"'{stage}' is not a lifecycle stage of the portal",
                _guess(stage, declared),
            )
        )
    if settings.outcomes.enabled:
        found += outcome_problems(contacts, settings)
    return found


def outcome_problems(contacts: Props, settings: HubSpotSettings) -> list[TargetProblem]:
    """The outcome read-back's settings against the portal (warnings: a batch read skips a
    property it lacks, so the read-back works, and just never sees that reason or status)."""
    conf, found = settings.outcomes, []
    reason = conf.rejection_reason_property
    if reason and contacts and reason not in contacts:
        close = closest_properties(reason, contacts)
        guess = "did you mean " + " or ".join(f"'{c}'" for c in close) + "? " if close else ""
        found.append(TargetProblem(
            ("outcomes", "rejection_reason_property"),
            f"the portal has no contact property '{reason}': no rejection reason is read back",
            guess + "create the dropdown sales picks the reason in (Settings → Properties), "
            "or set it to \"\"", "warning"))
    declared = contacts.get("hs_lead_status")
    for option in ("rejected_statuses", "recycled_statuses"):
        for value in getattr(conf, option):
            if declared is not None and declared.options and declared.label(value) is None:
                found.append(TargetProblem(
                    ("outcomes", option),
                    f"'{value}' is not an hs_lead_status option of the portal: that outcome "
                    "is never seen", _guess(value, declared), "warning"))
    return found


def _property_problems(
    name: str, wanted: str, declared: PropertyType, option: tuple[str, ...]
) -> list[TargetProblem]:
    found = []
    if declared.type != wanted:
        found.append(
            TargetProblem(
                option,
                f"'{name}' is a {declared.type} property; the agent writes a {wanted} value",
                f"point {'.'.join(option)} at a {wanted} "
                f"property, or delete '{name}' in HubSpot and {_SETUP}",
            )
        )
    if declared.read_only:
        found.append(
            TargetProblem(
                option,
                f"'{name}' is set by HubSpot only: the agent cannot write it",
                f"point {'.'.join(option)} at a property of your own",
            )
        )
    return found


def _option_problems(
    name: str, declared: PropertyType, settings: HubSpotSettings
) -> list[TargetProblem]:
    return [
        TargetProblem(
            ("status_values", outcome),
            f"'{value}' is not an option of '{name}': "
            f"HubSpot refuses the write of every {outcome} lead",
            _guess(value, declared) + f"; or add the option to '{name}' in HubSpot "
            "(Settings → Properties)",
        )
        for outcome, value in settings.status_values.items()
        if declared.label(value) is None
    ]


def _guess(value: str, declared: PropertyType) -> str:
    close = closest_options(value, declared.options, True)
    values = ", ".join(v for v, _ in declared.options)
    guess = "did you mean " + " or ".join(f"'{c}'" for c in close) + "? " if close else ""
    return f"{guess}options: {values}"


__all__: list[Any] = ["check_targets", "target_problems"]
