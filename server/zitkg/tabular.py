"""Query answers as tables for people: plain JSON rows, CSV/TSV safe for spreadsheets, GeoJSON.

SPARQL's own result formats keep terms exact; these formats are for spreadsheet users and maps, so
IRIs and literals become plain values, and CSV cells that a spreadsheet would run as a formula are
defused with a leading apostrophe (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pyoxigraph as ox

XSD = "http://www.w3.org/2001/XMLSchema#"
_NUMERIC = {XSD + t for t in ("integer", "decimal", "int", "long", "nonNegativeInteger", "positiveInteger")}
_FLOAT = {XSD + "double", XSD + "float"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_POINT = re.compile(r"^\s*(?:<[^>]*>\s*)?POINT\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)\s*$", re.IGNORECASE)


def plain(term: object) -> Any:
    """A JSON-friendly value: IRIs and strings as text, numbers as numbers, booleans as booleans."""
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        try:
            if datatype in _NUMERIC:
                number = Decimal(term.value)
                return int(number) if number == number.to_integral_value() else float(number)
            if datatype in _FLOAT:
                return float(term.value)
        except ArithmeticError:
            return term.value
        if datatype == XSD + "boolean":
            return term.value in {"true", "1"}
        return term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


def rows_as_dicts(variables: Sequence[str], rows: Sequence[Sequence[object]]) -> list[dict[str, Any]]:
    return [{v: plain(t) for v, t in zip(variables, row, strict=True)} for row in rows]


def defuse(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_table(variables: Sequence[str], rows: Sequence[Sequence[object]], delimiter: str = ",") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(variables)
    for row in rows:
        writer.writerow([defuse(_text(plain(t))) for t in row])
    return buf.getvalue().encode()


def point_of(wkt: object) -> list[float] | None:
    match = _POINT.match(plain(wkt) or "") if wkt is not None else None
    return [float(match.group(1)), float(match.group(2))] if match else None


def write_geojson(variables: Sequence[str], rows: Sequence[Sequence[object]], geometry: str) -> bytes:
    features = []
    for record in rows_as_dicts(variables, rows):
        coordinates = point_of(record.get(geometry))
        properties = {k: v for k, v in record.items() if k != geometry}
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": coordinates} if coordinates else None,
            "properties": properties,
        })
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()
