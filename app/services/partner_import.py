"""Partner files turned into validated rows, for the upload endpoint and the CLI alike."""

from __future__ import annotations

from typing import Any

from app.exceptions import InvalidInput
from geo.partner_data import TARGETS, MappingError, parse_mapping, read_rows, records


def partner_records(data: bytes, filename: str, target: str, mapping: str | None, crs: str | None) -> list[Any]:
    """Parse and validate a partner file's rows (shared with the CLI); refuses bad options by field."""
    if target not in TARGETS:
        raise InvalidInput(f"target: expected one of {', '.join(TARGETS)}", field="target")
    if crs not in (None, "", "EPSG:4326", "EPSG:27700"):
        raise InvalidInput("crs: expected EPSG:4326 or EPSG:27700", field="crs")
    try:
        columns = parse_mapping(mapping, target)
        return list(records(read_rows(data, filename), target, columns, crs or None))
    except MappingError as exc:
        raise InvalidInput(str(exc), field="mapping") from exc
    except ValueError as exc:
        raise InvalidInput(f"{filename}: {exc}", field="file") from exc
