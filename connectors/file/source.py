"""The file source: leads from a CSV or JSON Lines file (a trade-show list, an export).

The cursor is the file's content hash plus the last row handed over: ``{"sha256": ...,
"row": N}``. Running the same file again resumes after row N, so nothing is decided or
handed off twice, and a crash resumes where the last committed page ended. A file with
other content (edited, or next month's list) starts from its first row; leads already
decided keep their history through their key, the normalised e-mail (or ``id_column``).
A row that cannot become a lead (broken JSON, wrong column count, no e-mail, not UTF-8,
too long) is malformed, recorded with its row number, and the read goes on.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from connectors.base import Cursor, Page
from connectors.file.settings import FileSettings
from connectors.mapping import to_mql
from sync_agent.errors import ConfigError, Problem
from sync_agent.model import MQL

RAW_PREFIX = "file"
Row = tuple[int, Mapping[str, Any] | None, str]  # (row number, columns or None, why not)


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class FileSource:
    """Reads a lead file page by page (implements ``connectors.base.Source``)."""

    def __init__(self, settings: FileSettings, name: str = "file") -> None:
        self.settings = settings
        self.name = name
        self.path = Path(settings.path)

    def read(self, cursor: Cursor, *, until_ms: int | None = None) -> Iterator[Page]:
        """Pages of leads after the cursor's row (``until_ms`` does not apply to a file)."""
        if not self.path.is_file():
            raise ConfigError(
                f"lead file not found: {self.path}",
                [Problem(str(self.path), "", "lead file not found", "check path")],
            )
        sha = content_hash(self.path)
        position = cursor.to_dict()
        start = int(position.get("row", 0)) if position.get("sha256") == sha else 0
        mqls: list[MQL] = []
        malformed: list[tuple[str, str]] = []
        last = start
        for number, columns, why in self._rows():
            if number <= start:
                continue
            last = number
            lead = self._lead(number, columns) if columns is not None else f"row {number}: {why}"
            if isinstance(lead, MQL):
                mqls.append(lead)
            else:
                malformed.append((f"row {number}", lead))
            if len(mqls) + len(malformed) >= self.settings.page_size:
                yield Page(mqls, Cursor({"sha256": sha, "row": last}), malformed)
                mqls, malformed = [], []
        if mqls or malformed:
            yield Page(mqls, Cursor({"sha256": sha, "row": last}), malformed)

    #: a file costs no API call
    api_calls = 0

    def total(self) -> int:
        """Rows in the file (the progress bar's total)."""
        return sum(1 for _ in self._rows())

    def _lead(self, number: int, columns: Mapping[str, Any]) -> MQL | str:
        key_column = self.settings.id_column
        raw = columns.get(key_column) if key_column else columns.get(self._email_column())
        ident = str(raw).strip() if raw not in (None, "") else ""
        if not ident:
            what = f"no {key_column!r}" if key_column else "no e-mail"
            return f"row {number} has {what}: cannot tell who the lead is"
        if not key_column:
            ident = ident.lower()
        result = to_mql(
            self.name, ident, dict(columns), self.settings.field_map, raw_prefix=RAW_PREFIX
        )
        return result if isinstance(result, MQL) else f"row {number}: {result[1]}"

    def _email_column(self) -> str:
        return self.settings.field_map.fields.get("email", "email")

    def _rows(self) -> Iterator[Row]:
        with self.path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            rows = self._csv(fh) if self.settings.kind == "csv" else self._jsonl(fh)
            for number, columns, why in rows:
                if columns is not None:
                    why = _problem_in(columns, self.settings.max_row_chars)
                    if why:
                        columns = None
                yield number, columns, why

    def _csv(self, fh: Any) -> Iterator[Row]:
        reader = csv.reader(fh, delimiter=self.settings.delimiter, strict=False)
        header: list[str] | None = None
        number = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                yield number, None, f"unreadable CSV: {exc}"
                continue
            if header is None:
                header = [c.strip() for c in cells]
                continue
            number += 1
            if not any(c.strip() for c in cells):
                continue  # a blank line is not a lead
            if len(cells) != len(header):
                yield number, None, f"{len(cells)} cells for {len(header)} columns"
                continue
            yield number, dict(zip(header, cells, strict=True)), ""

    def _jsonl(self, fh: Any) -> Iterator[Row]:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if len(line) > self.settings.max_row_chars:
                yield number, None, f"longer than {self.settings.max_row_chars} characters"
                continue
            try:
                value = json.loads(line)
            except (ValueError, RecursionError) as exc:
                yield number, None, f"not JSON: {str(exc)[:80]}"
                continue
            if not isinstance(value, dict):
                yield number, None, f"a JSON {type(value).__name__}, not an object"
                continue
            yield number, value, ""


def _problem_in(columns: Mapping[str, Any], limit: int) -> str:
    """Why a row's values can't be taken as they are ('' when they can)."""
    size = 0
    for key, value in columns.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        size += len(str(key)) + len(text)
        if any("\udc80" <= ch <= "\udcff" for ch in text) or any(
            "\udc80" <= ch <= "\udcff" for ch in str(key)
        ):
            return "not UTF-8 text"
    return f"longer than {limit} characters" if size > limit else ""
