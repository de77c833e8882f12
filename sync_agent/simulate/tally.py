"""Re-deciding rows of the audit log and counting what changed: the simulation's hot loop.

A :class:`Tally` is what one id range of the log gives: counts by (before, after)
outcome, by recorded ruleset, sales outcomes of the leads, and the first examples of each
kind of flip. Tallies of consecutive ranges merge in order into exactly the tally of the
whole log, so the work can be split across processes and the result does not depend on
how it was split.

Only counts are kept per lead, never the lead: memory does not grow with the log. Each
lead is decided at its own decision time (or the fixed ``--now``). The counts need only
its outcome and score: they come from the candidate's fast verdict (:mod:`.verdict`, no
explanation tree), while the examples, which say which checks changed, come from
:meth:`Ruleset.evaluate`, the function the engine calls, and double as a check of it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# pydantic's JSON parser (pydantic is a dependency) reads a snapshot about twice as fast
from pydantic_core import from_json

from sync_agent.errors import SkippableError
from sync_agent.model import Check, Decision, Outcome
from sync_agent.rules import Ruleset
from sync_agent.rules.evaluate import Evaluator
from sync_agent.simulate.log import RECORD, UNIT
from sync_agent.simulate.verdict import Verdict

#: The errors the engine records as a malformed lead instead of stopping (engine/run.py).
EVALUATION_ERRORS = (SkippableError, ValueError, TypeError, KeyError, AttributeError)
ACCEPTED = "accepted"
#: How many unreadable snapshots are described (the rest are only counted).
ERRORS_KEPT = 5


def loads(text: str) -> Any:
    """A snapshot's JSON, parsed as :func:`json.loads` would (the fast parser's result is
    the same for what the agent writes; anything it refuses goes to ``json.loads``)."""
    try:
        return from_json(text, cache_strings="keys")
    except ValueError:
        return json.loads(text)


@dataclass(frozen=True)
class Example:
    """One lead whose outcome flips: what was recorded, what the candidate decides, and
    which checks decided differently."""

    decision_id: int
    pipeline: str
    lead_key: str
    decided_at: str
    rules_hash: str  # of the recorded decision
    before: str
    before_score: float
    before_reasons: tuple[str, ...]
    after: str
    after_score: float
    after_reasons: tuple[str, ...]
    fast_lane: str | None
    changed: tuple[str, ...]  # e.g. "gate phone_present: new, fails"
    outcomes: tuple[str, ...] = ()  # sales outcomes known for the lead

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "pipeline": self.pipeline,
            "lead_key": self.lead_key,
            "decided_at": self.decided_at,
            "recorded_rules_hash": self.rules_hash,
            "before": {"outcome": self.before, "score": self.before_score,
                       "reasons": list(self.before_reasons)},
            "after": {"outcome": self.after, "score": self.after_score,
                      "reasons": list(self.after_reasons), "fast_lane": self.fast_lane},
            "changed": list(self.changed),
            "new_reasons": [r for r in self.after_reasons if r not in self.before_reasons],
            "sales_outcomes": list(self.outcomes),
        }  # fmt: skip


@dataclass
class Tally:
    """Counts over some leads; :meth:`merge` adds the next range's."""

    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)  # (before, after) -> leads
    recorded: dict[str, list[Any]] = field(default_factory=dict)  # hash -> [name, leads, flips]
    score_changed: int = 0  # same outcome, another score
    pruned: int = 0  # accepted decisions whose snapshot `prune` emptied: not re-decidable
    unreadable: int = 0  # snapshots that are not JSON objects, or that the rules refuse
    errors: list[str] = field(default_factory=list)
    examples: dict[tuple[str, str], list[Example]] = field(default_factory=dict)
    # leads with a known sales outcome: by (before, after), and by (before, after, kind)
    with_outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    outcome_kinds: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    rejection_reasons: Counter[tuple[str, str]] = field(default_factory=Counter)  # after, why
    first_at: str = ""
    last_at: str = ""

    def merge(self, other: Tally, limit: int) -> None:
        """Add ``other`` (the next id range): examples keep the first ``limit`` per kind."""
        self.pairs.update(other.pairs)
        for rules_hash, (name, leads, flips) in other.recorded.items():
            mine = self.recorded.setdefault(rules_hash, [name, 0, 0])
            mine[1] += leads
            mine[2] += flips
        self.score_changed += other.score_changed
        self.pruned += other.pruned
        self.unreadable += other.unreadable
        self.errors = (self.errors + other.errors)[:ERRORS_KEPT]
        for kind, found in other.examples.items():
            kept = self.examples.setdefault(kind, [])
            kept.extend(found[: max(0, limit - len(kept))])
        self.with_outcomes.update(other.with_outcomes)
        self.outcome_kinds.update(other.outcome_kinds)
        self.rejection_reasons.update(other.rejection_reasons)
        if other.first_at and (not self.first_at or other.first_at < self.first_at):
            self.first_at = other.first_at
        self.last_at = max(self.last_at, other.last_at)


class Disagreement(Exception):
    """The fast verdict and ``Ruleset.evaluate`` decided one lead differently: the caller
    re-decides everything with ``evaluate`` (this should never happen: report it)."""


def tally_rows(
    pages: Iterable[Sequence[tuple[Any, ...]]],
    ruleset: Ruleset,
    now: datetime | None,
    limit: int,
    detail_of: Callable[[int], tuple[str, str]],
    *,
    verdict: Verdict | None = None,
    check_every: int = 0,
) -> Tally:
    """Re-decide every row (``log.COLUMNS``) under ``ruleset`` at ``now`` or, when None, at
    the row's own ``decided_at``; count flips, keep the first ``limit`` examples per kind.

    ``verdict``: the ruleset's fast verdict (:mod:`.verdict`), used for the counts; the
    examples, and every lead whose id is a multiple of ``check_every``, are decided with
    ``Ruleset.evaluate`` too, and any difference raises :class:`Disagreement`. Without
    it every lead goes through ``evaluate``. ``detail_of(decision_id)`` reads a recorded
    decision's reasons and explanation (JSON text), for the examples only."""
    t = Tally()
    evaluate = ruleset.evaluator
    pairs, recorded, examples = t.pairs, t.recorded, t.examples
    own_time = now is None
    moment = now or datetime.min.replace(tzinfo=UTC)
    clock_text = ""
    first, last = "\uffff", ""
    parse_time = datetime.fromisoformat
    for page in pages:
        for (decision_id, pipeline, lead_key, decided_at, before, score, rules_name, rules_hash,
             snapshot, known) in page:  # fmt: skip
            if snapshot == "{}" and before == ACCEPTED:
                t.pruned += 1
                continue
            if own_time and decided_at != clock_text:
                # one datetime per run of equal times (a page of the original run shares
                # its clock), so the evaluator's clock-bound caches stay warm
                moment, clock_text = parse_time(decided_at), decided_at
            decision: Decision | None = None
            try:
                fields = loads(snapshot)
                if fields.__class__ is not dict:
                    raise TypeError(f"the snapshot is a JSON {type(fields).__name__}")
                fast = None if verdict is None else _fast(verdict, evaluate, fields, moment,
                                                          decision_id)  # fmt: skip
                if fast is None:  # no verdict, or a lead the verdict leaves to the engine
                    decision = evaluate(fields, moment)
                    outcome, new_score = decision.outcome, decision.score
                else:
                    outcome, new_score = fast
                    if check_every and not decision_id % check_every:
                        decision = _checked(evaluate, fields, moment, outcome, new_score,
                                            decision_id)  # fmt: skip
            except EVALUATION_ERRORS as exc:
                t.unreadable += 1
                if len(t.errors) < ERRORS_KEPT:
                    t.errors.append(f"decision {decision_id} ({lead_key}): "
                                    f"{type(exc).__name__}: {exc}"[:300])  # fmt: skip
                continue
            if decided_at < first:
                first = decided_at
            if decided_at > last:
                last = decided_at
            after = outcome.value
            key = (before, after)
            pairs[key] += 1
            seen = recorded.get(rules_hash)
            if seen is None:
                seen = recorded[rules_hash] = [rules_name, 0, 0]
            seen[1] += 1
            kinds: tuple[str, ...] = ()
            if known is not None:
                kinds = _count_outcomes(t, key, known)
            if before == after:
                if new_score != score:
                    t.score_changed += 1
                continue
            seen[2] += 1
            kept = examples.get(key)
            if kept is None:
                kept = examples[key] = []
            if len(kept) < limit:
                if decision is None:  # the example is explained, and checks the verdict
                    decision = _checked(evaluate, fields, moment, outcome, new_score,
                                        decision_id)  # fmt: skip
                kept.append(_example(detail_of, decision, decision_id, pipeline, lead_key,
                                     decided_at, rules_hash, before, score, kinds))  # fmt: skip
    t.first_at, t.last_at = (first, last) if last else ("", "")
    return t


def _fast(
    verdict: Verdict, evaluate: Evaluator, fields: dict[str, Any], now: datetime, at: int
) -> tuple[Outcome, float] | None:
    """The fast verdict (None: the engine decides); where it raises, the engine must too."""
    try:
        return verdict(fields, now)
    except EVALUATION_ERRORS:
        decision = evaluate(fields, now)  # raises as well, or disagrees
        raise Disagreement(
            f"decision {at}: the fast verdict failed where the engine decided "
            f"{decision.outcome.value}"
        ) from None


def _checked(
    evaluate: Evaluator, fields: dict[str, Any], now: datetime, outcome: Outcome,
    score: float, at: int,
) -> Decision:  # fmt: skip
    """The engine's decision, which must be the fast verdict's."""
    decision = evaluate(fields, now)
    if (decision.outcome, decision.score) != (outcome, score):
        raise Disagreement(
            f"decision {at}: the engine decided {decision.outcome.value} "
            f"{decision.score:g}, the fast verdict {outcome.value} {score:g}"
        )
    return decision


def _example(
    detail_of: Callable[[int], tuple[str, str]], decision: Decision, decision_id: int,
    pipeline: str, lead_key: str, decided_at: str, rules_hash: str, before: str,
    score: float, kinds: tuple[str, ...],
) -> Example:  # fmt: skip
    reasons, explanation = detail_of(decision_id)
    was = tuple(_json_list(reasons))
    changed = changed_checks(
        _json_list(explanation), decision.explanation,
        threshold=_by_score(was) and _by_score(decision.reasons),
    )  # fmt: skip
    return Example(
        decision_id, pipeline, lead_key, decided_at, rules_hash, before, float(score), was,
        decision.outcome.value, decision.score, decision.reasons, decision.fast_lane, changed,
        kinds,
    )


def _count_outcomes(t: Tally, key: tuple[str, str], known: str) -> tuple[str, ...]:
    """Count one lead's sales outcomes (each kind once per lead); return its kinds."""
    kinds: set[str] = set()
    for event in known.split(RECORD):
        kind, _, reason = event.partition(UNIT)
        if kind == "rejected" and kind not in kinds:
            t.rejection_reasons[(key[1], reason or "(no reason recorded)")] += 1
        kinds.add(kind)
    t.with_outcomes[key] += 1
    for kind in kinds:
        t.outcome_kinds[(key[0], key[1], kind)] += 1
    return tuple(sorted(kinds))


def _json_list(text: str) -> list[Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


_WORDS = {  # kind -> (passed, not passed), as people say it
    "gate": ("holds", "fails"),
    "disqualifier": ("does not fire", "fires"),
    "fast_lane": ("matches", "does not match"),
}


def _state(kind: str, passed: bool, points: Any) -> str:
    if kind == "criterion":
        shown = f"{points:g}" if isinstance(points, int | float) else "0" if not points else "?"
        return f"{shown} points"
    words = _WORDS.get(kind, ("passes", "fails"))
    return words[0] if passed else words[1]


def _acts(check: Check) -> bool:
    if check.kind in ("gate", "disqualifier"):
        return not check.passed
    return bool(check.points) if check.kind == "criterion" else check.passed


def _by_score(reasons: Sequence[str]) -> bool:
    """Decided by the score alone (no gate, disqualifier or fast lane)?"""
    return all(r.startswith("score ") for r in reasons)


def changed_checks(
    recorded: list[Any], candidate: Sequence[Check], *, threshold: bool = True
) -> tuple[str, ...]:
    """The top-level checks (gates, disqualifiers, fast lanes, criteria, threshold) that
    differ between a recorded explanation and the candidate's, in the candidate's order:
    ``gate phone_present: new, fails``, ``criterion readiness: 15 → 10 points``,
    ``threshold: accept at 70, review from 55 → accept at 75, review from 60``.

    ``threshold``: report a changed threshold (False when a gate, disqualifier or fast
    lane decided either side: then the threshold did not matter)."""
    old: dict[tuple[str, str], Mapping[str, Any]] = {}
    old_threshold = ""
    for node in recorded:
        if isinstance(node, Mapping):
            if node.get("kind") == "threshold":
                old_threshold = str(node.get("name", ""))
            else:
                old[(str(node.get("kind")), str(node.get("name")))] = node
    out: list[str] = []
    seen: set[tuple[str, str]] = set()
    for check in candidate:
        if check.kind == "threshold":
            if threshold and old_threshold and old_threshold != check.name:
                out.append(f"threshold: {old_threshold} → {check.name}")
            continue
        key = (check.kind, check.name)
        seen.add(key)
        now_state = _state(check.kind, check.passed, check.points)
        was = old.get(key)
        if was is None:
            # a new check matters when it acts: a gate that fails, a disqualifier that
            # fires, a fast lane that matches, a criterion that earns points (an empty
            # recorded explanation says nothing about what is new)
            if recorded and _acts(check):
                out.append(f"{check.kind} {check.name}: new, {now_state}")
            continue
        was_state = _state(check.kind, bool(was.get("passed")), was.get("points"))
        if was_state != now_state:
            if check.kind == "criterion":
                now_state = now_state.removesuffix(" points")
                out.append(f"criterion {check.name}: {was_state.removesuffix(' points')} → "
                           f"{now_state} points")  # fmt: skip
            else:
                out.append(f"{check.kind} {check.name}: {was_state} → {now_state}")
    out += [f"{kind} {name}: removed" for kind, name in old if (kind, name) not in seen]
    return tuple(out)
