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
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from zitkg.errors import BadRequest
from zitkg.naming import slug

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


def read_rows(body: bytes, media_type: str) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, comma or semicolon) or of the first sheet of an XLSX file."""
    if media_type.endswith("spreadsheetml.sheet"):
        import openpyxl

        try:
            sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a broken file
            raise BadRequest(f"cannot read the spreadsheet: {exc}") from None
        values = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    else:
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadRequest(f"the CSV file is not UTF-8 (byte {exc.start})") from None
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else ",", delimiters=",;\t")
        values = list(csv.reader(io.StringIO(text), dialect))
    if not values:
        raise BadRequest("the file is empty")
    header = [h.strip() for h in values[0]]
    unknown = [h for h in header if h and h not in NAMES]
    if unknown:
        raise BadRequest(f"unknown columns: {', '.join(unknown)}", details={"row": 1, "known": list(NAMES)})
    if "type" not in header:
        raise BadRequest("the column 'type' is required", details={"row": 1, "column": "type"})
    rows = []
    for row in values[1:]:
        record = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header) if h}
        rows.append(record)
    return rows


def parse_csv(body: bytes, media_type: str, base_iri: str) -> CsvRecords:
    rows = read_rows(body, media_type)
    errors: list[dict[str, object]] = []
    triples: list[ox.Triple] = []
    row_of: dict[str, int] = {}
    keys: dict[str, ox.NamedNode] = {}
    subjects: list[tuple[int, dict[str, str], ox.NamedNode, str]] = []

    for number, record in enumerate(rows, start=2):
        if not any(record.values()):
            continue
        kind = _TYPES.get(record.get("type", "").lower())
        if kind is None:
            errors.append({"row": number, "column": "type",
                           "message": {"pl": "nieznany rodzaj rekordu (practice, pilot, expert)",
                                       "en": "unknown record type (practice, pilot, expert)"}})
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
        errors.append({"row": number, "column": column,
                       "message": {"pl": f"{value!r} nie jest IRI ani znaną krótką nazwą",
                                   "en": f"{value!r} is neither an IRI nor a known short name"}})
        return None

    def date(value: str, column: str, number: int) -> ox.Literal | None:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            errors.append({"row": number, "column": column,
                           "message": {"pl": f"{value!r} nie jest datą RRRR-MM-DD",
                                       "en": f"{value!r} is not a date YYYY-MM-DD"}})
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
                errors.append({"row": number, "column": name,
                               "message": {"pl": f"kolumna {name} nie dotyczy tego rodzaju rekordu",
                                           "en": f"the column {name} does not apply to this record type"}})
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
                except InvalidOperation:
                    errors.append({"row": number, "column": name,
                                   "message": {"pl": f"{value!r} nie jest liczbą", "en": f"{value!r} is not a number"}})
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
                        errors.append({"row": number, "column": name,
                                       "message": {"pl": "zgoda może dotyczyć: email, telephone",
                                                   "en": "consent may name: email, telephone"}})
                        continue
                    add(column.path, ox.NamedNode(SCHEMA + part))
            else:
                add(column.path, ox.Literal(value))
    if errors:
        bad_rows = sorted({int(e["row"]) for e in errors})
        raise BadRequest(
            f"{len(bad_rows)} row(s) of the file cannot be read: {', '.join(map(str, bad_rows))}",
            details={"errors": errors},
        )
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
