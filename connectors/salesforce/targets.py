"""What the sink writes, checked against the org before any write (``check_targets``).

Every run would otherwise find out one failed collection at a time: a Status value the org
lacks (the Status picklist refuses it: ``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST``), a SAL
field that does not exist or that field-level security hides from the integration user
(a hidden field is simply absent from describe), a field it may read but not edit
(``updateable``/``createable`` false), a Task key that is not an External ID (the upsert is
refused). The describe answers are the schema cache's (:mod:`connectors.salesforce.schema`):
the Lead and Task describes and the org's ``LeadStatus`` rows. :func:`target_problems` is
pure; each problem names the option of ``[connectors.<name>]`` to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from connectors.base import Instance, TargetProblem
from connectors.salesforce.client import SalesforceClient
from connectors.salesforce.schema import load_answers
from connectors.salesforce.settings import SalesforceSettings
from sync_agent.rules.fitting import closest_options

Fields = Mapping[str, Mapping[str, Any]]
#: Lead fields the sink writes, by option, and the describe types that take what it sends.
_LEAD_FIELDS = {
    "score_field": ({"double", "percent", "currency", "int"}, "a number"),
    "date_field": ({"datetime"}, "a date and time"),
    "reason_field": ({"string", "textarea"}, "text"),
}
#: Task fields every upsert sends, besides the key: (field, option that sets its value).
_TASK_FIELDS = (
    ("WhoId", ""),
    ("Subject", "task_subject"),
    ("Description", ""),
    ("ActivityDate", "sla_hours"),
    ("Status", "task_status"),
    ("Priority", "task_priority"),
    ("OwnerId", "fallback_task_owner"),
)
_TYPO = 0.85
_HIDDEN = (
    "absent from the {obj} describe: it does not exist, or field-level security "
    "hides it from the integration user"
)
_FLS = (
    "give the integration user edit access (Setup → Object Manager → {obj} → {field} → "
    "Set Field-Level Security)"
)


def check_targets(instance: Instance, refresh: bool) -> list[TargetProblem]:
    """``ConnectorSpec.check_targets``: the org's describe (cached unless ``refresh``)."""
    settings: SalesforceSettings = instance.settings
    client = SalesforceClient(settings, instance.secrets)
    answers, _fetched_at, stale = load_answers(client, settings, instance.state, refresh=refresh)
    found = target_problems(answers, settings)
    if stale:
        found.append(
            TargetProblem(
                (),
                stale,
                "retry when the org answers",
                "warning",
            )
        )
    return found


def target_problems(answers: Mapping[str, Any], s: SalesforceSettings) -> list[TargetProblem]:
    """Every problem the org's describe answers show for these settings."""
    lead, task = _fields(answers.get("lead")), _fields(answers.get("task"))
    rows = answers.get("lead_statuses")
    statuses = (
        {str(r.get("ApiName")): r for r in rows if isinstance(r, Mapping)}
        if isinstance(rows, list)
        else {}
    )
    found = _status_problems(lead, statuses, s)
    for option, (types, words) in _LEAD_FIELDS.items():
        name = getattr(s, option)
        if name:
            found += _field_problems("Lead", lead, name, (option,), types, words)
    if s.sla_status_field:  # only the [sla] "mark" action writes it: warnings
        found += [replace(p, severity="warning", hint=p.hint.replace("docs/salesforce.md",
                                                                     "docs/sla.md"))
                  for p in _field_problems("Lead", lead, s.sla_status_field,
                                           ("sla_status_field",), {"string", "textarea"},
                                           "text")]
    reason = lead.get(s.reason_field) if s.reason_field else None
    length = reason.get("length") if reason else None
    if isinstance(length, int) and 0 < length < s.reason_max_chars:
        found.append(
            TargetProblem(
                ("reason_max_chars",),
                f"reason_max_chars is "
                f"{s.reason_max_chars} but Lead.{s.reason_field} holds {length} characters: "
                "longer reasons are refused (STRING_TOO_LONG)",
                f"reason_max_chars = {length}",
            )
        )
    if s.create_task or s.review_task:
        found += _task_problems(task, s)
    if s.create_missing_leads:
        found += _created_lead_problems(lead, s)
    if s.outcomes.enabled:
        found += outcome_problems(lead, statuses, s)
    return found


def outcome_problems(lead: Fields, statuses: Mapping[str, Any],
                     s: SalesforceSettings) -> list[TargetProblem]:
    """The outcome read-back's settings against the org: a reason field the integration user
    cannot read fails every read-back query (``INVALID_FIELD``); a status the org lacks is
    never seen (a warning: the read-back still works, that outcome is just never found)."""
    found: list[TargetProblem] = []
    reason = s.outcomes.rejection_reason_field
    if reason and lead and reason not in lead:
        found.append(TargetProblem(
            ("outcomes", "rejection_reason_field"),
            f"Lead.{reason} is {_HIDDEN.format(obj='Lead')}: every outcome read-back query "
            "would be refused (INVALID_FIELD)",
            "name the Lead field sales picks the rejection reason in, give the integration "
            "user read access to it, or set it to \"\" (no reason read)"))
    options = [(name, str(r.get("MasterLabel") or name)) for name, r in statuses.items()]
    for option in ("rejected_statuses", "sql_statuses", "recycled_statuses"):
        for value in getattr(s.outcomes, option):
            if statuses and value not in statuses:
                found.append(TargetProblem(
                    ("outcomes", option),
                    f"'{value}' is not a Lead Status of the org: that outcome is never seen",
                    _status_hint(value, options, f"outcomes.{option}"), "warning"))
    return found


def _key_problems(obj: str, fields: Fields, name: str, option: str) -> list[TargetProblem]:
    """An upsert key: a text field the integration user may write, and an External ID."""
    found = _field_problems(obj, fields, name, (option,), {"string"}, "text", create=True)
    key = fields.get(name)
    if key is not None and key.get("externalId") is not True:
        found.append(
            TargetProblem(
                (option,),
                f"{obj}.{name} is not an External ID: the agent's upsert by it is refused",
                "tick External ID (and Unique) on the field, or name one that is",
            )
        )
    return found


def _created_lead_problems(lead: Fields, s: SalesforceSettings) -> list[TargetProblem]:
    """``create_missing_leads``: the Lead upsert key, and the fields a new Lead is given."""
    found = _key_problems("Lead", lead, s.lead_key_field, "lead_key_field")
    for canonical in s.create_fields:
        name = s.field_map.fields.get(canonical)
        spec = lead.get(name) if name else None
        if name and (spec is None or spec.get("createable") is not True):
            why = (
                _HIDDEN.format(obj="Lead")
                if spec is None
                else ("read-only for the integration user (not createable)")
            )
            found.append(
                TargetProblem(
                    ("create_fields",),
                    f"Lead.{name} (the mapped '{canonical}') is {why}: created Leads cannot "
                    "have it",
                    f"remove '{canonical}' from create_fields, or "
                    + _FLS.format(obj="Lead", field=name),
                )
            )
    return found


def _fields(describe: Any) -> dict[str, Mapping[str, Any]]:
    fields = describe.get("fields") if isinstance(describe, Mapping) else None
    return {str(f["name"]): f for f in fields or () if isinstance(f, Mapping) and "name" in f}


def _status_problems(
    lead: Fields, statuses: Mapping[str, Any], s: SalesforceSettings
) -> list[TargetProblem]:
    written = [
        (o, getattr(s, o))
        for o in ("status_accepted", "status_rejected", "status_review")
        if getattr(s, o)
    ]
    if not written:
        return []
    status = lead.get("Status")
    if status is None or status.get("updateable") is not True:
        why = _HIDDEN.format(obj="Lead") if status is None else "read-only for the integration user"
        return [
            TargetProblem(
                (written[0][0],),
                f"Lead.Status is {why}: no Status can be written",
                _FLS.format(obj="Lead", field="Lead Status"),
            )
        ]
    options = [(name, str(r.get("MasterLabel") or name)) for name, r in statuses.items()]
    options += [
        (str(p.get("value")), str(p.get("label") or p.get("value")))
        for p in status.get("picklistValues") or ()
        if isinstance(p, Mapping)
    ]
    restricted = (
        " (a restricted picklist: the org refuses other values)"
        if status.get("restrictedPicklist")
        else ""
    )
    found = []
    for option, value in written:
        row = statuses.get(value)
        if row is None:
            found.append(
                TargetProblem(
                    (option,),
                    f"'{value}' is not a Lead Status of the org{restricted}",
                    _status_hint(value, options, option),
                )
            )
        elif row.get("IsConverted") is True:
            found.append(
                TargetProblem(
                    (option,),
                    f"'{value}' is a converted Lead Status: a "
                    "Lead only gets it by conversion, not by an update",
                    _status_hint("", options, option),
                )
            )
    for option in ("new_statuses", "update_status_from"):
        for value in getattr(s, option) or ():
            if value != "*" and value not in statuses:
                found.append(
                    TargetProblem(
                        (option,),
                        f"'{value}' is not a Lead Status of the "
                        "org: the agent never finds a lead with it",
                        _status_hint(value, options, option),
                        "warning",
                    )
                )
    return found


def _status_hint(value: str, options: Sequence[tuple[str, str]], option: str) -> str:
    close = closest_options(value, options, True) if value else []
    guess = "did you mean " + " or ".join(f"'{c}'" for c in close) + "? " if close else ""
    names = ", ".join(dict.fromkeys(v for v, _ in options))
    return (
        f"{guess}add it under Setup → Object Manager → Lead → Fields → Lead Status, or "
        f"set {option} to one the org has: {names}"
    )


def _field_problems(
    obj: str,
    fields: Fields,
    name: str,
    option: tuple[str, ...],
    types: Iterable[str],
    words: str,
    *,
    create: bool = False,
) -> list[TargetProblem]:
    spec = fields.get(name)
    if spec is None:
        # custom fields share "SAL_" and "__c": only a near-typo is worth suggesting
        labels = [(n, str(f.get("label") or n)) for n, f in fields.items()]
        close = closest_options(name, labels, True, cutoff=_TYPO)
        guess = "did you mean " + " or ".join(f"'{c}'" for c in close) + "? " if close else ""
        return [
            TargetProblem(
                option,
                f"{obj}.{name} is {_HIDDEN.format(obj=obj)}",
                f"{guess}create it (docs/salesforce.md), " + _FLS.format(obj=obj, field=name),
            )
        ]
    found = []
    kind = str(spec.get("type"))
    if kind not in set(types):
        found.append(
            TargetProblem(
                option,
                f"{obj}.{name} is a {kind} field; the agent writes {words}",
                f"point {'.'.join(option)} at a field that takes {words}",
            )
        )
    needed = ("createable", "updateable") if create else ("updateable",)
    if any(spec.get(flag) is not True for flag in needed):
        found.append(
            TargetProblem(
                option,
                f"{obj}.{name} is read-only for the integration "
                "user (not " + " or ".join(needed) + ")",
                _FLS.format(obj=obj, field=name),
            )
        )
    return found


def _task_problems(task: Fields, s: SalesforceSettings) -> list[TargetProblem]:
    found = _key_problems("Task", task, s.task_key_field, "task_key_field")
    for name, option in _TASK_FIELDS:
        spec = task.get(name)
        where = (option,) if option else ("create_task",)
        if spec is None or spec.get("createable") is not True:
            why = (
                _HIDDEN.format(obj="Task")
                if spec is None
                else "not createable for the integration user"
            )
            found.append(
                TargetProblem(
                    where,
                    f"Task.{name} is {why}: no Task can be created",
                    _FLS.format(obj="Task", field=name),
                )
            )
            continue
        value = {"Status": s.task_status, "Priority": s.task_priority}.get(name)
        picks = [
            (str(p.get("value")), str(p.get("label") or p.get("value")))
            for p in spec.get("picklistValues") or ()
            if isinstance(p, Mapping) and p.get("active") is not False
        ]
        if value is not None and picks and value not in {v for v, _ in picks}:
            close = closest_options(value, picks, True)
            guess = "did you mean " + " or ".join(f"'{c}'" for c in close) + "? " if close else ""
            restricted = spec.get("restrictedPicklist") is True
            found.append(
                TargetProblem(
                    where,
                    f"'{value}' is not a Task {name} value of the org"
                    + (" (a restricted picklist: the Task is refused)" if restricted else ""),
                    f"{guess}values: {', '.join(v for v, _ in picks)}",
                    "error" if restricted else "warning",
                )
            )
    return found
