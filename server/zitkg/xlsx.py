"""The first sheet of an XLSX file as rows of text, read under limits without trusting the package.

An XLSX file is a ZIP of XML parts, and both layers can lie or explode: a 150 KB file unpacked to a
43 MB sheet and took 22 s of CPU and 350 MB in openpyxl, whose readers build a tree per row, fill gaps
between sparse rows and pad rows to the dimension the file declares. So this reader:

1. checks the ZIP's central directory before unpacking anything: the number of parts, the sizes they
   declare (all together at most ``max_unpacked_bytes``), no encryption, no compression but stored and
   deflate;
2. counts the bytes actually unpacked from every part it reads (Python's zipfile also stops at the
   declared size and fails the CRC check when a part holds more);
3. refuses any part that declares a DTD, checked by the XML parser itself (expat's doctype event) on the
   prolog of every part, so that no entity (billion laughs, external entities) is ever expanded;
4. streams the parts it needs (workbook, its relationships, styles for dates, shared strings, the first
   sheet) through expat with constant memory and an element budget, and stops at the first row, column
   or cell past the limits.

It knows nothing of the template's columns (csv_template.py does) nor of HTTP.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel

from zitkg.errors import BadRequest, PayloadTooLarge

CHUNK = 64 * 1024
MAX_PARTS = 1000  # an XLSX written by Excel or LibreOffice has a few dozen
SMALL_PART_ELEMENTS = 200_000  # workbook, relationships, styles
OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CELL_REF = re.compile(r"([A-Za-z]{1,3})(\d+)")


@dataclass(frozen=True)
class SheetLimits:
    max_rows: int
    max_columns: int
    max_cell_chars: int
    max_unpacked_bytes: int

    @property
    def element_budget(self) -> int:
        """XML elements a sheet or the shared strings may hold: a full table of cells, each with a value
        and a run of text, plus ten times as many empty rows (formatting) as data rows."""
        return 4 * (self.max_rows + 1) * self.max_columns + 10 * (self.max_rows + 1)


def _bilingual(pl: str, en: str, **where: object) -> dict[str, object]:
    return {"errors": [{**where, "message": {"pl": pl, "en": en}}]}


def too_large(en: str, pl: str, **where: object) -> PayloadTooLarge:
    return PayloadTooLarge(en, details=_bilingual(pl, en, **where))


def unreadable(en: str, pl: str, **where: object) -> BadRequest:
    return BadRequest(en, details=_bilingual(pl, en, **where))


class _Stop(Exception):  # noqa: N818 - control flow: the parser reached what it needed
    pass


# --- the package ---------------------------------------------------------------------------------------


class Package:
    """A ZIP checked on its central directory; parts are read through :meth:`parse` only."""

    def __init__(self, body: bytes, limits: SheetLimits) -> None:
        self.limits = limits
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(body))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
            raise unreadable(f"the file is not an XLSX (ZIP) file: {exc}",
                             "Plik nie jest plikiem XLSX (ZIP).") from None
        if len(infos) > MAX_PARTS:
            raise too_large(f"the XLSX file has more than {MAX_PARTS} parts",
                            f"Plik XLSX ma więcej niż {MAX_PARTS} części.")
        declared = sum(i.file_size for i in infos)
        if declared > limits.max_unpacked_bytes:
            raise too_large(
                f"the XLSX file unpacks to {declared} bytes, more than {limits.max_unpacked_bytes}",
                f"Plik XLSX po rozpakowaniu ma {declared} bajtów, więcej niż {limits.max_unpacked_bytes}.")
        for info in infos:
            if info.flag_bits & 0x1:
                raise unreadable("the XLSX file is encrypted", "Plik XLSX jest zaszyfrowany.")
            if info.compress_type not in {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}:
                raise unreadable(f"the XLSX part {info.filename} uses an unusual compression",
                                 f"Część {info.filename} pliku XLSX używa nietypowej kompresji.")
        self.infos = {i.filename: i for i in infos if not i.is_dir()}

    def chunks(self, name: str) -> Iterator[bytes]:
        """The unpacked bytes of a part, counted against what it declared."""
        info = self.infos[name]
        read = 0
        try:
            with self.zip.open(info) as stream:
                while chunk := stream.read(CHUNK):
                    read += len(chunk)
                    if read > info.file_size:
                        raise too_large(f"the XLSX part {name} unpacks to more than it declares",
                                        f"Część {name} pliku XLSX rozpakowuje się do więcej, niż deklaruje.")
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
            raise unreadable(f"the XLSX part {name} cannot be unpacked: {exc}",
                             f"Części {name} pliku XLSX nie da się rozpakować.") from None

    def check_no_dtd(self) -> None:
        """Refuse any part whose XML declares a DTD; reads each part's prolog only."""
        for name in self.infos:
            parser = _parser(name)

            def root(_name: str, _attrs: dict[str, str]) -> None:
                raise _Stop

            parser.StartElementHandler = root
            try:
                for chunk in self.chunks(name):
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
            except (_Stop, expat.ExpatError):  # the root element started, or the part is not XML at all
                continue

    def parse(self, name: str, start: Callable[[str, dict[str, str]], None],
              end: Callable[[str], None] | None = None, text: Callable[[str], None] | None = None,
              budget: int = SMALL_PART_ELEMENTS) -> None:
        """Stream a part through expat; element names are local names (namespaces are not checked)."""
        parser = _parser(name)
        count = 0

        def on_start(tag: str, attrs: dict[str, str]) -> None:
            nonlocal count
            count += 1
            if count > budget:
                raise too_large(f"the XLSX part {name} holds more than {budget} XML elements",
                                f"Część {name} pliku XLSX ma więcej niż {budget} elementów XML.")
            start(tag.rpartition("}")[2], attrs)

        parser.StartElementHandler = on_start
        if end is not None:
            parser.EndElementHandler = lambda tag: end(tag.rpartition("}")[2])
        if text is not None:
            parser.CharacterDataHandler = text
        try:
            for chunk in self.chunks(name):
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except _Stop:
            return
        except expat.ExpatError as exc:
            raise unreadable(f"the XLSX part {name} is not well-formed XML: {exc}",
                             f"Część {name} pliku XLSX nie jest poprawnym XML.") from None


def _parser(name: str) -> Any:
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_args: object) -> None:
        raise unreadable(
            f"the XLSX part {name} declares a DTD (entities), which spreadsheets never need; refused unread",
            f"Część {name} pliku XLSX deklaruje DTD (encje), których arkusze nie potrzebują; odrzucono bez czytania.")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    return parser


# --- the workbook ----------------------------------------------------------------------------------------


def _relationships(package: Package, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, part name) of a part, from its _rels file."""
    folder, base = posixpath.split(part)
    rels_name = posixpath.join(folder, "_rels", base + ".rels")
    found: dict[str, tuple[str, str]] = {}
    if rels_name not in package.infos:
        return found

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "Relationship" and attrs.get("TargetMode") != "External":
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                posixpath.join(folder, target))
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), path)

    package.parse(rels_name, start)
    return found


@dataclass
class _Workbook:
    sheet: str = ""
    strings: str | None = None
    styles: str | None = None
    epoch: dt.datetime = WINDOWS_EPOCH
    first_sheet_id: str | None = None


def _workbook(package: Package) -> _Workbook:
    root_rels = _relationships(package, "")
    book_part = next((p for t, p in root_rels.values() if t.endswith("/officeDocument")), "xl/workbook.xml")
    if book_part not in package.infos:
        raise unreadable("the XLSX file has no workbook part", "Plik XLSX nie zawiera skoroszytu.")
    book = _Workbook()

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "workbookPr" and attrs.get("date1904") in {"1", "true"}:
            book.epoch = MAC_EPOCH
        elif tag == "sheet" and book.first_sheet_id is None:
            book.first_sheet_id = attrs.get(f"{OFFICE_REL}}}id")

    package.parse(book_part, start)
    rels = _relationships(package, book_part)
    if book.first_sheet_id not in rels:
        raise unreadable("the XLSX file has no worksheet", "Plik XLSX nie zawiera arkusza.")
    book.sheet = rels[book.first_sheet_id][1]
    for kind, path in rels.values():
        if kind.endswith("/sharedStrings"):
            book.strings = path
        elif kind.endswith("/styles"):
            book.styles = path
    if book.sheet not in package.infos:
        raise unreadable(f"the XLSX file names a worksheet {book.sheet} it does not hold",
                         "Plik XLSX wskazuje arkusz, którego nie zawiera.")
    return book


def _date_styles(package: Package, part: str | None) -> tuple[set[int], set[int]]:
    """Indexes of the cell formats that show dates, and of those that show durations."""
    if part is None or part not in package.infos:
        return set(), set()
    custom: dict[int, str] = {}
    formats: list[int] = []
    inside = [False]

    def start(tag: str, attrs: dict[str, str]) -> None:
        if tag == "numFmt":
            custom[_int(attrs.get("numFmtId"))] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            inside[0] = True
        elif tag == "xf" and inside[0]:
            formats.append(_int(attrs.get("numFmtId")))

    def end(tag: str) -> None:
        if tag == "cellXfs":
            inside[0] = False

    package.parse(part, start, end)
    dates, durations = set(), set()
    for index, fmt_id in enumerate(formats):
        code = custom.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id, "General")
        if is_date_format(code):
            dates.add(index)
            if is_timedelta_format(code):
                durations.add(index)
    return dates, durations


def _int(raw: str | None) -> int:
    try:
        return int(raw or 0)
    except ValueError:
        return -1


@dataclass
class _Text:
    """Text of <t> elements (not of phonetic runs) inside the element being read, cut past the limit."""

    limit: int
    parts: list[str] = field(default_factory=list)
    size: int = 0
    in_t: bool = False
    in_phonetic: bool = False

    def start(self, tag: str) -> None:
        if tag == "t":
            self.in_t = True
        elif tag == "rPh":
            self.in_phonetic = True

    def end(self, tag: str) -> None:
        if tag == "t":
            self.in_t = False
        elif tag == "rPh":
            self.in_phonetic = False

    def add(self, data: str) -> None:
        if self.in_t and not self.in_phonetic and self.size <= self.limit:
            self.parts.append(data)
            self.size += len(data)

    def take(self) -> str:
        text = "".join(self.parts)
        self.parts, self.size = [], 0
        return text


def _shared_strings(package: Package, part: str | None, limits: SheetLimits) -> list[str]:
    """The shared strings; one longer than the cell limit is kept cut to limit + 1 characters."""
    if part is None or part not in package.infos:
        return []
    strings: list[str] = []
    text = _Text(limits.max_cell_chars)

    def start(tag: str, _attrs: dict[str, str]) -> None:
        text.start(tag)

    def end(tag: str) -> None:
        text.end(tag)
        if tag == "si":
            strings.append(text.take()[: limits.max_cell_chars + 1])

    package.parse(part, start, end, text.add, budget=limits.element_budget)
    return strings


# --- the sheet -------------------------------------------------------------------------------------------


def column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class _SheetReader:
    def __init__(self, limits: SheetLimits, strings: list[str], dates: set[int], durations: set[int],
                 epoch: dt.datetime) -> None:
        self.limits = limits
        self.strings = strings
        self.dates, self.durations, self.epoch = dates, durations, epoch
        self.rows: list[tuple[int, list[str]]] = []
        self.data_rows = 0
        self.row = 0
        self.column = 0
        self.cells: dict[int, str] = {}
        self.cell_type = "n"
        self.style = 0
        self.value: list[str] = []
        self.value_size = 0
        self.in_value = False
        self.text = _Text(limits.max_cell_chars)

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "row":
            raw = attrs.get("r")
            self.row = _int(raw) if raw is not None else self.row + 1
            if self.row < 1:
                raise unreadable(f"the sheet has a row numbered {raw!r}",
                                 f"Arkusz ma wiersz o numerze {raw!r}.")
            self.column = 0
            self.cells = {}
        elif tag == "c":
            ref = attrs.get("r")
            match = _CELL_REF.fullmatch(ref) if ref else None
            self.column = column_number(match.group(1)) if match else self.column + 1
            self.cell_type = attrs.get("t", "n")
            self.style = _int(attrs.get("s"))
            self.value, self.value_size = [], 0
            self.text.take()
        elif tag == "v":
            self.in_value = True
        else:
            self.text.start(tag)

    def end(self, tag: str) -> None:
        if tag == "v":
            self.in_value = False
        elif tag == "c":
            value = self._value()
            if value:
                self._check_cell(value)
                self.cells[self.column] = value
        elif tag == "row":
            self._finish_row()
        else:
            self.text.end(tag)

    def data(self, data: str) -> None:
        if self.in_value:
            if self.value_size <= self.limits.max_cell_chars:
                self.value.append(data)
                self.value_size += len(data)
        else:
            self.text.add(data)

    def _value(self) -> str:
        raw = "".join(self.value)
        kind = self.cell_type
        if kind == "inlineStr":
            return self.text.take()
        if not raw:
            return ""
        if kind == "s":
            index = _int(raw)
            if not 0 <= index < len(self.strings):
                raise unreadable(f"cell {self._where()} points at a shared string that does not exist",
                                 f"Komórka {self._where()} wskazuje nieistniejący tekst współdzielony.",
                                 row=self.row)
            return self.strings[index]
        if kind == "b":
            return "True" if raw.strip() in {"1", "true"} else "False"
        if kind == "n" and self.style in self.dates:
            return self._date(raw)
        if kind == "n":
            return _number(raw)
        return raw  # str (a formula's text), e (an error such as #N/A), d (an ISO date)

    def _date(self, raw: str) -> str:
        try:
            value = from_excel(float(raw), self.epoch, timedelta=self.style in self.durations)
        except (ValueError, OverflowError):
            return raw
        if isinstance(value, dt.datetime) and value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat() if hasattr(value, "isoformat") else str(value)

    def _where(self) -> str:
        return f"{column_letters(self.column)}{self.row}"

    def _check_cell(self, value: str) -> None:
        if len(value) > self.limits.max_cell_chars:
            raise too_large(
                f"cell {self._where()} holds more than {self.limits.max_cell_chars} characters",
                f"Komórka {self._where()} ma więcej niż {self.limits.max_cell_chars} znaków.",
                row=self.row, column=column_letters(self.column))
        if self.column > self.limits.max_columns:
            raise too_large(
                f"the sheet has a value in column {column_letters(self.column)}, past the limit of "
                f"{self.limits.max_columns} columns",
                f"Arkusz ma wartość w kolumnie {column_letters(self.column)}, poza limitem "
                f"{self.limits.max_columns} kolumn.", row=self.row, column=column_letters(self.column))

    def _finish_row(self) -> None:
        if not self.cells:
            return
        if self.rows:  # the first non-empty row is the header
            self.data_rows += 1
            if self.data_rows > self.limits.max_rows:
                raise too_large(
                    f"the sheet has more than {self.limits.max_rows} rows of data; reading stopped at row "
                    f"{self.row}",
                    f"Arkusz ma więcej niż {self.limits.max_rows} wierszy danych; czytanie przerwano na "
                    f"wierszu {self.row}.", row=self.row)
        values = [""] * max(self.cells)
        for column, value in self.cells.items():
            values[column - 1] = value
        self.rows.append((self.row, values))


def _number(raw: str) -> str:
    """A number as openpyxl gives it (int when written without a point or exponent), as text."""
    text = raw.strip()
    try:
        if "." in text or "e" in text.lower():
            return str(float(text))
        return str(int(text))
    except ValueError:
        return text


def read_sheet(body: bytes, limits: SheetLimits) -> list[tuple[int, list[str]]]:
    """Non-empty rows of the first worksheet as (row number, cell texts from column A)."""
    package = Package(body, limits)
    package.check_no_dtd()
    book = _workbook(package)
    dates, durations = _date_styles(package, book.styles)
    strings = _shared_strings(package, book.strings, limits)
    reader = _SheetReader(limits, strings, dates, durations, book.epoch)
    package.parse(book.sheet, reader.start, reader.end, reader.data, budget=limits.element_budget)
    return reader.rows
