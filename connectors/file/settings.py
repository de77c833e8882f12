"""Settings of the file source: which file, its format, how its columns map to lead fields.

Columns named like canonical lead fields (``email``, ``title``, ``employees``...) are read
as those fields, exactly the names a ``rules explain --lead`` JSON uses; ``field_map``
renames others (``title = "Job Title"``). Every column also stays reachable by rules as
``file.<column>``. A relative ``path`` is relative to the configuration file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from connectors.mapping import FieldMapping, mapping_schema
from sync_agent.model import CANONICAL_FIELDS
from sync_agent.settings import SettingsModel, hint, validate_or_raise

#: A column named like a canonical field feeds that field.
DEFAULT_FIELD_MAP: Mapping[str, str] = {name: name for name in CANONICAL_FIELDS}
FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class FileSettings(SettingsModel):
    """``[connectors.<name>]`` with ``type = "file"``."""

    format: Literal["csv", "jsonl"] | None = None  # default: from the extension
    path: str = Field(
        min_length=1, json_schema_extra=hint('path = "leads/trade-show.csv" (CSV or JSON Lines)')
    )
    delimiter: str = Field(",", min_length=1, max_length=1)
    id_column: str | None = None  # a stable id per lead; default: the e-mail
    field_map: Annotated[FieldMapping, mapping_schema(DEFAULT_FIELD_MAP)] = FieldMapping(
        DEFAULT_FIELD_MAP
    )
    page_size: int = Field(500, ge=1, le=10_000)
    max_row_chars: int = Field(100_000, ge=100)  # a longer row is malformed, not read

    @field_validator("path")
    @classmethod
    def _resolve(cls, value: str, info: ValidationInfo) -> str:
        if "\x00" in value:
            raise ValueError("a path cannot contain a NUL character")
        if info.data.get("format") is None and Path(value).suffix.lower() not in FORMATS:
            raise ValueError(
                f"cannot tell the format of {Path(value).name!r} from its extension "
                '(.csv, .jsonl): set format = "csv" or "jsonl"'
            )
        base = (info.context or {}).get("config_dir")
        path = Path(value).expanduser()
        if not path.is_absolute() and base is not None:
            path = Path(base) / path
        return str(path)

    @property
    def kind(self) -> str:
        """``csv`` or ``jsonl``."""
        return self.format or FORMATS[Path(self.path).suffix.lower()]

    @classmethod
    def from_options(cls, options: Mapping[str, Any], *, file: str = "config") -> FileSettings:
        return validate_or_raise(cls, options, file=file, title="file source settings")
