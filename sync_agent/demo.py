"""The demo: a full sync against the embedded sandbox, then a second pass that hands off nothing.

Library first (tests call :func:`run_demo`); ``sync-agent demo`` only prints what the steps
show. Everything runs on this machine: the sandbox (a local emulator of HubSpot and
Salesforce) is started in-process on 127.0.0.1 with made-up contacts, and the default
pipeline (HubSpot → ``rules/sal.toml`` → Salesforce and HubSpot) runs through the real SDK
clients over real HTTP(S).

The demo is a list of steps (:data:`STEPS`): each is a title and one function of the shared
:class:`Demo` state that does its work and ``show``\\ s what a newcomer should see. The
runner announces each title *before* the step runs, so a progress bar appears under its
heading. A new step (say, the follow-up loop) is one function added to the list.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.panel import Panel

from connectors.hubspot import build_client
from connectors.hubspot.setup import setup_properties
from connectors.sandbox import Sandbox
from connectors.sandbox.config import config_for_sandbox
from sync_agent.audit.db import AuditLog, decision_from_row
from sync_agent.config import DEFAULT_CONFIG_NAME, Config, load_config
from sync_agent.engine import RunSummary, run_once
from sync_agent.errors import ConfigError
from sync_agent.model import FIELD_ORIGINS, Decision, Outcome, WriteState
from sync_agent.reasons import reason_label
from sync_agent.report import Report, build_report, render_text
from sync_agent.shipped import rules_dir

Progress = Callable[[int, int | None], None]
AUDIT_DB = "sync-agent.db"  # the sandbox config's audit database, next to it
#: ``progress(label)``: a context manager around one pass that yields its ``(done, total)``
#: callback (the CLI's bar starts on entry and stops on exit).
ProgressBar = Callable[[str], AbstractContextManager[Progress | None]]
#: What a step shows: plain text, or anything ``rich`` prints (a table, a panel).
Shown = Any


@dataclass(frozen=True)
class Step:
    """One step of the demo: a heading, and the function that does it and shows its result."""

    title: str
    run: Callable[[Demo], None]


@dataclass
class Demo:
    """The demo's state, shared by its steps, and what :func:`run_demo` returns."""

    contacts: int
    workdir: Path
    kept: bool  # the folder stays after the demo (``--workdir``); otherwise it is removed
    sandbox: Sandbox | None = None
    config: Config | None = None
    progress: ProgressBar | None = None
    show_cb: Callable[[Shown], None] | None = None
    shown: dict[str, list[Shown]] = field(default_factory=dict)  # step title -> what it showed
    properties_created: list[str] = field(default_factory=list)
    first: list[RunSummary] = field(default_factory=list)
    second: list[RunSummary] = field(default_factory=list)
    #: HTTP requests the sandbox received during each pass, per system
    requests: dict[str, dict[str, int]] = field(default_factory=dict)
    report: Report | None = None
    example: dict[str, Any] | None = None  # the audit row of one accepted lead
    decision: Decision | None = None  # its decision, with the explanation
    note: dict[str, Any] | None = None  # the HubSpot note written for it
    task: dict[str, Any] | None = None  # the Salesforce Task written for it
    crm_before_second: dict[str, int] = field(default_factory=dict)
    crm_after_second: dict[str, int] = field(default_factory=dict)
    #: accepted leads per (sink, why not written); "written" when it was
    accepted_writes: dict[str, dict[str, int]] = field(default_factory=dict)
    #: the run ten (sandbox) days later, which reads back what sales did and watches the SLA
    later: list[RunSummary] = field(default_factory=list)
    sla: dict[str, Any] | None = None  # ``sync-agent sla --json``'s data after that run
    #: what the sandbox's sales team planned and did per handoff (``/_sandbox/state`` team)
    team: list[dict[str, Any]] = field(default_factory=list)
    loop_report: Report | None = None  # the report after that run
    simulation: Any = None  # ``rules simulate`` of the stricter example ruleset
    next_steps: list[tuple[str, str]] = field(default_factory=list)  # (command, what it shows)
    current: str = ""  # the title of the step running now

    def show(self, *blocks: Shown) -> None:
        """Show text or a ``rich`` renderable under the current step's heading."""
        for block in blocks:
            self.shown.setdefault(self.current, []).append(block)
            if self.show_cb:
                self.show_cb(block)

    @property
    def config_path(self) -> Path:
        return self.workdir / DEFAULT_CONFIG_NAME

    @property
    def origins(self) -> dict[str, str]:
        """The example's fields read from its company (``{"industry": "company.industry"}``)."""
        try:
            snapshot = json.loads((self.example or {}).get("snapshot") or "{}")
        except ValueError:
            return {}
        origins = snapshot.get(FIELD_ORIGINS) if isinstance(snapshot, dict) else None
        return dict(origins) if isinstance(origins, dict) else {}

    def _sandbox(self) -> Sandbox:
        assert self.sandbox is not None, "the demo's sandbox runs for all its steps"
        return self.sandbox

    def _config(self) -> Config:
        assert self.config is not None, "the set-up step comes first"
        return self.config


#: Kept for callers of the earlier API: the demo's result is its state.
DemoResult = Demo


def run_demo(
    *,
    contacts: int = 3000,
    seed: int = 42,
    workdir: str | Path | None = None,
    progress: ProgressBar | None = None,
    on_step: Callable[[Step], None] | None = None,
    show: Callable[[Shown], None] | None = None,
    steps: Sequence[Step] | None = None,
) -> Demo:
    """Seed a sandbox, run the demo's steps in order, and return what they found.

    ``on_step(step)`` is called before each step runs (print its heading there);
    ``show(block)`` receives what the step shows; ``progress(label)`` wraps each pass (see
    :data:`ProgressBar`). Without ``workdir`` the config and audit database go to
    a temporary folder that is removed at the end.
    """
    with _folder(workdir) as folder, Sandbox(contacts=contacts, seed=seed) as sandbox:
        demo = Demo(contacts, folder, workdir is not None, sandbox, None, progress, show)
        for step in STEPS if steps is None else steps:
            demo.current = step.title
            if on_step:
                on_step(step)
            step.run(demo)
        demo.sandbox = None
    return demo


def check_workdir(workdir: str | Path) -> None:
    """Refuse a folder an earlier demo used: its cursor and decisions would make this demo's
    passes read nothing new from a fresh sandbox (a confusing demo)."""
    folder = Path(workdir)
    if (folder / DEFAULT_CONFIG_NAME).exists() or (folder / AUDIT_DB).exists():
        raise ConfigError(
            f"{folder} already holds a config or audit database (an earlier demo?): give "
            "--workdir a new or empty folder, or delete sync-agent.toml and sync-agent.db there"
        )


@contextmanager
def _folder(workdir: str | Path | None) -> Iterator[Path]:
    if workdir is not None:
        check_workdir(workdir)
        folder = Path(workdir)
        folder.mkdir(parents=True, exist_ok=True)
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="sync-agent-demo-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def prepare_sandbox(
    sandbox: Sandbox,
    workdir: str | Path,
    *,
    hubspot_options: dict[str, Any] | None = None,
    salesforce_options: dict[str, Any] | None = None,
    **config_overrides: Any,
) -> tuple[Config, list[str]]:
    """A config for a running sandbox, and the one-time portal set-up a new user does.

    The set-up is ``sync-agent hubspot setup-properties``: it creates the SAL contact
    properties and the note's ``sal_handoff_key``. Returns the config and what was created.
    ``*_options`` go into the connector tables (e.g. ``{"tier": "professional"}``).
    Benchmarks and end-to-end tests share this with the demo.
    """
    info = {
        **sandbox.info(),
        "hubspot_options": hubspot_options or {},
        "salesforce_options": salesforce_options or {},
    }
    config = config_for_sandbox(info, workdir, **config_overrides)
    client = build_client(config.connectors["hubspot"].settings, config.secrets)
    report = setup_properties(client, client.settings)
    return config, [f"{spec.object_type}.{spec.name}" for spec in report.created]


# -- the steps ---------------------------------------------------------------------------


def step_setup(demo: Demo) -> None:
    """A config pointing at the sandbox, and the one-time HubSpot set-up an admin runs."""
    _, demo.properties_created = prepare_sandbox(demo._sandbox(), demo.workdir)
    # The follow-up SLA goes into the file, so the kept folder's commands see it too.
    with demo.config_path.open("a", encoding="utf-8") as config_file:
        config_file.write(DEMO_SLA)
    demo.config = load_config(demo.config_path, environ={})
    totals = demo._sandbox().state(include_records=False)["totals"]
    demo.show(
        f"The sandbox holds {totals['contacts']:,} HubSpot contacts ({totals['mqls']:,} of them "
        f"marketing qualified leads) and {totals['leads']:,} Salesforce leads, all made up.",
        "sync-agent hubspot setup-properties created the contact properties the agent writes: "
        + ", ".join(demo.properties_created or ["none (they all existed)"])
        + ".",
    )


def step_first_pass(demo: Demo) -> None:
    """Read every MQL, decide it under rules/sal.toml, write the results to both CRMs."""
    demo.first = _pass(demo, "first pass")
    demo.crm_before_second = _crm_counts(demo._sandbox())


def step_second_pass(demo: Demo) -> None:
    """The same sync again: nothing new, so nothing is handed off twice."""
    demo.second = _pass(demo, "second pass")
    demo.crm_after_second = _crm_counts(demo._sandbox())
    before, after = demo.crm_before_second, demo.crm_after_second
    demo.show(
        f"HubSpot notes written by the agent: {before['notes']:,} after the first pass, "
        f"{after['notes']:,} after the second; Salesforce tasks: {before['tasks']:,} → "
        f"{after['tasks']:,}. Each handoff carries a key, so a re-run (or a crash and "
        "restart) never writes one twice."
    )


def step_report(demo: Demo) -> None:
    """``sync-agent report``: the MQL→SAL rate and why leads were rejected."""
    with AuditLog.open(demo._config().audit_db) as audit:
        demo.report = build_report(audit)
        demo.example = _accepted_example(audit)
        demo.accepted_writes = _accepted_writes(audit)
    demo.show(render_text(demo.report))


def step_example(demo: Demo) -> None:
    """One accepted lead: the explanation, the note on the contact, the task for its owner."""
    from sync_agent.rules.render import decision_table

    if demo.example is None:
        demo.show("No lead was accepted, so there is no handoff to show.")
        return
    demo.decision = decision_from_row(demo.example)
    demo.note, demo.task = _written_for(demo._sandbox(), demo.example)
    demo.show(f"Lead {demo.example['lead_key']}, the accepted lead with the highest score:")
    demo.show(decision_table(demo.decision, demo.origins))
    if demo.note:
        body = demo.note["properties"].get("hs_note_body", "")
        demo.show(Panel(body, title="HubSpot note on the contact", expand=False))
    if demo.task:
        task = demo.task
        text = f"{task.get('Subject')}\nDue {task.get('ActivityDate')}, owner {task.get('OwnerId')}"
        demo.show(Panel(text, title="Salesforce task for the lead owner", expand=False))


def step_gap(demo: Demo) -> None:
    """Why Salesforce got fewer tasks than there were accepted leads (and HubSpot as many
    notes): counted from the audit log, per CRM, by the reason each write gave."""
    accepted = sum(s.accepted for s in demo.first)
    demo.show(f"{accepted:,} leads were accepted. What each CRM got for them:")
    for sink, by_why in sorted(demo.accepted_writes.items()):
        written = by_why.get(WriteState.WRITTEN.value, 0)
        missing = {why: n for why, n in by_why.items() if why != WriteState.WRITTEN.value}
        line = f"  {_WHAT_IS_WRITTEN.get(sink, sink + ' writes')}: {written:,}"
        if missing:
            line += f"; no write for {sum(missing.values()):,} accepted leads: " + "; ".join(
                f"{why} {n:,}" for why, n in _ranked(missing)
            )
        demo.show(line)
    demo.show(
        "A Salesforce task hangs on a Salesforce lead with the same e-mail. When there is "
        "none yet (HubSpot's own Salesforce sync creates it later), the write waits and later "
        "runs retry it; a converted lead already belongs to sales (an account, a contact, "
        "maybe an opportunity), so the agent leaves it alone; when several leads share the "
        "e-mail it does not guess. Each pass's summary above gives these reasons for all "
        "outcomes, and `sync-agent report` keeps them ('accepted, not written to ...')."
    )


def step_loop(demo: Demo) -> None:
    """Ten days on: the read-back of what sales did, the SLA watch, feedback per rule, and a
    stricter ruleset replayed on the same leads (``rules simulate``, no API call)."""
    from sync_agent.registry import installed
    from sync_agent.report.loop_text import render_loop
    from sync_agent.rules import load_ruleset
    from sync_agent.simulate import render_text as render_simulation
    from sync_agent.simulate import simulate
    from sync_agent.sla.overview import overview
    from sync_agent.sla.overview import render as render_sla

    sandbox, config = demo._sandbox(), demo._config()
    demo.show(
        f"The sandbox's sales team works the handoffs: reps complete the Tasks (most within "
        f"the day, a quarter late, a few never), qualify, convert, reject with a reason or "
        f"recycle. Its clock now moves {LOOP_DAYS} days on, and the agent runs once more."
    )
    sandbox.advance(days=LOOP_DAYS)
    demo.later = _pass(demo, f"{LOOP_DAYS} days later", clock=sandbox.now)
    parked = sum(s.writes.dead for s in demo.later)
    if parked:
        demo.show(
            f"{parked:,} writes gave up: they waited [writeback] wait_for_record_hours (24 h) "
            "for a Salesforce lead that never came (the sandbox has no HubSpot-Salesforce "
            "sync to create it). They are parked as dead letters, so the run says "
            "'failures' (exit 1 for a script); `sync-agent replay` sends them again once "
            "the leads exist, and `sync-agent status` counts them."
        )
    read = Counter[str]()
    for s in demo.later:
        read.update(s.outcomes)
    demo.show(
        "Read back from the CRMs: "
        + (", ".join(f"{kind.replace('_', ' ')} {n:,}" for kind, n in _ranked(dict(read)))
           or "nothing")
        + " (sync-agent outcomes)."
    )  # fmt: skip
    demo.team = list(sandbox.state()["team"]["handoffs"])
    with AuditLog.open(config.audit_db) as audit:
        demo.sla = overview(config, audit, sandbox.now())
        demo.loop_report = build_report(audit)
    demo.show(
        "sync-agent sla: a breached lead is marked in both CRMs and escalated (a Task for the "
        "owner's manager in Salesforce, a note in HubSpot), once.",
        render_sla(demo.sla).rstrip(),
        "sync-agent report, past the handoff:" + "\n".join(render_loop(demo.loop_report)),
    )
    candidate = load_ruleset(_STRICTER, raw_prefixes=installed().raw_prefixes())
    demo.simulation = simulate(config.audit_db, candidate, workers=1, limit=3)
    demo.show(
        "sync-agent rules simulate --ruleset rules/examples/sal_stricter.toml: the same "
        "leads under a stricter candidate, with what sales did to the SALs it would drop.",
        render_simulation(demo.simulation).rstrip(),
    )


#: What a sink writes for an accepted lead, in the demo's words.
_WHAT_IS_WRITTEN = {
    "hubspot": "HubSpot notes (and SAL properties) on the contact",
    "salesforce": "Salesforce tasks (and lead status) for the lead owner",
}


def step_next(demo: Demo) -> None:
    """Commands to go on with, that work on what the demo leaves (or on the sandbox)."""
    demo.next_steps = next_steps(demo)
    demo.show("\n".join(f"# {what}\n{cmd}" for cmd, what in demo.next_steps))
    if demo.kept:
        demo.show(f"The config and audit database stay in {demo.workdir}.")
    else:
        demo.show("The demo's temporary folder is removed; add --workdir DIR to keep it.")


#: How far the sandbox's clock moves before the loop step: past the sales team's late
#: first touches (up to 96 h) and most of its outcomes (1-12 days).
LOOP_DAYS = 10
#: The demo's follow-up SLA (docs/sla.md): breaches are marked and escalated.
DEMO_SLA = """
[sla]
hours = 24
actions = ["mark", "escalate"]
"""
_STRICTER = rules_dir() / "examples" / "sal_stricter.toml"

STEPS: tuple[Step, ...] = (
    Step("Set-up: a config and the HubSpot properties", step_setup),
    Step("First pass: every MQL decided and handed off", step_first_pass),
    Step("Exactly once: a second pass hands off nothing", step_second_pass),
    Step("Report", step_report),
    Step("One accepted lead, as sales sees it", step_example),
    Step("Why fewer tasks than accepted leads", step_gap),
    Step(f"{LOOP_DAYS} days later: what sales did, the SLA, feedback per rule", step_loop),
    Step("Next steps", step_next),
)


def next_steps(demo: Demo) -> list[tuple[str, str]]:
    """Commands an admin can copy: on the kept folder, else against ``sync-agent sandbox``."""
    rules = _rules_path()
    steps = [
        (f"sync-agent rules explain --lead {rules}/examples/06_review_band.json",
         "why a lead lands in human review"),
        (f"sync-agent rules test {rules}/tests", "the rule test cases"),
    ]  # fmt: skip
    if demo.kept:
        cfg = f"--config {demo.config_path}"
        lead = demo.example["lead_key"] if demo.example else None
        steps += [
            (f"sync-agent report {cfg}", "the report again (--json, --html FILE)"),
            (f"sync-agent audit list --outcome accepted --limit 10 {cfg}", "recent SALs"),
            (f"sync-agent status {cfg}",
             "the agent's health: last run, lag, outbox (exit 1 while dead letters wait)"),
            (f"sync-agent audit dead-letters {cfg}", "parked writes, and how to replay them"),
            (f"sync-agent sla {cfg}", "the follow-up SLA: met, pending, breached"),
            (f"sync-agent report --html {demo.workdir / 'report.html'} {cfg}",
             "the report as a page with charts"),
        ]
        if lead:
            steps.append((f"sync-agent audit show {lead} {cfg}", "that lead's decisions"))
        steps.append(
            (f"sync-agent rules simulate --ruleset {rules}/examples/sal_stricter.toml {cfg}",
             "what a stricter ruleset would change")
        )  # fmt: skip
        return steps
    return [
        *steps,
        ("sync-agent demo --workdir sal-demo", "keep the config and audit database"),
        ("sync-agent sandbox serve --contacts 800 --write-config sync-agent.toml",
         "a sandbox to try every command on (README: Try every command)"),
    ]  # fmt: skip


def _rules_path() -> str:
    """``rules`` in a checkout (what the README uses), else the shipped folder."""
    local = Path("rules")
    if (local / "sal.toml").is_file() and (local / "examples").is_dir():
        return "rules"
    return str(rules_dir())


# -- helpers -----------------------------------------------------------------------------


def _pass(
    demo: Demo, label: str, clock: Callable[[], datetime] | None = None
) -> list[RunSummary]:
    """One ``run --once`` with its bar; shows its summary and the HTTP calls behind it.
    ``clock``: the agent's time (the sandbox's, once the demo moved it)."""
    before = _requests(demo._sandbox())
    with demo.progress(label) if demo.progress else nullcontext() as bar:
        runs = run_once(demo._config(), progress=bar, clock=clock)
    after = _requests(demo._sandbox())
    received = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    demo.requests[label] = {k: n for k, n in received.items() if n}
    for s in runs:
        demo.show(summary_text(s))
    demo.show(
        "HTTP requests the sandbox received: "
        + (", ".join(f"{system} {n:,}" for system, n in sorted(demo.requests[label].items()))
           or "none")
    )  # fmt: skip
    return runs


def summary_text(s: RunSummary) -> str:
    """One run's summary in words, with the HTTP calls the connectors counted."""
    calls = ", ".join(f"{name} {n:,}" for name, n in sorted(s.api_calls.items()))
    text = (
        f"{s.pipeline}: {s.outcome}; read {s.read:,} MQLs, decided {s.decided:,} "
        f"(accepted {s.accepted:,}, human review {s.review:,}, rejected {s.rejected:,}), "
        f"already handed off before {s.skipped_accepted:,}, unreadable {s.malformed:,}.\n"
        f"Writes: {s.writes.written:,} written, {s.writes.skipped:,} skipped, "
        f"{s.writes.waiting:,} waiting for the CRM record, {s.writes.retryable:,} to retry, "
        f"{s.writes.dead:,} failed for good. HTTP requests the agent made: {calls or 'none'}."
    )
    for sink, reasons in s.not_written().items():
        why = "; ".join(f"{reason} {n:,}" for reason, n in _ranked(reasons))
        text += f"\n  not written to {sink} (all outcomes): {sum(reasons.values()):,}: {why}"
    return text


def _ranked(counts: dict[str, int]) -> Iterable[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _requests(sandbox: Sandbox) -> dict[str, int]:
    return dict(sandbox.state(include_records=False)["totals"]["requests"])


def _crm_counts(sandbox: Sandbox) -> dict[str, int]:
    """Notes and tasks the agent wrote (a handoff key marks them; the org has older tasks)."""
    state = sandbox.state()
    notes = sum(1 for n in state["notes"] if n["properties"].get("sal_handoff_key"))
    tasks = sum(1 for t in state["tasks"] if t.get("SAL_Handoff_Key__c"))
    return {"notes": notes, "tasks": tasks}


def _accepted_writes(audit: AuditLog) -> dict[str, dict[str, int]]:
    """Accepted leads per sink: how many were written, and why the others were not."""
    rows = audit.rows(
        "SELECT w.sink, w.state, w.last_error, COUNT(DISTINCT d.lead_key) AS n FROM decisions d "
        "JOIN writes w ON w.decision_id = d.id WHERE d.outcome = ? AND d.dry_run = 0 "
        "GROUP BY 1, 2, 3",
        (Outcome.ACCEPTED.value,),
    )
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        state = str(r["state"])
        if state in (WriteState.WRITTEN.value, WriteState.SKIPPED.value, WriteState.WAITING.value):
            why = state if state == WriteState.WRITTEN.value else reason_label(r["last_error"])
        else:
            why = state.replace("_", " ")
        by_why = out.setdefault(str(r["sink"]), {})
        by_why[why] = by_why.get(why, 0) + int(r["n"])
    return out


def _accepted_example(audit: AuditLog) -> dict[str, Any] | None:
    """The written-back accepted decision with the highest score (ties: the oldest), one
    whose ICP fit was read from its company when there is one."""
    rows = audit.rows(
        "SELECT * FROM decisions WHERE outcome = 'accepted' AND status = 'written' "
        f"ORDER BY json_extract(snapshot, '$.{FIELD_ORIGINS}') IS NULL, score DESC, id LIMIT 1"
    )
    return rows[0] if rows else None


def _written_for(
    sandbox: Sandbox, example: dict[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The HubSpot note and Salesforce Task the sinks created for the example's handoff key."""
    if example is None:
        return None, None
    key = example["handoff_key"]
    state = sandbox.state()
    note = next((n for n in state["notes"] if n["properties"].get("sal_handoff_key") == key), None)
    task = next((t for t in state["tasks"] if t.get("SAL_Handoff_Key__c") == key), None)
    return note, task
