"""The ``[sla]`` table: the follow-up SLA sales has on an accepted lead, and what a breach
does. Validated like every other table (:mod:`sync_agent.settings`: every problem at once,
with file, line, did-you-mean and a hint); documented in ``config.example.toml`` and
``docs/sla.md``. The watch runs only when the table is there: without read-back of first
touches every lead would look breached.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from sync_agent.model import SlaActionKind
from sync_agent.settings import SettingsModel, hint
from sync_agent.sla.clock import Calendar, calendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Action = Literal["mark", "escalate", "reassign"]
_HOURS = r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$"


class SlaSection(SettingsModel):
    """``[sla]``: every key optional; the table's presence turns the watch on."""

    #: hours sales has for the first touch; unset: ``[writeback] follow_up_sla_hours``
    hours: float | None = Field(None, gt=0, le=24 * 365)
    business_hours: str | None = Field(
        None, pattern=_HOURS,
        json_schema_extra=hint('opening and closing time, 24-hour clock: "09:00-17:00"'))
    time_zone: str = Field("UTC", json_schema_extra=hint(
        'an IANA time zone name such as "Europe/Berlin" or "America/New_York"'))
    #: days the clock runs; unset: Monday to Friday with business hours, else every day
    weekdays: list[Weekday] | None = Field(None, min_length=1)
    holidays: list[date] = Field(default_factory=list, json_schema_extra=hint(
        "dates without quotes, e.g. holidays = [2026-12-25, 2027-01-01]"))
    actions: list[Action] = Field(default_factory=list)
    #: escalation Task owner per sink instance (``{crm = "005..."}``); unset for an instance:
    #: the lead owner's manager
    escalate_to: dict[str, str] = Field(default_factory=dict)
    #: new owner (user or queue) per sink instance, for the ``reassign`` action
    reassign_to: dict[str, str] = Field(default_factory=dict)

    @field_validator("holidays", mode="before")
    @classmethod
    def _dates(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [date.fromisoformat(v) if isinstance(v, str) else v for v in value]
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _whole(self) -> SlaSection:
        if self.business_hours:
            first, last = self.business_hours.split("-")
            if last != "24:00" and last <= first:
                raise ValueError(f"business_hours {self.business_hours!r} closes before it "
                                 'opens: use same-day hours, e.g. "09:00-17:00"')
        if "reassign" in self.actions and not self.reassign_to:
            raise ValueError("the reassign action needs a new owner: add [sla.reassign_to] "
                             'with one id per sink instance, e.g. crm = "00G..."')
        return self

    def kinds(self) -> tuple[SlaActionKind, ...]:
        return tuple(SlaActionKind(a) for a in dict.fromkeys(self.actions))

    def calendar(self) -> Calendar:
        days = self.weekdays or (WEEKDAYS[:5] if self.business_hours else WEEKDAYS)
        return calendar(self.time_zone, self.business_hours,
                        frozenset(WEEKDAYS.index(d) for d in days), frozenset(self.holidays))
