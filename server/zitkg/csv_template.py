"""The spreadsheet template for submissions: one row per record (practice, pilot or expert).

Cells take short names where an IRI is expected (``energy-efficiency``, ``bof``, ``co4energy``) or full
IRIs; a ``key`` column lets a pilot row point at a practice row of the same file. Every row becomes RDF
with a minted IRI, and the row number travels with it so that a SHACL result can be shown at its row
and column. Errors of several rows are all reported at once.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from zitkg.errors import BadRequest, PayloadTooLarge, shown
from zitkg.naming import slug
from zitkg.xlsx import SheetLimits, read_sheet

ZIT = "https://w3id.org/sieci-zit/ontology#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DESCRIPTION = "http://purl.org/dc/terms/description"
SCHEMA = "https://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@dataclass(frozen=True)
class Column:
    name: str
    pl: str
    en: str
    applies: tuple[str, ...]  # record types
    path: str | None = None  # the property the column fills (to place SHACL results)


COLUMNS: tuple[Column, ...] = (
    Column("type", "Rodzaj rekordu: practice (dobra praktyka), pilot (pilotaż) albo expert (ekspert).",
           "Record type: practice, pilot or expert.", ("practice", "pilot", "expert"), RDF_TYPE),
    Column("key", "Własny klucz wiersza (np. P1), by pilotaż mógł wskazać praktykę z tego pliku.",
           "Your own row key (e.g. P1) so that a pilot can point at a practice in this file.",
           ("practice", "pilot", "expert")),
    Column("label_pl", "Nazwa po polsku (wymagana).", "Name in Polish (required).",
           ("practice", "pilot", "expert"), RDFS_LABEL),
    Column("label_en", "Nazwa po angielsku (zalecana).", "Name in English (recommended).",
           ("practice", "pilot", "expert"), RDFS_LABEL),
    Column("description_pl", "Opis po polsku.", "Description in Polish.", ("practice", "pilot", "expert"),
           DESCRIPTION),
    Column("description_en", "Opis po angielsku.", "Description in English.", ("practice", "pilot", "expert"),
           DESCRIPTION),
    Column("theme", "Obszar tematyczny (np. energy-efficiency); kilka oddziel średnikiem.",
           "Thematic area (e.g. energy-efficiency); separate several with semicolons.", ("practice",),
           ZIT + "theme"),
    Column("status", "Etap praktyki: proposed, piloted, evaluated, transferred.",
           "Stage of the practice: proposed, piloted, evaluated, transferred.", ("practice",),
           ZIT + "lifecycleStatus"),
    Column("originator", "Związek ZIT, od którego pochodzi praktyka (np. bof).",
           "The ZIT association the practice comes from (e.g. bof).", ("practice",), ZIT + "originator"),
    Column("network", "Sieć współpracy (np. co4energy).", "Cooperation network (e.g. co4energy).",
           ("practice", "pilot"), ZIT + "inNetwork"),
    Column("created", "Data opisania praktyki (RRRR-MM-DD).", "Date the practice was described (YYYY-MM-DD).",
           ("practice",), "http://purl.org/dc/terms/created"),
    Column("practice", "Pilotowana praktyka: klucz wiersza z tego pliku albo IRI.",
           "The practice piloted: a row key of this file or an IRI.", ("pilot",), ZIT + "pilotOf"),
    Column("mof", "Miejski obszar funkcjonalny pilotażu (np. bialystok).",
           "Functional urban area of the pilot (e.g. bialystok).", ("pilot",), ZIT + "pilotLocation"),
    Column("organisation", "Związek ZIT realizujący pilotaż (np. bof).",
           "The ZIT association running the pilot (e.g. bof).", ("pilot",), ZIT + "implementedBy"),
    Column("start", "Początek (RRRR-MM-DD).", "Start (YYYY-MM-DD).", ("pilot",), SCHEMA + "startDate"),
    Column("end", "Koniec (RRRR-MM-DD).", "End (YYYY-MM-DD).", ("pilot",), SCHEMA + "endDate"),
    Column("budget_pln", "Budżet pilotażu w PLN (liczba, np. 120000.00).",
           "Budget of the pilot in PLN (a number, e.g. 120000.00).", ("pilot",), ZIT + "budget"),
    Column("name", "Imię i nazwisko eksperta.", "The expert's full name.", ("expert",),
           "http://xmlns.com/foaf/0.1/name"),
    Column("competence", "Kompetencje: obszary tematyczne; kilka oddziel średnikiem.",
           "Competences: thematic areas; separate several with semicolons.", ("expert",), ZIT + "competence"),
    Column("affiliation", "Afiliacja (tekst).", "Affiliation (text).", ("expert",), SCHEMA + "affiliation"),
    Column("email", "E-mail (publikowany tylko za zgodą).", "E-mail (published only with consent).",
           ("expert",), SCHEMA + "email"),
    Column("telephone", "Telefon (publikowany tylko za zgodą).", "Telephone (published only with consent).",
           ("expert",), SCHEMA + "telephone"),
    Column("consent", "Zgoda na publikację: email, telephone (oddziel średnikiem).",
           "Consent to publish: email, telephone (separate with semicolons).", ("expert",),
           ZIT + "consentedField"),
)
NAMES = tuple(c.name for c in COLUMNS)
_TYPES = {"practice": ("GoodPractice", "practice"), "praktyka": ("GoodPractice", "practice"),
          "pilot": ("Pilot", "pilot"), "pilotaż": ("Pilot", "pilot"), "pilotaz": ("Pilot", "pilot"),
          "expert": ("Expert", "expert"), "ekspert": ("Expert", "expert")}
_PREFIXES = {"theme": "theme/", "status": "practice-status/", "originator": "org/", "network": "network/",
             "mof": "mof/", "organisation": "org/", "competence": "theme/"}


@dataclass
class CsvRecords:
    triples: list[ox.Triple]
    rows: dict[str, int]  # minted IRI -> row number (1 = header, data from 2)

    def place(self, focus: str, path: str | None) -> dict[str, object]:
        """Row and column of a SHACL result, when it belongs to this file."""
        row = self.rows.get(focus)
        if row is None:
            return {}
        column = next((c.name for c in COLUMNS if path and c.path == path), None)
        return {"row": row, "column": column}


@dataclass(frozen=True)
class TableLimits:
    """Limits on a CSV or XLSX submission (settings table_max_*, xlsx_max_unpacked_bytes, error_max_items)."""

    max_rows: int = 5000
    max_columns: int = 50
    max_cell_chars: int = 10_000
    max_unpacked_bytes: int = 20_000_000
    max_errors: int = 100

    @classmethod
    def from_settings(cls, settings: object) -> TableLimits:
        return cls(settings.table_max_rows, settings.table_max_columns,  # type: ignore[attr-defined]
                   settings.table_max_cell_chars, settings.xlsx_max_unpacked_bytes,  # type: ignore[attr-defined]
                   settings.error_max_items)  # type: ignore[attr-defined]

    def sheet(self) -> SheetLimits:
        return SheetLimits(self.max_rows, self.max_columns, self.max_cell_chars, self.max_unpacked_bytes)


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DELIMITERS = (",", ";", "\t")


def _delimiter(first_line: str) -> str:
    """The header's delimiter: the one it uses most (a one-column file uses none: comma)."""
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(body: bytes, limits: TableLimits) -> Iterator[tuple[int, list[str]]]:
    """Rows of a CSV file (UTF-8, comma, semicolon or tab) as (record number, counting the header, cells)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the CSV file is not UTF-8 (byte {exc.start})", details={"errors": [{"message": {
            "pl": f"Plik CSV nie jest zapisany w UTF-8 (bajt {exc.start}).",
            "en": f"The CSV file is not UTF-8 (byte {exc.start})."}}]}) from None
    first_line = text.splitlines()[0] if text else ""
    # newline="": the csv module splits records itself, on \n, \r\n or \r alike, and keeps newlines in quotes
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, cells
    except csv.Error as exc:  # e.g. a field past csv's own limit (131072 characters)
        too_long = "field larger than field limit" in str(exc)
        if too_long:
            raise table_too_large(f"row {number + 1} holds a cell of more than {limits.max_cell_chars} characters",
                                  f"Wiersz {number + 1} ma komórkę dłuższą niż {limits.max_cell_chars} znaków.",
                                  row=number + 1) from None
        raise BadRequest(f"the CSV file cannot be read at row {number + 1}: {exc}", details={"errors": [{
            "row": number + 1, "message": {"pl": f"Nie da się odczytać pliku CSV w wierszu {number + 1}.",
                                           "en": f"The CSV file cannot be read at row {number + 1}."}}]}) from None


def table_too_large(en: str, pl: str, **where: object) -> PayloadTooLarge:
    return PayloadTooLarge(en, details={"errors": [{**where, "message": {"pl": pl, "en": en}}]})


def _limited(rows: Iterator[tuple[int, list[str]]], limits: TableLimits) -> Iterator[tuple[int, list[str]]]:
    """Non-empty rows, trailing empty cells dropped; stops at the first row, column or cell past the limits."""
    data_rows = 0
    header_seen = False
    for number, cells in rows:
        while cells and not cells[-1].strip():
            cells.pop()
        if not cells:
            continue
        if len(cells) > limits.max_columns:
            raise table_too_large(
                f"row {number} has a value in column {len(cells)}, past the limit of {limits.max_columns} columns",
                f"Wiersz {number} ma wartość w kolumnie {len(cells)}, poza limitem {limits.max_columns} kolumn.",
                row=number)
        for index, cell in enumerate(cells):
            if len(cell) > limits.max_cell_chars:
                raise table_too_large(
                    f"row {number}, column {index + 1} holds more than {limits.max_cell_chars} characters",
                    f"Wiersz {number}, kolumna {index + 1} ma więcej niż {limits.max_cell_chars} znaków.",
                    row=number, column=index + 1)
        if header_seen:
            data_rows += 1
            if data_rows > limits.max_rows:
                raise table_too_large(
                    f"the file has more than {limits.max_rows} rows of data; reading stopped at row {number}",
                    f"Plik ma więcej niż {limits.max_rows} wierszy danych; czytanie przerwano na wierszu {number}.",
                    row=number)
        header_seen = True
        yield number, cells


def read_rows(body: bytes, media_type: str, limits: TableLimits | None = None) -> list[tuple[int, dict[str, str]]]:
    """Non-empty rows of a CSV file or of the first sheet of an XLSX file, as (row number, record)."""
    limits = limits or TableLimits()
    if media_type == XLSX_TYPE:
        rows: Iterator[tuple[int, list[str]]] = iter(read_sheet(body, limits.sheet()))
    else:
        rows = _csv_rows(body, limits)
    numbered = list(_limited(rows, limits))
    if not numbered:
        raise BadRequest("the file is empty", details={"errors": [{"message": {
            "pl": "Plik jest pusty.", "en": "The file is empty."}}]})
    header_row, raw_header = numbered[0]
    header = [h.strip() for h in raw_header]
    unknown = [h for h in header if h and h not in NAMES]
    if unknown:
        names = ", ".join(shown(h) for h in unknown[: limits.max_errors])
        raise BadRequest(f"unknown columns: {names}", details={"row": header_row, "known": list(NAMES), "errors": [
            {"row": header_row, "column": shown(h), "message": {"pl": f"nieznana kolumna {shown(h)}",
                                                                 "en": f"unknown column {shown(h)}"}}
            for h in unknown]})
    if "type" not in header:
        raise BadRequest("the column 'type' is required", details={"row": header_row, "column": "type", "errors": [
            {"row": header_row, "column": "type", "message": {"pl": "kolumna 'type' jest wymagana",
                                                              "en": "the column 'type' is required"}}]})
    records = []
    for number, row in numbered[1:]:
        record = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header) if h}
        records.append((number, record))
    return records


class _Errors:
    """Row errors: the first ``limit`` kept, the rest only counted (a report cannot grow with the file)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept: list[dict[str, object]] = []
        self.rows: set[int] = set()
        self.count = 0

    def add(self, row: int, column: str, pl: str, en: str) -> None:
        self.count += 1
        self.rows.add(row)
        if len(self.kept) < self.limit:
            self.kept.append({"row": row, "column": column, "message": {"pl": pl, "en": en}})

    def __bool__(self) -> bool:
        return self.count > 0

    def raise_if_any(self) -> None:
        if not self.count:
            return
        bad_rows = sorted(self.rows)
        listed = ", ".join(map(str, bad_rows[:20])) + (f" and {len(bad_rows) - 20} more" if len(bad_rows) > 20 else "")
        details: dict[str, object] = {"errors": self.kept}
        if self.count > len(self.kept):
            details["errorsOmitted"] = self.count - len(self.kept)
        raise BadRequest(f"{len(bad_rows)} row(s) of the file cannot be read: {listed}", details=details)


def parse_csv(body: bytes, media_type: str, base_iri: str, limits: TableLimits | None = None) -> CsvRecords:
    limits = limits or TableLimits()
    rows = read_rows(body, media_type, limits)
    errors = _Errors(limits.max_errors)
    triples: list[ox.Triple] = []
    row_of: dict[str, int] = {}
    keys: dict[str, ox.NamedNode] = {}
    subjects: list[tuple[int, dict[str, str], ox.NamedNode, str]] = []

    for number, record in rows:
        if not any(record.values()):
            continue
        kind = _TYPES.get(record.get("type", "").lower())
        if kind is None:
            errors.add(number, "type", "nieznany rodzaj rekordu (practice, pilot, expert)",
                       "unknown record type (practice, pilot, expert)")
            continue
        label = record.get("label_pl") or record.get("label_en") or kind[1]
        subject = ox.NamedNode(f"{base_iri}id/{kind[1]}/{slug(label)}-{secrets.token_hex(3)}")
        if record.get("key"):
            keys[record["key"]] = subject
        row_of[subject.value] = number
        subjects.append((number, record, subject, kind[0]))

    def iri(value: str, column: str, number: int) -> ox.NamedNode | None:
        if column == "practice" and value in keys:
            return keys[value]
        if re.match(r"^https?://", value):
            try:
                return ox.NamedNode(value)
            except ValueError:
                pass
        elif re.fullmatch(r"[a-z0-9][a-z0-9-]*", value) and column in _PREFIXES:
            return ox.NamedNode(base_iri + "id/" + _PREFIXES[column] + value)
        errors.add(number, column, f"{shown(value)} nie jest IRI ani znaną krótką nazwą",
                   f"{shown(value)} is neither an IRI nor a known short name")
        return None

    def date(value: str, column: str, number: int) -> ox.Literal | None:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            errors.add(number, column, f"{shown(value)} nie jest datą RRRR-MM-DD",
                       f"{shown(value)} is not a date YYYY-MM-DD")
            return None
        return ox.Literal(value, datatype=ox.NamedNode(XSD + "date"))

    for number, record, subject, cls in subjects:
        def add(prop: str, obj: object) -> None:
            if obj is not None:
                triples.append(ox.Triple(subject, ox.NamedNode(prop), obj))  # noqa: B023

        add(RDF_TYPE, ox.NamedNode(ZIT + cls))
        for lang in ("pl", "en"):
            if record.get(f"label_{lang}"):
                add(RDFS_LABEL, ox.Literal(record[f"label_{lang}"], language=lang))
            if record.get(f"description_{lang}"):
                add(DESCRIPTION, ox.Literal(record[f"description_{lang}"], language=lang))
        columns = {c.name: c for c in COLUMNS}
        for name, value in record.items():
            column = columns[name]
            if not value or name in {"type", "key", "label_pl", "label_en", "description_pl", "description_en"}:
                continue
            if cls not in {_TYPES[t][0] for t in column.applies}:
                errors.add(number, name, f"kolumna {name} nie dotyczy tego rodzaju rekordu",
                           f"the column {name} does not apply to this record type")
                continue
            if name in {"theme", "competence"}:
                for part in filter(None, (p.strip() for p in value.split(";"))):
                    add(column.path, iri(part, name, number))
            elif name in {"status", "originator", "network", "practice", "mof", "organisation"}:
                add(column.path, iri(value, name, number))
            elif name in {"created", "start", "end"}:
                add(column.path, date(value, name, number))
            elif name == "budget_pln":
                try:
                    amount = Decimal(value.replace(" ", "").replace(",", "."))
                    if not amount.is_finite():
                        raise InvalidOperation
                except InvalidOperation:
                    errors.add(number, name, f"{shown(value)} nie jest liczbą", f"{shown(value)} is not a number")
                    continue
                node = ox.NamedNode(f"{subject.value.replace('/id/pilot/', '/id/amount/pilot-')}")
                add(column.path, node)
                triples.append(ox.Triple(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(SCHEMA + "MonetaryAmount")))
                triples.append(ox.Triple(node, ox.NamedNode(SCHEMA + "value"),
                                         ox.Literal(str(amount), datatype=ox.NamedNode(XSD + "decimal"))))
                triples.append(ox.Triple(node, ox.NamedNode(SCHEMA + "currency"), ox.Literal("PLN")))
                for lang, word in (("pl", "Budżet"), ("en", "Budget")):
                    name_of = record.get(f"label_{lang}") or record.get("label_pl") or ""
                    triples.append(ox.Triple(node, ox.NamedNode(RDFS_LABEL),
                                             ox.Literal(f"{word}: {name_of}", language=lang)))
                row_of[node.value] = number
            elif name == "consent":
                for part in filter(None, (p.strip() for p in value.split(";"))):
                    if part not in {"email", "telephone"}:
                        errors.add(number, name, "zgoda może dotyczyć: email, telephone",
                                   "consent may name: email, telephone")
                        continue
                    add(column.path, ox.NamedNode(SCHEMA + part))
            else:
                add(column.path, ox.Literal(value))
    errors.raise_if_any()
    if not triples:
        raise BadRequest("the file holds no records")
    return CsvRecords(triples, row_of)


def template_csv() -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(NAMES)
    return buf.getvalue().encode("utf-8")


def template_xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "records"
    sheet.append(list(NAMES))
    docs = book.create_sheet("kolumny-columns")
    docs.append(["kolumna / column", "opis (pl)", "description (en)", "dotyczy / applies to"])
    for column in COLUMNS:
        docs.append([column.name, column.pl, column.en, ", ".join(column.applies)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
