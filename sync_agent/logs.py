"""structlog, configured in one place.

Console rendering on a terminal, one JSON object per line otherwise. A redaction
processor runs last before rendering (after tracebacks became text): it masks values of
secret-looking keys (tokens, passwords, keys), any registered secret value wherever it
appears (tracebacks included), and, unless
``redact_pii=False``, lead e-mail addresses and phone numbers.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

_SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|api[_-]?key|private[_-]?key|session[_-]?id|authorization)",
    re.I,
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().-]{7,}\d(?![\w.])")
_NOT_A_PHONE = re.compile(r"[\d.]+|\d{4}-\d{2}-\d{2}.*")  # IP addresses, decimals, dates
MASK = "[redacted]"


def _mask_phone(match: re.Match[str]) -> str:
    """Mask a phone-number-like run, but not IP addresses, decimals or ISO dates."""
    text = match.group()
    digits = sum(c.isdigit() for c in text)
    return text if digits < 9 or _NOT_A_PHONE.fullmatch(text) else "[phone]"


_registered_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that it is masked wherever it would be logged."""
    if value and len(value) >= 4:
        _registered_secrets.add(value)


class Redactor:
    """A structlog processor that masks secrets and (by default) personal data."""

    def __init__(self, redact_pii: bool = True) -> None:
        self.redact_pii = redact_pii

    def __call__(
        self, _logger: Any, _name: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key in list(event):
            event[key] = self._clean(key, event[key])
        return event

    def _clean(self, key: str, value: Any) -> Any:
        if _SECRET_KEY.search(key) and value not in (None, ""):
            return MASK
        if isinstance(value, str):
            return self._clean_text(value)
        if isinstance(value, dict):
            return {k: self._clean(str(k), v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._clean(key, v) for v in value]
        return value

    def _clean_text(self, text: str) -> str:
        for secret in _registered_secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        if self.redact_pii:
            text = _EMAIL.sub("[email]", text)
            text = _PHONE.sub(_mask_phone, text)
        return text


def configure_logging(
    *,
    json: bool | None = None,
    level: str = "INFO",
    redact_pii: bool = True,
    stream: TextIO | None = None,
    extra_processors: Iterable[Any] = (),
) -> None:
    """Configure structlog once for the whole process.

    ``json=None`` picks JSON unless ``stream`` (default stderr) is a terminal.
    """
    out = stream or sys.stderr
    use_json = (not out.isatty()) if json is None else json
    _settings.clear()
    _settings.update(json=use_json, level=level, redact_pii=redact_pii, tty=out.isatty())
    _stream[:] = [out]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *extra_processors,
            # Tracebacks become text first, so the redactor masks what they carry too.
            structlog.processors.format_exc_info,
            Redactor(redact_pii=redact_pii),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


#: How ``configure_logging`` last set this process up (resolved): a helper process (the
#: backfill's writer) logs the same way, through this process's stream.
_settings: dict[str, Any] = {}
_stream: list[TextIO] = []


def logging_settings() -> dict[str, Any]:
    """What a helper process needs to log as this one does (picklable; secrets included,
    so that it masks every value this process knows to be one)."""
    return {**_settings, "secrets": sorted(_registered_secrets)}


def log_stream() -> TextIO:
    """Where this process's log lines go (stderr unless ``configure_logging`` said else)."""
    return _stream[0] if _stream else sys.stderr


#: The type of every logger here (``configure_logging`` makes filtering bound loggers).
Logger = structlog.typing.FilteringBoundLogger


def get_logger(name: str = "sync_agent", **bound: Any) -> Logger:
    """A structlog logger with ``component`` and any extra context bound."""
    logger: Logger = structlog.get_logger(name).bind(component=name, **bound)
    return logger
