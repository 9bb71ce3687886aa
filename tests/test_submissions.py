"""Submissions against a real server: submit → review → public; invalid, unauthorised and broken input
change nothing; concurrent submissions all land; a killed server keeps all of a submission or none."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from conftest import start_server, stop_server, wait_until_up

ID = "https://w3id.org/sieci-zit/id/"
ZIT = "https://w3id.org/sieci-zit/ontology#"
DATA = Path(__file__).resolve().parent / "data"
PRACTICE = (DATA / "practice-with-pilot.ttl").read_bytes()


def create_token(server, org: str, role: str = "submitter") -> str:
    """Through the CLI while the server runs, as an administrator would."""
    result = subprocess.run(
        [sys.executable, "-m", "zitkg", "token", "create", "--org", ID + "org/" + org, "--role", role,
         "--store", str(server.store)],
        capture_output=True, text=True, check=True, env=server.env,
    )
    return result.stdout.strip()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("submissions"), max_body_bytes="300000")
    running.tokens = {
        "bof": create_token(running, "bof"),
        "lom": create_token(running, "lom"),
        "reviewer": create_token(running, "metropolia-krakowska", "reviewer"),
        "admin": create_token(running, "metropolia-krakowska", "admin"),
    }
    yield running
    stop_server(running)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def submit(srv, body: bytes, token: str, content_type: str = "text/turtle") -> requests.Response:
    return requests.post(srv.url + "/api/submissions", data=body, timeout=60,
                         headers={"Content-Type": content_type, **auth(token)})


def sparql_ask(srv, query: str) -> bool:
    return requests.get(srv.url + "/sparql", params={"query": query}, timeout=30).json()["boolean"]


def store_state(srv) -> tuple[int, list[str]]:
    """Quad count and every graph (published or not) of the server's store."""
    state = requests.get(srv.url + "/api/admin/store", headers=auth(srv.tokens["admin"]), timeout=10).json()
    return state["quads"], state["graphs"]


def test_valid_practice_goes_submit_publish_public(srv):
    resp = submit(srv, PRACTICE, srv.tokens["bof"])
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert resp.headers["Location"].endswith(created["id"]) and created["status"] == "pending"
    practice = next(d for d in created["describes"] if "/practice/" in d)
    assert practice.startswith(ID + "practice/wspolne-zakupy-energii")
    warnings = [r for r in created["report"]["results"] if r["severity"] == "Warning"]
    assert all(r["message"]["pl"] and r["message"]["en"] for r in warnings)
    # pending: not public, but visible to its owner and to reviewers
    assert not sparql_ask(srv, f"ASK {{ <{practice}> ?p ?o }}")
    assert requests.get(f"{srv.url}/id/practice/{practice.rsplit('/', 1)[1]}", timeout=10).status_code == 404
    mine = requests.get(srv.url + "/api/submissions", headers=auth(srv.tokens["bof"]), timeout=10).json()
    assert created["id"] in [s["id"] for s in mine["submissions"]]
    shown = requests.get(created["links"]["self"], headers=auth(srv.tokens["bof"]), timeout=10).json()
    assert "Wspólne zakupy energii" in shown["content"]
    assert requests.get(created["links"]["self"], headers=auth(srv.tokens["lom"]), timeout=10).status_code == 403
    # a submitter cannot publish; a reviewer can
    assert requests.post(created["links"]["publish"], headers=auth(srv.tokens["bof"]), timeout=10).status_code == 403
    published = requests.post(created["links"]["publish"], headers=auth(srv.tokens["reviewer"]), timeout=30)
    assert published.status_code == 200 and published.json()["status"] == "published"
    assert sparql_ask(srv, f"ASK {{ <{practice}> a <{ZIT}GoodPractice> ; <{ZIT}theme> ?t }}")
    page = requests.get(f"{srv.url}/id/practice/{practice.rsplit('/', 1)[1]}", timeout=10)
    assert page.status_code == 200 and "Wspólne zakupy energii dla gmin MOF" in page.text
    # where each statement comes from: the submission, by whom and when
    assert f"zgłoszenie: Stowarzyszenie Białostockiego Obszaru Funkcjonalnego, {published.json()['created'][:10]}" \
        in page.text
    who = f"ASK {{ ?sub <http://www.w3.org/ns/prov#wasAttributedTo> <{ID}org/bof> ; <{ZIT}submissionGraph> ?g }}"
    assert sparql_ask(srv, who)
    again = requests.post(created["links"]["publish"], headers=auth(srv.tokens["reviewer"]), timeout=10)
    assert again.status_code == 409


INVALID = """
@prefix zit: <https://w3id.org/sieci-zit/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://w3id.org/sieci-zit/id/pilot/zly-pilot> a zit:Pilot ;
    rdfs:label "Zły pilotaż"@pl , "Bad pilot"@en ;
    zit:pilotOf <https://w3id.org/sieci-zit/id/org/bof> ;
    zit:pilotLocation <https://w3id.org/sieci-zit/id/mof/bialystok> ;
    zit:implementedBy <https://w3id.org/sieci-zit/id/org/bof> ;
    schema:startDate "2026-05-01"^^xsd:date ;
    schema:endDate "2025-01-01"^^xsd:date .
""".encode()


def test_invalid_submission_gets_422_with_every_result_and_changes_nothing(srv):
    before = store_state(srv)
    resp = submit(srv, INVALID, srv.tokens["bof"])
    assert resp.status_code == 422
    body = resp.json()
    assert body["error"] == "validation-failed"
    assert body["details"]["summary"]["pl"].startswith("Zgłoszenie ma błędy (2); nic nie zapisano.")
    results = {(r["focusNode"], r["path"], r["severity"], r["component"]) for r in body["details"]["results"]}
    pilot = ID + "pilot/zly-pilot"
    assert results == {
        (pilot, ZIT + "pilotOf", "Violation", "ClassConstraintComponent"),
        (pilot, "https://schema.org/endDate", "Violation", "SPARQLConstraintComponent"),  # start after end
        (pilot, "http://purl.org/dc/terms/description", "Warning", "QualifiedMinCountConstraintComponent"),
    }
    dates = next(r for r in body["details"]["results"] if r["component"] == "SPARQLConstraintComponent")
    assert "2026-05-01" in dates["message"]["pl"] and "2025-01-01" in dates["message"]["en"]
    assert all(r["message"]["pl"] and r["message"]["en"] for r in body["details"]["results"])
    assert store_state(srv) == before


def test_report_as_turtle_on_request(srv):
    resp = requests.post(srv.url + "/api/submissions", data=INVALID, timeout=30, headers={
        "Content-Type": "text/turtle", "Accept": "text/turtle", **auth(srv.tokens["bof"])})
    assert resp.status_code == 422 and resp.headers["Content-Type"].startswith("text/turtle")
    from rdflib import Graph
    from rdflib.namespace import SH

    report = Graph().parse(data=resp.text, format="turtle")
    assert (None, SH.conforms, None) in report and len(list(report.subjects(None, SH.ValidationResult))) >= 2


def test_no_token_401_and_bad_token_401(srv):
    assert submit(srv, PRACTICE, "").status_code == 401
    resp = submit(srv, PRACTICE, "zitkg_000000000000_wrong")
    assert resp.status_code == 401 and resp.json()["error"] == "unauthorized"


def test_describing_another_organisations_record_is_403(srv):
    created = submit(srv, PRACTICE, srv.tokens["bof"]).json()
    practice = next(d for d in created["describes"] if "/practice/" in d)
    before = store_state(srv)
    hijack = f'<{practice}> <http://www.w3.org/2000/01/rdf-schema#label> "Przejęte"@pl .'.encode()
    resp = submit(srv, hijack, srv.tokens["lom"])
    assert resp.status_code == 403 and resp.json()["details"]["focusNode"] == practice
    programme = f'<{ID}org/bof> <http://www.w3.org/2000/01/rdf-schema#label> "X"@pl .'.encode()
    assert submit(srv, programme, srv.tokens["bof"]).status_code == 403
    for method in ("put", "delete"):
        resp = getattr(requests, method)(created["links"]["self"], data=PRACTICE, timeout=10,
                                         headers={"Content-Type": "text/turtle", **auth(srv.tokens["lom"])})
        assert resp.status_code == 403
    assert store_state(srv) == before
    assert requests.delete(created["links"]["self"], headers=auth(srv.tokens["bof"]), timeout=10).status_code == 204


@pytest.mark.parametrize(
    ("content_type", "body", "line"),
    [
        ("text/turtle", b"<urn:a> <urn:b> <urn:c> .\n<urn:a> <urn:b> \"unterminated .\n", 2),
        ("application/ld+json", b'{"@id": "urn:a",\n "urn:b": [1, 2,,]}', 2),
    ],
)
def test_malformed_input_is_400_with_position(srv, content_type, body, line):
    before = store_state(srv)
    resp = submit(srv, body, srv.tokens["bof"], content_type)
    assert resp.status_code == 400
    assert resp.json()["details"]["line"] == line
    assert store_state(srv) == before


def test_oversize_body_is_413(srv):
    resp = submit(srv, b"#" * 400_000, srv.tokens["bof"])
    assert resp.status_code == 413


def test_plain_json_with_the_published_context(srv):
    context = requests.get(srv.url + "/context.jsonld", timeout=10).json()
    assert "@context" in context
    record = {
        "@context": srv.url + "/context.jsonld",
        "type": "GoodPractice",
        "label": {"pl": "Mapa barier dostępności w MOF", "en": "Map of accessibility barriers in the FUA"},
        "description": {"pl": "Wspólny przegląd barier.", "en": "A joint survey of barriers."},
        "theme": "theme/accessibility",
        "lifecycleStatus": "practice-status/proposed",
        "originator": "org/lom",
        "created": "2025-11-02",
    }
    resp = submit(srv, json.dumps(record).encode(), srv.tokens["lom"], "application/json")
    assert resp.status_code == 201, resp.text
    assert any("/practice/mapa-barier" in d for d in resp.json()["describes"])


def test_reject_with_reason_stays_private(srv):
    created = submit(srv, PRACTICE, srv.tokens["bof"]).json()
    no_reason = requests.post(created["links"]["reject"], json={"reason": " "}, timeout=10,
                              headers=auth(srv.tokens["reviewer"]))
    assert no_reason.status_code == 400
    resp = requests.post(created["links"]["reject"], json={"reason": "Brak wskaźników rezultatu."}, timeout=10,
                         headers=auth(srv.tokens["reviewer"]))
    assert resp.status_code == 200 and resp.json()["status"] == "rejected"
    practice = next(d for d in created["describes"] if "/practice/" in d)
    assert not sparql_ask(srv, f"ASK {{ <{practice}> ?p ?o }}")
    seen = requests.get(created["links"]["self"], headers=auth(srv.tokens["bof"]), timeout=10).json()
    assert seen["rejectionReason"] == "Brak wskaźników rezultatu."


def test_revision_of_a_published_record_goes_through_review(srv):
    first = submit(srv, PRACTICE, srv.tokens["bof"]).json()
    requests.post(first["links"]["publish"], headers=auth(srv.tokens["reviewer"]), timeout=30).raise_for_status()
    practice = next(d for d in first["describes"] if "/practice/" in d)
    revised = PRACTICE.decode().replace("_:practice a", f"<{practice}> a").replace("_:practice ;", f"<{practice}> ;")
    revised = revised.replace("Wspólne zakupy energii dla gmin MOF", "Wspólne zakupy energii i gazu dla gmin MOF")
    second = submit(srv, revised.encode(), srv.tokens["bof"]).json()
    assert second["version"] == 2 and second["revisionOf"] == [first["iri"]]
    label = f'ASK {{ <{practice}> ?p "Wspólne zakupy energii dla gmin MOF"@pl }}'
    assert sparql_ask(srv, label)  # the old version stays visible until the new one is published
    requests.post(second["links"]["publish"], headers=auth(srv.tokens["reviewer"]), timeout=30).raise_for_status()
    assert not sparql_ask(srv, label)
    assert sparql_ask(srv, f'ASK {{ <{practice}> ?p "Wspólne zakupy energii i gazu dla gmin MOF"@pl }}')
    old = requests.get(first["links"]["self"], headers=auth(srv.tokens["bof"]), timeout=10).json()
    assert old["status"] == "superseded"


def test_eight_concurrent_submissions_all_land_once(srv):
    results: list[requests.Response] = []

    def one(i: int) -> None:
        body = PRACTICE.replace("Wspólne zakupy energii dla gmin MOF".encode(), f"Równoległa praktyka {i}".encode())
        results.append(submit(srv, body, srv.tokens["bof"]))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [201] * 8
    ids = {r.json()["id"] for r in results}
    assert len(ids) == 8
    listed = requests.get(srv.url + "/api/submissions", headers=auth(srv.tokens["bof"]), timeout=10).json()
    labels = [s for s in listed["submissions"] if s["id"] in ids]
    assert len(labels) == 8
    contents = [requests.get(s["links"]["self"], headers=auth(srv.tokens["bof"]), timeout=10).json()["content"]
                for s in labels]
    for i in range(8):
        assert sum(c.count(f'"Równoległa praktyka {i}"@pl') for c in contents) == 1, i


def test_expert_contact_without_consent_is_never_public(srv):
    body = b"""
@prefix zit: <https://w3id.org/sieci-zit/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix schema: <https://schema.org/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
_:a a zit:Expert ; rdfs:label "Ekspertka Zgodna"@pl , "Consenting Expert"@en ; foaf:name "Ekspertka Zgodna" ;
  dcterms:description "Rekord testowy."@pl , "A test record."@en ;
  zit:competence <https://w3id.org/sieci-zit/id/theme/climate> ;
  schema:email "zgodna@example.org" ; zit:consentedField schema:email .
_:b a zit:Expert ; rdfs:label "Ekspert Bez Zgody"@pl , "Expert Without Consent"@en ; foaf:name "Ekspert Bez Zgody" ;
  dcterms:description "Rekord testowy."@pl , "A test record."@en ;
  zit:competence <https://w3id.org/sieci-zit/id/theme/climate> ;
  schema:email "bezzgody@example.org" ; schema:telephone "+48 000 000 999" .
"""
    created = submit(srv, body, srv.tokens["bof"])
    assert created.status_code == 201, created.text
    requests.post(created.json()["links"]["publish"], headers=auth(srv.tokens["reviewer"]),
                  timeout=30).raise_for_status()
    assert sparql_ask(srv, 'ASK { ?e <https://schema.org/email> "zgodna@example.org" }')
    for secret in ('"bezzgody@example.org"', '"+48 000 000 999"'):
        assert not sparql_ask(srv, f"ASK {{ {{ ?e ?p {secret} }} UNION {{ GRAPH ?g {{ ?e ?p {secret} }} }} }}")
    expert = next(d for d in created.json()["describes"] if "ekspert-bez-zgody" in d)
    for suffix in ("", ".ttl", ".jsonld", ".nt", ".rdf"):
        page = requests.get(f"{srv.url}/id/expert/{expert.rsplit('/', 1)[1]}{suffix}", timeout=10)
        assert page.status_code == 200 and "bezzgody" not in page.text and "000 000 999" not in page.text


@pytest.mark.slow
def test_server_killed_mid_submission_keeps_all_or_nothing(tmp_path):
    running = start_server(tmp_path, max_body_bytes="20000000")
    token = create_token(running, "bof")
    records = []
    for i in range(400):
        records.append(PRACTICE.decode().split("_:pilot")[0]
                       .replace("_:practice", f"_:p{i}")
                       .replace("Wspólne zakupy energii dla gmin MOF", f"Praktyka masowa {i}")
                       .replace("@prefix", f"# {i}\n@prefix" if i else "@prefix"))
    header = "\n".join(line for line in records[0].splitlines() if line.startswith("@"))
    body = (header + "\n" + "\n".join("\n".join(line for line in r.splitlines() if not line.startswith("@"))
                                      for r in records)).encode()

    def send() -> None:
        try:
            submit(running, body, token)
        except requests.RequestException:
            pass

    thread = threading.Thread(target=send)
    thread.start()
    time.sleep(1.0)
    # The whole process tree dies at once, as in a power cut: granian's master, its worker, query workers.
    tree = [running.process.pid, *_children(running.process.pid)]
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    running.process.wait()
    _wait_gone(tree[1:])
    thread.join()
    store = ox.Store(str(running.store))  # opening for writing runs RocksDB's crash recovery, as a restart does
    landed = [i for i in range(400)
              if list(store.quads_for_pattern(None, None, ox.Literal(f"Praktyka masowa {i}", language="pl"), None))]
    assert landed in ([], list(range(400)))
    del store
    restarted = subprocess.Popen(running.process.args, env=running.env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    try:
        wait_until_up(running.url, restarted)
        count = requests.get(running.url + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"},
                             timeout=10).json()["results"]["bindings"][0]["n"]["value"]
        assert int(count) > 3000
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)


def _wait_gone(pids: list[int], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while any(Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) for pid in pids):
        if time.monotonic() > deadline:
            raise AssertionError(f"processes still alive after SIGKILL: {pids}")
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:", 1)[1].split("\n", 1)[0].lower()
    except (FileNotFoundError, IndexError):
        return "zombie"


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            direct = [int(c) for c in fh.read().split()]
    except FileNotFoundError:
        return []
    return direct + [g for c in direct for g in _children(c)]


CSV_HEADER = "type,key,label_pl,label_en,description_pl,description_en,theme,status,originator,network,created," \
             "practice,mof,organisation,start,end,budget_pln\n"


def test_csv_template_with_a_practice_and_its_pilot(srv):
    template = requests.get(srv.url + "/api/submissions/template.csv", timeout=10)
    assert template.text.splitlines()[0].startswith("type,key,label_pl")
    columns = requests.get(srv.url + "/api/submissions/template", timeout=10).json()["columns"]
    assert all(c["pl"] and c["en"] for c in columns)
    body = CSV_HEADER + (
        "practice,P1,Wspólny audyt energetyczny szkół,Joint energy audit of schools,Audyt szkół w gminach MOF.,"
        "An audit of schools in the FUA municipalities.,energy-efficiency,piloted,bof,co4energy,2025-09-15,,,,,,\n"
        "pilot,,Pilotaż audytu – MOF Białegostoku,Audit pilot – Białystok FUA,Pilotaż.,A pilot.,,,,co4energy,,"
        "P1,bialystok,bof,2025-10-01,2026-03-31,45000.00\n"
    )
    resp = submit(srv, body.encode(), srv.tokens["bof"], "text/csv")
    assert resp.status_code == 201, resp.text
    describes = resp.json()["describes"]
    assert any("/practice/wspolny-audyt-energetyczny-szkol" in d for d in describes)
    assert any("/pilot/pilotaz-audytu" in d for d in describes)


def test_xlsx_template_downloads_with_documented_columns(srv):
    import io

    import openpyxl

    resp = requests.get(srv.url + "/api/submissions/template.xlsx", timeout=10)
    book = openpyxl.load_workbook(io.BytesIO(resp.content))
    assert [c.value for c in book["records"][1]][:3] == ["type", "key", "label_pl"]
    docs = list(book["kolumny-columns"].iter_rows(values_only=True))
    assert docs[1][0] == "type" and docs[1][1] and docs[1][2]


def test_csv_with_three_bad_rows_reports_all_three(srv):
    before = store_state(srv)
    good = ("practice,,Dobra praktyka,Good practice,Opis.,Description.,climate,proposed,bof,,2025-09-15,,,,,,\n")
    body = CSV_HEADER + good + (
        "practice,,Bez tematu,No theme,Opis.,Description.,,proposed,bof,,2025-09-15,,,,,,\n"
        "practice,,Zły etap,Bad stage,Opis.,Description.,climate,invented-stage,bof,,2025-09-15,,,,,,\n"
        "practice,,Bez autora,No originator,Opis.,Description.,climate,proposed,,,2025-09-15,,,,,,\n"
    )
    resp = submit(srv, body.encode(), srv.tokens["bof"], "text/csv")
    assert resp.status_code == 422
    violations = [r for r in resp.json()["details"]["results"] if r["severity"] == "Violation"]
    assert {(r["row"], r["column"]) for r in violations} == {(3, "theme"), (4, "status"), (5, "originator")}
    assert store_state(srv) == before


def test_csv_unreadable_cells_are_400_with_row_and_column(srv):
    body = CSV_HEADER + (
        "practice,,A,A,,,climate,proposed,bof,,15.09.2025,,,,,,\n"
        "inventory,,B,B,,,,,,,,,,,,,\n"
        "pilot,,C,C,,,,,,,,nope nope,bialystok,bof,2025-10-01,2026-01-01,12x\n"
    )
    resp = submit(srv, body.encode(), srv.tokens["bof"], "text/csv")
    assert resp.status_code == 400
    places = {(e["row"], e["column"]) for e in resp.json()["details"]["errors"]}
    assert places == {(2, "created"), (3, "type"), (4, "practice"), (4, "budget_pln")}
