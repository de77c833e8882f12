"""HubSpot request validation and error bodies (``VALIDATION_ERROR`` and friends).

Error bodies follow the documented shape ``{"status": "error", "message", "category",
"correlationId", "errors": [{"message", "code", "context"}]}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


class ApiError(Exception):
    """An HTTP error answer; the correlation id is added when the body is rendered."""

    def __init__(
        self,
        status: int,
        message: str,
        category: str = "VALIDATION_ERROR",
        *,
        code: str | None = None,
        context: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.category = category
        self.code = code
        self.context = context
        self.errors = errors

    def body(self, correlation_id: str) -> dict[str, Any]:
        """The JSON error body HubSpot sends."""
        extra: dict[str, Any] = {}
        if self.errors is not None:
            extra["errors"] = self.errors
        elif self.code:
            extra["errors"] = [{"message": self.message, "code": self.code}]
        if self.context:
            extra["context"] = self.context
        return error_body(self.message, self.category, correlation_id, **extra)


def error_body(message: str, category: str, correlation_id: str, **extra: Any) -> dict[str, Any]:
    """HubSpot's error envelope."""
    return {
        "status": "error",
        "message": message,
        "correlationId": correlation_id,
        "category": category,
        **extra,
    }


def property_types(defs: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Property name -> HubSpot type (``string``, ``number``, ``datetime`` ...)."""
    return {name: str(d.get("type", "string")) for name, d in defs.items()}


def check_batch_size(inputs: Any, maximum: int) -> None:
    """400 unless ``inputs`` is a list of at most ``maximum`` objects."""
    if not isinstance(inputs, list) or not all(isinstance(i, dict) for i in inputs):
        raise ApiError(
            400, "Invalid input: 'inputs' must be a list of objects", code="INVALID_INPUT"
        )
    if len(inputs) > maximum:
        raise ApiError(
            400,
            f"Batch input size of {len(inputs)} exceeds the maximum of {maximum}.",
            code="TOO_MANY_INPUTS",
            context={"maxInputs": [str(maximum)]},
        )


def check_unique_ids(inputs: list[dict[str, Any]]) -> None:
    """400 when one id appears twice in a batch update (HubSpot refuses the whole batch)."""
    ids = [str(item.get("id")) for item in inputs]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ApiError(
            400,
            f"Duplicate IDs found in batch input: {duplicates}. IDs must be unique",
            code="DUPLICATE_IDS",
        )


def check_properties(props: Any, defs: Mapping[str, Mapping[str, Any]], *, writing: bool) -> None:
    """400 with HubSpot's per-property problems (unknown, read-only, bad option/number)."""
    if not isinstance(props, dict):
        raise ApiError(400, "Invalid input: 'properties' must be an object", code="INVALID_INPUT")
    problems = [p for name, value in props.items() if (p := _problem(name, value, defs, writing))]
    if problems:
        details = json.dumps(problems)
        raise ApiError(
            400,
            f"Property values were not valid: {details}",
            errors=[
                {
                    "message": p["message"],
                    "code": p["error"],
                    "context": {"propertyName": [p["name"]]},
                }
                for p in problems
            ],
        )


def _problem(
    name: str, value: Any, defs: Mapping[str, Mapping[str, Any]], writing: bool
) -> dict[str, Any] | None:
    definition = defs.get(name)
    if definition is None:
        return _invalid(name, value, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
    meta = definition.get("modificationMetadata") or {}
    if writing and meta.get("readOnlyValue"):
        return _invalid(
            name,
            value,
            "READ_ONLY_VALUE",
            f'"{name}" is a calculated property; its value cannot be set.',
        )
    if value is None or value == "":
        return None
    kind = definition.get("type")
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if kind == "number" and not _is_number(text):
        return _invalid(name, value, "INVALID_INTEGER", f"{text} was not a valid number.")
    if kind == "bool" and text.lower() not in ("true", "false"):
        return _invalid(name, value, "INVALID_OPTION", f"{text} was not a valid boolean.")
    options = [o.get("value") for o in definition.get("options") or []]
    if kind == "enumeration" and options and text not in options:
        allowed = ", ".join(str(o) for o in options)
        return _invalid(
            name, value, "INVALID_OPTION", f"{text} was not one of the allowed options: [{allowed}]"
        )
    return None


def _invalid(name: str, value: Any, error: str, message: str) -> dict[str, Any]:
    return {
        "isValid": False,
        "message": message,
        "error": error,
        "name": name,
        "localizedErrorMessage": message,
        "value": value,
    }


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
