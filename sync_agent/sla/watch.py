"""The SLA watch: after each run, judge every accepted handoff and act on new breaches.

For each accepted handoff of the pipeline that reached a CRM and has no breach recorded,
its deadline comes from :mod:`.clock` (``[sla]`` hours and calendar) and its state from
:mod:`.state` with the earliest first touch the read-back recorded (any system). A
breached one gets, in one transaction (:func:`sync_agent.audit.sla.record_breaches`), its
``sla_breached`` outcome (``at`` = the deadline) and one outbox write per configured
action and sink that can act (a sink with the ``act`` capability, see
``connectors.base.Sink``); the writes then go out like any other, so retries, dead letters,
``replay`` and crash recovery apply. Runs from ``execute`` (scheduled runs, webhook runs of
``serve``, backfills), never in a dry run.

Breaches are judged on what the read-back has recorded so far: run it before the watch
(or on the same schedule), or a lead touched on time whose touch was not read yet looks
breached.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sync_agent.audit.sla import Breach, Touch, action_key, record_breaches, touches, watched
from sync_agent.model import Handoff, SlaAction, SlaActionKind
from sync_agent.sla.clock import deadline
from sync_agent.sla.settings import SlaSection
from sync_agent.sla.state import SlaState, sla_state


def sla_hours(sla: SlaSection | None, follow_up_hours: float) -> float:
    """The SLA in hours: ``[sla] hours``, else the follow-up SLA notes and tasks state."""
    return sla.hours if sla is not None and sla.hours is not None else follow_up_hours


def sla_action(sla: SlaSection | None, follow_up_hours: float, sink: str, handoff: Handoff,
               kind: str) -> SlaAction:
    """The action a queued write stands for, rebuilt from the handoff and the settings."""
    settings = sla or SlaSection()
    action = SlaActionKind(kind)
    due = deadline(handoff.decision.decided_at, sla_hours(settings, follow_up_hours),
                   settings.calendar())
    targets = {SlaActionKind.ESCALATE: settings.escalate_to,
               SlaActionKind.REASSIGN: settings.reassign_to}.get(action, {})
    return SlaAction(action_key(handoff.key, action), action, handoff, due,
                     targets.get(sink, ""))


def breaches(ctx: Any, now: datetime) -> list[Breach]:
    """The pipeline's accepted handoffs breached as of ``now``, with their actions."""
    sla: SlaSection = ctx.config.sla
    hours = sla_hours(sla, ctx.config.follow_up_sla_hours)
    cal = sla.calendar()
    found = watched(ctx.audit, ctx.pipeline.name)
    seen = touches(ctx.audit, [w.handoff_key for w in found])
    out: list[Breach] = []
    for w in found:
        due = deadline(w.decided_at, hours, cal)
        touch = seen.get(w.handoff_key, Touch())
        if sla_state(due, touch.at, now) is not SlaState.BREACHED:
            continue
        actions = [(sink, kind) for sink in w.sinks if _can_act(ctx, sink)
                   for kind in sla.kinds()
                   if kind is not SlaActionKind.REASSIGN or sla.reassign_to.get(sink)]
        out.append(Breach(w, due, touch.owner, actions))
    return out


def watch(ctx: Any) -> int:
    """Record new breaches of ``ctx``'s pipeline and write their actions; returns how many
    breaches were new. ``ctx`` is the run's ``RunContext``."""
    now = ctx.clock()
    found = breaches(ctx, now)
    queued = record_breaches(ctx.audit, ctx.pipeline.name, found, now) if found else []
    ctx.log.info("sla_watch", breaches=len(found), actions_queued=len(queued))
    if queued:
        writeback = ctx.writeback()
        size = ctx.pipeline.config.batch_size
        for start in range(0, len(queued), size):
            chunk = queued[start : start + size]
            writeback.write_items(ctx.audit.due_writes(ctx.pipeline.name, now, ids=chunk,
                                                       limit=len(chunk)))
    return len(found)


def _can_act(ctx: Any, sink: str) -> bool:
    return callable(getattr(ctx.pipeline.sinks.get(sink), "act", None))
