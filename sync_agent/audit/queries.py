"""Read-side queries over the audit log: list, show one lead, export, dead letters.

A mixin of :class:`~sync_agent.audit.db.AuditLog` so callers have one object; it only
reads (``self.rows``), never writes.

Values here are what sources sent and what may have been written into the file by other
tools, so every read survives odd data. A snapshot field is picked by SQLite's JSON
functions (the snapshot itself never leaves SQLite for a list or an export) and comes back
as bytes: a ``"\\ud800"`` escape, valid JSON, would otherwise come out as text Python
refuses to decode. Bytes are decoded with replacement, lone surrogates become U+FFFD
(:func:`printable`), text that is not JSON falls back to a default instead of raising.
Nothing is cut here: the CLI fits values to the screen, exports keep them whole.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import IO, Any

from sync_agent.text import printable

LIST_COLUMNS = (
    "id",
    "run_id",
    "pipeline",
    "lead_key",
    "outcome",
    "score",
    "status",
    "rules_name",
    "rules_hash",
    "decided_at",
    "mql_date",
)
#: The export's columns, in order; one ``points:<criterion>`` column per scored criterion
#: of the exported explanations follows them (CSV; JSON nests them under ``points``).
EXPORT_COLUMNS = (
    "id",
    "run_id",
    "pipeline",
    "lead_key",
    "name",
    "company",
    "email_domain",
    "outcome",
    "score",
    "status",
    "rules_name",
    "rules_hash",
    "decided_at",
    "mql_date",
    "source",
    "source_id",
    "crm_ids",
    "reasons",
    "fast_lane",
    "dry_run",
    "handoff_key",
)
_EXPORT_SQL = (
    "id, run_id, pipeline, lead_key, outcome, score, status, rules_name, rules_hash, "
    "decided_at, mql_date, source, source_id, crm_ids, reasons, fast_lane, dry_run, handoff_key"
)
POINTS_PREFIX = "points:"

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_VALID = "CASE WHEN json_valid({0}) THEN {0} ELSE '{1}' END"
#: the scored criteria of an explanation as one small JSON object, name -> points
_POINTS_SQL = (
    "CAST((SELECT json_group_object(json_extract(j.value, '$.name'), "
    "json_extract(j.value, '$.points')) FROM json_each("
    + _VALID.format("explanation", "[]")
    + ") j WHERE json_extract(j.value, '$.kind') = 'criterion' "
    "AND json_type(j.value, '$.name') = 'text') AS BLOB) AS _points"
)



def _text(value: Any) -> str | None:
    """A value from SQL as printable text (None stays None). SQLite hands a lone surrogate
    escape back as its three-byte (CESU-8) form: one U+FFFD, like the JSON path gives."""
    if value is None:
        return None
    if not isinstance(value, bytes):
        return printable(str(value))
    try:
        return printable(value.decode("utf-8", "surrogatepass"))
    except UnicodeDecodeError:
        return value.decode("utf-8", "replace")


def _json(value: Any, default: Any) -> Any:
    """Stored JSON as Python values with printable strings; ``default`` when it is not JSON."""
    text = _text(value)
    if text is None:
        return default
    try:
        parsed = json.loads(text)
        if _SURROGATE_ESCAPE.search(text):  # escapes of lone surrogates: re-read them printable
            parsed = json.loads(printable(json.dumps(parsed, ensure_ascii=False)))
    except (ValueError, RecursionError):
        return default
    return parsed


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _snapshot_field(name: str) -> str:
    """SQL picking one snapshot field as bytes, or NULL (also for a snapshot that is not JSON)."""
    return (
        f"CAST(json_extract({_VALID.format('snapshot', '{}')}, '$.{name}') AS BLOB) AS _{name}"
    )


_PERSON_SQL = ", ".join(_snapshot_field(f) for f in ("first_name", "last_name", "company"))


def _person(row: dict[str, Any]) -> None:
    """Replace the picked snapshot fields of ``row`` by ``name`` and ``company`` (None when
    the lead has none: a missing field, an empty one, a pruned snapshot)."""
    parts = [_text(row.pop(f"_{f}", None)) for f in ("first_name", "last_name")]
    row["name"] = " ".join(p.strip() for p in parts if p and p.strip()) or None
    company = _text(row.pop("_company", None))
    row["company"] = company if company and company.strip() else None


def _email_domain(value: Any) -> str:
    """The part of an e-mail address after its last ``@``, lower case ("" without one)."""
    text = (_text(value) or "").strip()
    return text.rpartition("@")[2].lower() if "@" in text else ""


#: CSV columns whose text comes from the lead (a stranger): kept from running as formulas
_FROM_THE_LEAD = ("name", "company", "email_domain")


def _inert(value: str | None) -> str | None:
    """``value`` with a leading ``'`` when a spreadsheet would run it as a formula (OWASP's
    advice against CSV injection)."""
    return f"'{value}" if value and value[0] in "=+-@\t\r" else value


def _reasons(value: Any) -> list[str]:
    parsed = _json(value, [])
    if not isinstance(parsed, list):
        parsed = [parsed]
    return [p if isinstance(p, str) else _dumps(p) for p in parsed]


def _when(value: Any) -> str:
    """An ISO timestamp as ``YYYY-MM-DD HH:MM UTC`` (as stored when it is not one)."""
    text = _text(value) or ""
    try:
        return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return text


def describe_write(write: Mapping[str, Any]) -> str:
    """A write's state in words, with what happens next or what to do (``audit show``).

    The same words as the report's "not written" reasons, so both read alike. A due time
    is when a write may go again: the first run after it sends it.
    """
    state, error = write.get("state"), _text(write.get("last_error"))
    attempts = write.get("attempts") or 0
    due = _when(write["next_attempt_at"]) if write.get("next_attempt_at") else ""
    because = f": {error}" if error else ""
    if state == "written":
        target = _text(write.get("target_id"))
        return f"written after {attempts} attempt(s)" + (f", record {target}" if target else "")
    if state == "skipped":
        return f"skipped: {error or 'nothing to write'}"
    if state == "pending":
        return f"waiting to be sent by {f'the first run after {due}' if due else 'the next run'}"
    if state == "in_flight":
        return (
            "in flight: sent, no answer recorded yet (if the run was cut off, "
            f"{f'the first run after {due}' if due else 'the next run'} re-sends it, "
            "reconciling)"
        )
    if state == "waiting":
        said = "waiting for the CRM record"
        if error and error.startswith(said):  # a sink may say so itself
            because = error.removeprefix(said)
        return f"{said}{because}" + (f"; the first run after {due} looks again" if due else "")
    if state == "retryable":
        when = f"by the first run after {due}" if due else "by the next run"
        return f"failed, being retried {when} ({attempts} attempt(s) so far){because}"
    if state == "dead":
        return (
            f"dead letter: replay with `sync-agent replay --id {write.get('id')}` "
            f"(after {attempts} attempt(s)){because}"
        )
    return f"{_text(state)} (after {attempts} attempt(s)){because}"


class QueriesMixin:
    """Queries the CLI, the demo and the tests use."""

    def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:  # pragma: no cover - db.py
        raise NotImplementedError

    def pipeline_names(self) -> list[str]:
        """Every pipeline the log has history for."""
        rows = self.rows("SELECT pipeline FROM runs UNION SELECT pipeline FROM cursors")
        return sorted(str(r["pipeline"]) for r in rows)

    def list_decisions(
        self,
        *,
        outcome: Sequence[str] | str | None = None,
        since: datetime | None = None,
        pipeline: str | None = None,
        lead: str | None = None,
        include_dry_run: bool = False,
        limit: int | None = 100,
    ) -> list[dict[str, Any]]:
        """Decisions, newest first, filtered by outcome(s), time, pipeline or lead.

        Each row also has the lead's ``name`` and ``company`` (from the snapshot; None when
        missing) and its ``reasons`` (a list), whole: shortening is the display's job.
        """
        where, params = self._filters(outcome, since, pipeline, lead, include_dry_run)
        sql = (
            f"SELECT {', '.join(LIST_COLUMNS)}, reasons, {_PERSON_SQL} FROM decisions {where} "
            "ORDER BY id DESC"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = self.rows(sql, params)
        for row in rows:
            _person(row)
            row["reasons"] = _reasons(row["reasons"])
        return rows

    def _filters(
        self,
        outcome: Sequence[str] | str | None,
        since: datetime | None,
        pipeline: str | None,
        lead: str | None,
        include_dry_run: bool,
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if outcome:
            values = [outcome] if isinstance(outcome, str) else list(outcome)
            clauses.append(f"outcome IN ({','.join('?' * len(values))})")
            params += values
        if since:
            clauses.append("decided_at >= ?")
            params.append(since.isoformat())
        if pipeline:
            clauses.append("pipeline = ?")
            params.append(pipeline)
        if lead:
            clauses.append("(lead_key = ? OR source_id = ?)")
            params += [lead, lead]
        if not include_dry_run:
            clauses.append("dry_run = 0")
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def show_lead(self, lead: str) -> list[dict[str, Any]]:
        """Every decision for a lead, grouped by lead and oldest first, with its explanation,
        rules version, the lead's ``name`` and ``company``, and its writes (each with its
        ``meaning``: :func:`describe_write`).

        ``lead`` is a lead key (``<source>:<id>``), a source id, a CRM id or, when it holds an
        ``@``, an e-mail address of the snapshot, compared without regard to the case of
        ASCII letters (SQLite's ``lower``). Ids and e-mails are not unique: two sources may
        share an id and several leads an address, so this may return several leads' decisions.
        The e-mail lookup reads every snapshot (there is no index on it): fine for a command a
        person types, not for a loop.
        """
        lead = lead.strip()
        matches = [
            "lead_key = :lead",
            "source_id = :lead",
            "EXISTS (SELECT 1 FROM json_each("
            + _VALID.format("crm_ids", "{}")
            + ") c WHERE c.value = :lead)",
        ]
        if "@" in lead:
            matches.append(
                f"lower(trim(json_extract({_VALID.format('snapshot', '{}')}, '$.email'))) "
                "= lower(:lead)"
            )
        decisions = self.rows(
            f"SELECT *, {_PERSON_SQL} FROM decisions WHERE {' OR '.join(matches)} "
            "ORDER BY lead_key, id",
            {"lead": lead},
        )
        for d in decisions:
            _person(d)
            d["crm_ids"] = _json(d["crm_ids"], {})
            d["reasons"] = _reasons(d["reasons"])
            d["explanation"] = _json(d["explanation"], [])
            d["snapshot"] = _json(d["snapshot"], _text(d["snapshot"]))
            d["writes"] = self.rows(
                "SELECT id, sink, state, attempts, last_error, target_id, next_attempt_at, "
                "updated_at "
                "FROM writes WHERE decision_id = ? ORDER BY id",
                (d["id"],),
            )
            for w in d["writes"]:
                w["last_error"] = _text(w["last_error"])
                w["meaning"] = describe_write(w)
        return decisions

    def iter_decisions(
        self,
        *,
        since: datetime | None = None,
        include_dry_run: bool = False,
        page: int = 1000,
        until_id: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stream decisions oldest first, a page at a time (an export of a large log never
        loads it whole), up to ``until_id``; each with the export's fields: ``name``,
        ``company``, ``email_domain``, ``crm_ids`` and ``reasons`` parsed, and ``points``
        (criterion name -> points, only those its explanation has)."""
        where, params = self._export_filters(since, include_dry_run, until_id)
        joiner = " AND " if where else "WHERE "
        last = 0
        while True:
            batch = self.rows(
                f"SELECT {_EXPORT_SQL}, {_PERSON_SQL}, {_snapshot_field('email')}, "
                f"{_POINTS_SQL} FROM decisions {where}{joiner}id > ? ORDER BY id LIMIT {page}",
                [*params, last],
            )
            if not batch:
                return
            last = batch[-1]["id"]
            for row in batch:
                _person(row)
                row["email_domain"] = _email_domain(row.pop("_email"))
                row["crm_ids"] = _json(row["crm_ids"], {})
                row["reasons"] = _reasons(row["reasons"])
                points = _json(row.pop("_points"), {})
                row["points"] = {
                    name: float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
                    for name, v in (points.items() if isinstance(points, dict) else ())
                }
                yield row

    def _export_filters(
        self, since: datetime | None, include_dry_run: bool, until_id: int | None
    ) -> tuple[str, list[Any]]:
        where, params = self._filters(None, since, None, None, include_dry_run)
        if until_id is not None:
            where += (" AND " if where else "WHERE ") + "decisions.id <= ?"
            params.append(until_id)
        return where, params

    def criterion_names(
        self,
        *,
        since: datetime | None = None,
        include_dry_run: bool = False,
        until_id: int | None = None,
    ) -> list[str]:
        """The scored criteria named in the explanations of these decisions, sorted.

        One pass in SQL (DISTINCT: only the names are kept); an export asks it first so its
        header has a column for every criterion any row has.
        """
        where, params = self._export_filters(since, include_dry_run, until_id)
        rows = self.rows(
            "SELECT DISTINCT CAST(json_extract(j.value, '$.name') AS BLOB) AS name "
            f"FROM decisions, json_each({_VALID.format('explanation', '[]')}) j {where}"
            + (" AND " if where else " WHERE ")
            + "json_extract(j.value, '$.kind') = 'criterion' "
            "AND json_type(j.value, '$.name') = 'text'",
            params,
        )
        return sorted({_text(r["name"]) or "" for r in rows})

    def export(self, fmt: str, fh: IO[str], *, since: datetime | None = None) -> int:
        """Write decisions as ``csv`` or ``json`` (a JSON array) to ``fh``; return the count.

        Columns: :data:`EXPORT_COLUMNS`, then one ``points:<criterion>`` per scored criterion
        (empty where a decision's explanation has none of it: another ruleset version, a fast
        lane). JSON rows carry the same fields, the points as an object with every criterion.

        The lead's e-mail domain is exported, not the address: an export is a file that
        travels (spreadsheets, e-mails, BI tools), the domain is what an analysis by account
        needs, and the address, the one field that reaches the person, stays in the audit
        log (``audit show``).

        In CSV, a name, company or domain that a spreadsheet would run as a formula (it
        starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return: a stranger typed
        it into a form) gets a leading ``'``, which spreadsheets show as text; JSON keeps the
        value as it is.

        Two passes over the same query, so the columns are stable across rows while memory
        stays flat whatever the size of the log: first the criterion names
        (:meth:`criterion_names`), then the rows, streamed a page at a time. Both stop at the
        newest decision when the export began, so decisions a running agent adds meanwhile
        are left out instead of bringing a criterion the header lacks.
        """
        if fmt not in ("csv", "json"):
            raise ValueError(f"unknown export format {fmt!r} (csv or json)")
        newest = self.rows("SELECT IFNULL(MAX(id), 0) AS id FROM decisions")[0]["id"]
        names = self.criterion_names(since=since, until_id=newest)
        rows = self.iter_decisions(since=since, until_id=newest)
        count = 0
        if fmt == "csv":
            writer = csv.writer(fh)
            writer.writerow([*EXPORT_COLUMNS, *(POINTS_PREFIX + n for n in names)])
            for row in rows:
                row["crm_ids"] = _dumps(row["crm_ids"])
                row["reasons"] = _dumps(row["reasons"])
                for column in _FROM_THE_LEAD:
                    row[column] = _inert(row[column])
                values = [row[c] for c in EXPORT_COLUMNS]
                values += [row["points"].get(n) for n in names]
                writer.writerow(["" if v is None else printable(str(v)) for v in values])
                count += 1
            return count
        fh.write("[")
        for row in rows:
            out = {c: row[c] for c in EXPORT_COLUMNS}
            out["points"] = {n: row["points"].get(n) for n in names}
            fh.write(("," if count else "") + "\n" + printable(_dumps(out)))
            count += 1
        fh.write("\n]\n")
        return count

    def dead_letters(self, pipeline: str | None = None) -> list[dict[str, Any]]:
        """Every dead letter (a write parked after its last attempt), oldest first."""
        sql = (
            "SELECT * FROM dead_letters"
            + (" WHERE pipeline = ?" if pipeline else "")
            + " ORDER BY id"
        )
        return self.rows(sql, (pipeline,) if pipeline else ())

    def dead_letter_groups(
        self, pipeline: str | None = None, *, label: Callable[[str | None], str]
    ) -> list[dict[str, Any]]:
        """Dead letters grouped by sink and error, largest group first.

        Two errors are one when ``label`` makes them equal: pass the report's
        :func:`sync_agent.report.build.reason_label` (it takes out the ids and counts that
        make every error unique) so the report and this view count alike. It is a parameter
        because the report sits above the audit log and this module may not import it.

        Each group: ``sink``, ``error`` (the label), ``count``, ``ids`` (to replay: ``sync-agent
        replay --id ...``), ``last_failed_at`` and ``writes`` (id, pipeline, lead, attempts,
        the error as recorded, when).
        """
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for r in self.dead_letters(pipeline):
            error = _text(r["last_error"])
            sink = _text(r["sink"]) or ""
            key = (sink, printable(label(error)))
            group = groups.setdefault(
                key,
                {"sink": sink, "error": key[1], "count": 0, "ids": [], "last_failed_at": None,
                 "writes": []},
            )  # fmt: skip
            group["count"] += 1
            group["ids"].append(r["id"])
            group["last_failed_at"] = max(group["last_failed_at"] or "", r["updated_at"] or "")
            group["writes"].append(
                {"id": r["id"], "pipeline": r["pipeline"], "lead_key": r["lead_key"],
                 "attempts": r["attempts"], "last_error": error, "failed_at": r["updated_at"]}
            )  # fmt: skip
        return sorted(groups.values(), key=lambda g: (-g["count"], g["sink"], g["error"]))

    def runs(self, pipeline: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        sql = (
            "SELECT * FROM runs"
            + (" WHERE pipeline = ?" if pipeline else "")
            + f" ORDER BY id DESC LIMIT {int(limit)}"
        )
        out = self.rows(sql, (pipeline,) if pipeline else ())
        for r in out:
            r["counts"] = json.loads(r["counts"])
        return out

    def write_states(self, pipeline: str | None = None) -> dict[str, int]:
        sql = (
            "SELECT state, COUNT(*) AS n FROM writes"
            + (" WHERE pipeline = ?" if pipeline else "")
            + " GROUP BY state"
        )
        return {r["state"]: r["n"] for r in self.rows(sql, (pipeline,) if pipeline else ())}

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM events" + (" WHERE kind = ?" if kind else "") + " ORDER BY id"
        return self.rows(sql, (kind,) if kind else ())

    def malformed(self, run_id: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM malformed" + (" WHERE run_id = ?" if run_id else "") + " ORDER BY id"
        return self.rows(sql, (run_id,) if run_id else ())

