"""Which parts of a ruleset a set of decisions exercised (for ``rules test``).

A gate is covered when some case failed it, a disqualifier when one fired, a fast lane
when one matched, a criterion when one case earned some of its points and another case
earned less than all of them: each part was seen making a difference.
"""

from __future__ import annotations

from collections.abc import Iterable

from sync_agent.model import Decision
from sync_agent.rules.ruleset import Ruleset


def uncovered(ruleset: Ruleset, decisions: Iterable[Decision]) -> list[str]:
    """Parts never exercised, as ``gate:<name>``, ``disqualifier:<name>``, ... strings."""
    seen: set[str] = set()
    for decision in decisions:
        for check in decision.explanation:
            if check.kind in ("gate", "disqualifier") and not check.passed:
                seen.add(f"{check.kind}:{check.name}")
            elif check.kind == "fast_lane" and check.passed:
                seen.add(f"fast_lane:{check.name}")
            elif check.kind == "criterion":
                points, top = check.points or 0.0, check.max_points or 0.0
                seen.add(
                    f"criterion-some:{check.name}" if points > 0 else f"criterion-less:{check.name}"
                )
                if points < top:
                    seen.add(f"criterion-less:{check.name}")
    spec = ruleset.spec
    wanted = [f"gate:{r.name}" for r in spec.gates]
    wanted += [f"disqualifier:{r.name}" for r in spec.disqualifiers]
    wanted += [f"fast_lane:{r.name}" for r in spec.fast_lanes]
    missing = [w for w in wanted if w not in seen]
    for criterion in spec.criteria:
        if not {f"criterion-some:{criterion.name}", f"criterion-less:{criterion.name}"} <= seen:
            missing.append(f"criterion:{criterion.name}")
    return missing
