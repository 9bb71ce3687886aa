"""Spreadsheet submissions under limits (security issue 12).

Found against a fresh server: a 152 KB XLSX that unpacks to a 43 MB sheet took 22 s of CPU and 350 MB,
answered with an 85 MB error report and stalled unrelated requests; a one-column CSV answered 500. The
packages here are written by hand (so that they can lie about themselves) and sent to a real server;
every refusal must leave the store as it was and keep the report small.
"""

from __future__ import annotations

import io
import os
import struct
import threading
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest
import requests

from conftest import create_token, start_server, stop_server

ID = "https://w3id.org/sieci-zit/id/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
MAX_ROWS, MAX_ERRORS, MAX_CHARS = 5000, 100, 200  # the defaults of the settings table
REPORT_BYTES = 64_000  # an error report stays this small, whatever the file

PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/></Types>'),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
        f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
        '<sheet name="records" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
        f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
}


def package(rows_xml: str, strings: list[str] = (), *, prolog: str = "", strings_prolog: str = "",
            extra: dict[str, str] | None = None) -> bytes:
    """An XLSX written by hand: a first sheet holding ``rows_xml`` and shared ``strings``."""
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{MAIN}"><sheetData>'
             f"{rows_xml}</sheetData></worksheet>")
    shared = (f'<?xml version="1.0" encoding="UTF-8"?>{strings_prolog}<sst xmlns="{MAIN}">'
              + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings) + "</sst>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        for name, text in {**PARTS, "xl/worksheets/sheet1.xml": sheet, "xl/sharedStrings.xml": shared,
                           **(extra or {})}.items():
            book.writestr(name, text)
    return out.getvalue()


def row(*indexes: int, r: int | None = None) -> str:
    """A row of shared-string cells (by index), with or without row and cell references."""
    number = f' r="{r}"' if r else ""
    return f"<row{number}>" + "".join(f'<c t="s"><v>{i}</v></c>' for i in indexes) + "</row>"


STRINGS = ["type", "label_pl", "inventory", "x"]


def bomb(rows: int) -> bytes:
    """The attack: a header and identical rows of an unknown record type (one error each), which deflate
    packs about 300 to 1."""
    return package(row(0, 1) + '<row><c t="s"><v>2</v></c><c t="s"><v>3</v></c><c/><c/></row>' * rows, STRINGS)


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("spreadsheets"), query_workers="2")
    running.tokens = {"bof": create_token(running, "bof"),
                      "admin": create_token(running, "metropolia-krakowska", "admin")}
    yield running
    stop_server(running)


def submit(srv, body: bytes, content_type: str = XLSX, **headers: str) -> requests.Response:
    return requests.post(srv.url + "/api/submissions", data=body, timeout=120, headers={
        "Content-Type": content_type, "Authorization": f"Bearer {srv.tokens['bof']}", **headers})


def store_state(srv) -> tuple[int, list[str]]:
    state = requests.get(srv.url + "/api/admin/store", timeout=10,
                         headers={"Authorization": f"Bearer {srv.tokens['admin']}"}).json()
    return state["quads"], state["graphs"]


def refused(srv, body: bytes, status: int, content_type: str = XLSX) -> dict:
    """Submit, expect ``status`` with a small report in Polish and English, and an unchanged store."""
    before = store_state(srv)
    resp = submit(srv, body, content_type)
    assert resp.status_code == status, resp.text[:500]
    assert len(resp.content) < REPORT_BYTES
    answer = resp.json()
    assert answer["status"] == status and answer["message"]
    assert store_state(srv) == before
    return answer


def bilingual(answer: dict) -> dict:
    message = answer["details"]["errors"][0]["message"]
    assert message["pl"] and message["en"]
    return message


# --- the reported attack ------------------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmHWM:", 1)[1].split()[0])


def test_xlsx_bomb_is_refused_before_it_is_unpacked(srv):
    """130 KB that unpacks to 44 MB: refused on the sizes the ZIP declares (413), with a report of a few
    hundred bytes; the web worker spends little CPU and memory on it and answers others meanwhile.
    (Before: 400 after 25 s of CPU, 841 MB peak, a 122 MB report.)"""
    body = bomb(720_000)
    assert len(body) < 200_000
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(body)).infolist()) > 40_000_000
    worker = int(requests.get(srv.url + "/api/queries", timeout=10).headers["Zitkg-Worker"])
    cpu, peak = _cpu_seconds(worker), _peak_rss_kb(worker)
    others: list[float] = []
    stop = threading.Event()

    def unrelated() -> None:
        while not stop.is_set():
            started = time.monotonic()
            assert requests.get(srv.url + "/api/queries", timeout=60).status_code == 200
            others.append(time.monotonic() - started)
            time.sleep(0.05)

    probe = threading.Thread(target=unrelated)
    probe.start()
    try:
        answer = refused(srv, body, 413)
    finally:
        stop.set()
        probe.join()
    assert "unpacks to" in answer["message"] and "20000000" in answer["message"]
    assert "rozpakowaniu" in bilingual(answer)["pl"]
    assert others and max(others) < 5  # generous: the unrelated requests were not stalled
    assert _cpu_seconds(worker) - cpu < 5
    assert _peak_rss_kb(worker) - peak < 150_000


def test_rows_past_the_limit_stop_the_reading(srv):
    """Under the unpacked limit (18 MB) but 300,000 rows: reading stops at the first row past 5,000."""
    answer = refused(srv, bomb(300_000), 413)
    assert f"more than {MAX_ROWS} rows" in answer["message"]
    assert answer["details"]["errors"][0]["row"] == MAX_ROWS + 2
    assert bilingual(answer)["pl"].startswith("Arkusz ma więcej")


def test_rows_at_the_limit_are_read_and_the_report_is_capped(srv):
    """Exactly 5,000 rows, each with an error: all are read, 100 are listed, the rest counted."""
    answer = refused(srv, bomb(MAX_ROWS), 400)
    errors = answer["details"]["errors"]
    assert len(errors) == MAX_ERRORS and errors[0]["row"] == 2
    assert answer["details"]["errorsOmitted"] == MAX_ROWS - MAX_ERRORS
    assert f"{MAX_ROWS} row(s)" in answer["message"]


# --- shapes a sheet can take -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rows_xml", "strings", "expect"), [
    pytest.param(row(0, r=1) + '<row r="5"><c r="XFD5" t="s"><v>1</v></c></row>', ["type", "x"],
                 "column XFD", id="a value far to the right"),
    pytest.param(row(0) + "<row>" + "<c/>" * 2_000_000 + "</row>", ["type"],
                 "XML elements", id="two million empty cells"),
    pytest.param(row(0) + "<row/>" * 2_000_000, ["type"], "XML elements", id="two million empty rows"),
    pytest.param(row(0) + row(1), ["type", "x" * 50_000], "characters", id="a cell of 50,000 characters"),
    pytest.param(row(0) + row(7), ["type"], "shared string", id="a shared string that does not exist"),
    pytest.param(row(0) + '<row r="-4"><c t="s"><v>0</v></c></row>', ["type"], "row numbered",
                 id="a negative row number"),
])
def test_hostile_sheets_are_4xx(srv, rows_xml, strings, expect):
    started = time.monotonic()
    resp = submit(srv, package(rows_xml, strings))
    assert 400 <= resp.status_code < 500, resp.text[:300]
    assert len(resp.content) < REPORT_BYTES
    assert expect in resp.text
    assert time.monotonic() - started < 30  # generous: no sheet takes long


def test_sheet_with_a_cell_far_below_is_read_without_the_gap(srv):
    """openpyxl filled the gap with a million empty rows; the sheet's own row number is kept."""
    resp = submit(srv, package(row(0, 1, r=1) + '<row r="900000"><c r="A900000" t="s"><v>2</v></c>'
                                                '<c r="B900000" t="s"><v>3</v></c></row>', STRINGS))
    assert resp.status_code == 400
    assert resp.json()["details"]["errors"] == [{"row": 900000, "column": "type", "message": {
        "pl": "nieznany rodzaj rekordu (practice, pilot, expert)",
        "en": "unknown record type (practice, pilot, expert)"}}]


# --- XML and ZIP tricks ------------------------------------------------------------------------------------------

LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
                    for i in range(1, 10)) + "]>")


def test_billion_laughs_is_refused_unexpanded(srv):
    answer = refused(srv, package(row(0) + row(1), ["type", "&lol9;"], strings_prolog=LAUGHS), 400)
    assert "DTD" in answer["message"] and "sharedStrings" in answer["message"]
    assert "lol" not in str(answer["details"])


def test_external_entity_is_refused_and_never_fetched(srv, listener):
    dtd = (f'<!DOCTYPE sst [<!ENTITY ext SYSTEM "http://127.0.0.1:{listener.port}/ext">'
           '<!ENTITY file SYSTEM "file:///etc/passwd">]>')
    answer = refused(srv, package(row(0) + row(1), ["type", "&ext;&file;"], strings_prolog=dtd), 400)
    assert "DTD" in answer["message"]
    assert "root:" not in str(answer)
    time.sleep(0.5)
    assert listener.connections == []


def test_dtd_in_a_part_the_reader_does_not_need_is_refused_too(srv):
    core = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">&a;'
            "</cp:coreProperties>")
    answer = refused(srv, package(row(0) + row(1), ["type", "practice"], extra={"docProps/core.xml": core}), 400)
    assert "docProps/core.xml" in answer["message"]


def _declare(body: bytes, name: bytes, size: int) -> bytes:
    """The same ZIP with the uncompressed size of one part changed in both of its headers."""
    data = bytearray(body)
    local = data.find(b"PK\x03\x04")
    while local != -1:
        name_len = struct.unpack_from("<H", data, local + 26)[0]
        if data[local + 30 : local + 30 + name_len] == name:
            struct.pack_into("<I", data, local + 22, size)
            break
        local = data.find(b"PK\x03\x04", local + 4)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_len] == name:
            struct.pack_into("<I", data, central + 24, size)
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def test_part_larger_than_it_declares_is_refused(srv):
    """The ZIP claims the 4 MB sheet is 1 KB: unpacking stops at the claim (the part fails its checksum)."""
    honest = package(row(0, 1) + row(2, 3) * 200_000, STRINGS)
    lying = _declare(honest, b"xl/worksheets/sheet1.xml", 1000)
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(lying)).infolist()) < 10_000
    answer = refused(srv, lying, 400)
    assert "sheet1.xml" in answer["message"]


@pytest.mark.parametrize("body", [b"not a zip", b"PK\x03\x04" + b"\0" * 100, bomb(10)[:-30],
                                  package("<row><c t='s'><v>0</v></row>", ["type"])],
                         ids=["text", "a ZIP header only", "a cut ZIP", "XML that is not well-formed"])
def test_broken_files_are_400(srv, body):
    refused(srv, body, 400)


# --- files people actually send ----------------------------------------------------------------------------------


def test_workbook_from_a_spreadsheet_program_is_read(srv):
    """Positive control: a workbook written by openpyxl, with a real Excel date and a number."""
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["type", "key", "label_pl", "label_en", "description_pl", "description_en", "theme", "status",
                  "originator", "network", "created"])
    sheet.append(["practice", "P1", "Wspólne zakupy arkuszowe", "Spreadsheet joint purchasing", "Opis.",
                  "Description.", "energy-efficiency", "piloted", "bof", "co4energy", dt.date(2025, 9, 1)])
    out = io.BytesIO()
    book.save(out)
    resp = submit(srv, out.getvalue())
    assert resp.status_code == 201, resp.text[:500]
    assert any("/practice/wspolne-zakupy-arkuszowe" in d for d in resp.json()["describes"])


def test_the_empty_template_says_it_holds_no_records(srv):
    template = requests.get(srv.url + "/api/submissions/template.xlsx", timeout=10).content
    assert "no records" in refused(srv, template, 400)["message"]


# --- CSV ------------------------------------------------------------------------------------------------------------

CSV = "text/csv"


@pytest.mark.parametrize("body", [b"type\npractice\n", b"type\r\npractice\r\n", b"label_pl\nx\n", b"type\n",
                                  b"\xef\xbb\xbftype\npractice\n"],
                         ids=["one column", "one column, CRLF", "one column, no type", "header only", "BOM"])
def test_one_column_csv_is_4xx_with_a_message(srv, body):
    resp = submit(srv, body, CSV)
    assert resp.status_code in {400, 422}, resp.text[:300]
    assert resp.json()["message"]


@pytest.mark.parametrize(("body", "status", "expect"), [
    (b"type,label_pl\n" + b"practice,x\n" * (MAX_ROWS + 1), 413, "more than 5000 rows"),
    (b"type,label_pl\npractice," + b"x" * 10_001 + b"\n", 413, "more than 10000 characters"),
    (b'type,label_pl\npractice,"' + b"x" * 200_000 + b'"\n', 413, "characters"),
    (b"type," + b",".join(b"c%d" % i for i in range(60)) + b"\n", 413, "column"),
    (b"type,label_pl\npractice,\"unterminated\n" + b"x" * 150_000, 413, "characters"),
    (b"type,label_pl\npractice,\xff\xfe\n", 400, "UTF-8"),
    (b"type\x00,label_pl\npractice\x00,x\n", 400, "unknown columns"),
], ids=["rows", "cell", "cell past csv's own limit", "columns", "unterminated quote", "not UTF-8", "NUL"])
def test_hostile_csv_is_4xx(srv, body, status, expect):
    answer = refused(srv, body, status, CSV)
    assert expect in answer["message"]


def test_csv_row_errors_are_capped_and_values_cut(srv):
    long_date = "2025-" + "9" * 5000
    body = ("type,label_pl,created\n" + f"practice,x,{long_date}\n" * 300).encode()
    answer = refused(srv, body, 400, CSV)
    errors = answer["details"]["errors"]
    assert len(errors) == MAX_ERRORS and answer["details"]["errorsOmitted"] == 300 - MAX_ERRORS
    assert all(len(e["message"]["en"]) < 2 * MAX_CHARS + 100 for e in errors)
    assert "is not a date" in errors[0]["message"]["en"]  # the sentence survives the cut value
    assert "(5005 characters)" in errors[0]["message"]["en"]


def test_shacl_results_are_capped_in_json_and_turtle(srv):
    """150 practices without a theme: a 422 listing 100 results, the rest counted, in both report forms."""
    rows = "".join(f"practice,Praktyka {i},Practice {i},Opis.,Description.,,proposed,bof,,2025-09-15\n"
                   for i in range(150))
    body = ("type,label_pl,label_en,description_pl,description_en,theme,status,originator,network,created\n"
            + rows).encode()
    answer = refused(srv, body, 422, CSV)
    assert len(answer["details"]["results"]) == MAX_ERRORS
    assert answer["details"]["resultsOmitted"] >= 50
    turtle = submit(srv, body, CSV, Accept="text/turtle")
    assert turtle.status_code == 422 and turtle.headers["Content-Type"].startswith("text/turtle")
    assert turtle.text.count("sh:focusNode") == MAX_ERRORS
    assert "more results not listed" in turtle.text
