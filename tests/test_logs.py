"""The redaction processor: secrets and personal data never reach a log line."""

from __future__ import annotations

import pytest

from sync_agent.logs import MASK, Redactor, register_secret


def clean(**event: object) -> dict[str, object]:
    return dict(Redactor()(None, "info", dict(event)))


def test_secret_keys_are_masked_whatever_their_value() -> None:
    out = clean(access_token="pat-123", client_secret="s3cr3t", password="pw", count=3)
    assert out == {"access_token": MASK, "client_secret": MASK, "password": MASK, "count": 3}


def test_registered_secret_values_are_masked_inside_any_text() -> None:
    register_secret("00Dxx0000001gPL!AQ4AQFakeSessionId")
    out = clean(event="retrying with session 00Dxx0000001gPL!AQ4AQFakeSessionId now")
    assert out["event"] == f"retrying with session {MASK} now"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lead dana.ng@northwind.io accepted", "lead [email] accepted"),
        ("call +1 415 555 0100 today", "call [phone] today"),
        ("call (415) 555-0100", "call [phone]"),
        ("base_url=http://127.0.0.1:43121", "base_url=http://127.0.0.1:43121"),
        ("decided 2026-11-25 22:55 UTC", "decided 2026-11-25 22:55 UTC"),
        ("score 82.5 of 100.0", "score 82.5 of 100.0"),
    ],
)
def test_emails_and_phones_are_masked_but_addresses_dates_and_numbers_are_not(
    text: str, expected: str
) -> None:
    assert clean(event=text)["event"] == expected


def test_personal_data_stays_when_redaction_is_off() -> None:
    out = Redactor(redact_pii=False)(None, "info", {"event": "dana.ng@northwind.io"})
    assert out["event"] == "dana.ng@northwind.io"
