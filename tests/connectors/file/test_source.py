"""The file source: rows become leads, bad rows become malformed records, the cursor
(content hash + row) makes a re-run of the same file read nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.base import Cursor
from connectors.file import FileSettings, FileSource
from sync_agent.errors import ConfigError

CSV = (
    "email,first_name,title,employees,Job Level\n"
    "Ada@Example.com,Ada,VP Sales,250,senior\n"
    "bob@example.com,Bob,Intern,5,junior\n"
)


def source(path: Path, **options: object) -> FileSource:
    return FileSource(FileSettings.from_options({"path": str(path), **options}), "fair")


def read_all(src: FileSource, cursor: Cursor | None = None) -> list:
    return list(src.read(cursor or Cursor()))


def test_csv_rows_become_leads_named_like_rules_explain_leads(tmp_path: Path) -> None:
    path = tmp_path / "fair.csv"
    path.write_text(CSV, encoding="utf-8")
    [page] = read_all(source(path))
    ada, bob = page.mqls
    assert ada.key == "fair:ada@example.com", "identity: the normalised e-mail"
    assert ada.fields["title"] == "VP Sales" and ada.fields["employees"] == 250
    assert ada.fields["file.Job Level"] == "senior", "other columns stay reachable as file.X"
    assert bob.fields["first_name"] == "Bob"
    assert page.cursor.position["row"] == 2 and len(page.cursor.position["sha256"]) == 64


def test_the_same_file_again_reads_nothing_and_an_edited_one_starts_over(tmp_path: Path) -> None:
    path = tmp_path / "fair.csv"
    path.write_text(CSV, encoding="utf-8")
    src = source(path)
    [page] = read_all(src)
    assert read_all(src, page.cursor) == [], "same content, same cursor: nothing new"
    path.write_text(CSV + "cy@example.com,Cy,CTO,90,senior\n", encoding="utf-8")
    [again] = read_all(src, page.cursor)
    assert [m.source_id for m in again.mqls] == [
        "ada@example.com",
        "bob@example.com",
        "cy@example.com",
    ], "new content: every row (the engine skips leads it already decided)"


def test_a_crash_resumes_after_the_last_committed_page(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(
        "email\n" + "".join(f"lead{i}@example.com\n" for i in range(1, 8)), encoding="utf-8"
    )
    src = source(path, page_size=3)
    first, second, _ = read_all(src)
    rest = read_all(src, second.cursor)
    assert [m.source_id for m in rest[0].mqls] == ["lead7@example.com"]
    assert second.cursor.position["row"] == 6 and first.cursor.position["row"] == 3


def test_bad_rows_are_malformed_with_their_row_number_and_the_read_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(
        b"email,title\n"
        b"ok@example.com,CEO\n"
        b"too,many,cells\n"
        b",Nobody\n"
        b"\xff\xfe@example.com,Bad bytes\n"
        b"last@example.com,CFO\n"
    )
    [page] = read_all(source(path))
    assert [m.source_id for m in page.mqls] == ["ok@example.com", "last@example.com"]
    reasons = dict(page.malformed)
    assert "3 cells for 2 columns" in reasons["row 2"]
    assert "has no e-mail" in reasons["row 3"]
    assert "not UTF-8" in reasons["row 4"]


def test_json_lines_with_broken_lines_and_a_long_row(tmp_path: Path) -> None:
    path = tmp_path / "leads.jsonl"
    lines = [
        json.dumps({"email": "a@example.com", "lead_score": "72", "nested": {"x": 1}}),
        "{not json",
        json.dumps([1, 2]),
        json.dumps({"email": "b@example.com", "note": "x" * 500}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    [page] = read_all(source(path, max_row_chars=300))
    assert [m.source_id for m in page.mqls] == ["a@example.com"]
    assert page.mqls[0].fields["lead_score"] == 72
    reasons = dict(page.malformed)
    assert reasons["row 2"].startswith("row 2: not JSON")
    assert "not an object" in reasons["row 3"] and "longer than 300" in reasons["row 4"]


def test_an_id_column_and_a_field_map_name_the_lead_and_its_fields(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Lead ID,E-mail,Job Title\n17,z@example.com,Head of RevOps\n")
    src = source(path, id_column="Lead ID", field_map={"email": "E-mail", "title": "Job Title"})
    [page] = read_all(src)
    [lead] = page.mqls
    assert lead.key == "fair:17" and lead.fields["email"] == "z@example.com"
    assert lead.fields["title"] == "Head of RevOps"


def test_settings_problems_name_the_option(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        FileSettings.from_options({"path": "leads.xlsx", "page_size": 0, "colour": 1})
    where = {p.location for p in caught.value.problems}
    assert where == {"path", "page_size", "colour"}
    missing = source(tmp_path / "gone.csv")
    with pytest.raises(ConfigError, match="lead file not found"):
        read_all(missing)
