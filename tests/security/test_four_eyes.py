"""Four eyes: a reviewer cannot publish its own organisation's submission; an admin can, and it is logged."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from conftest import auth, create_token, start_server, stop_server

ID = "https://w3id.org/sieci-zit/id/"
PRACTICE = (Path(__file__).resolve().parents[1] / "data" / "practice-with-pilot.ttl").read_bytes()


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("four-eyes")
    server = start_server(tmp, query_workers="2")
    try:
        server.log = next(tmp.glob("server-*.log"))
        server.tokens = {
            "bof": create_token(server, "bof"),
            "bof-reviewer": create_token(server, "bof", "reviewer"),
            "bof-admin": create_token(server, "bof", "admin"),
            "lom-reviewer": create_token(server, "lom", "reviewer"),
        }
        yield server
    finally:
        stop_server(server)


def submit(srv, label: str) -> dict:
    body = PRACTICE.replace("Wspólne zakupy energii dla gmin MOF".encode(), label.encode())
    resp = requests.post(srv.url + "/api/submissions", data=body, timeout=60,
                         headers={"Content-Type": "text/turtle", **auth(srv.tokens["bof"])})
    assert resp.status_code == 201, resp.text
    return resp.json()


def is_public(srv, label: str) -> bool:
    query = f'ASK {{ ?s <http://www.w3.org/2000/01/rdf-schema#label> "{label}"@pl }}'
    return requests.get(srv.sparql, params={"query": query}, timeout=30).json()["boolean"]


def test_a_reviewer_cannot_publish_its_own_organisations_submission(srv):
    created = submit(srv, "Praktyka własna recenzenta")
    resp = requests.post(created["links"]["publish"], headers=auth(srv.tokens["bof-reviewer"]), timeout=30)
    assert resp.status_code == 403, resp.text
    body = resp.json()
    assert "four-eyes" in body["message"] and "own organisation" in body["message"]
    assert "czterech oczu" in body["details"]["summary"]["pl"] and "Four-eyes" in body["details"]["summary"]["en"]
    # nothing changed: still pending, not public
    shown = requests.get(created["links"]["self"], headers=auth(srv.tokens["bof"]), timeout=30).json()
    assert shown["status"] == "pending" and not is_public(srv, "Praktyka własna recenzenta")
    # the HTML answer (the review page in a browser) says it too
    page = requests.post(created["links"]["publish"], timeout=30,
                         headers={"Accept": "text/html", **auth(srv.tokens["bof-reviewer"])})
    assert page.status_code == 403 and "four-eyes" in page.text
    # a reviewer of another organisation can
    other = requests.post(created["links"]["publish"], headers=auth(srv.tokens["lom-reviewer"]), timeout=30)
    assert other.status_code == 200 and other.json()["status"] == "published"
    assert is_public(srv, "Praktyka własna recenzenta")


def test_an_admin_can_publish_its_own_organisations_submission_and_it_is_logged(srv):
    created = submit(srv, "Praktyka zatwierdzona przez administratora")
    resp = requests.post(created["links"]["publish"], headers=auth(srv.tokens["bof-admin"]), timeout=30)
    assert resp.status_code == 200, resp.text
    assert is_public(srv, "Praktyka zatwierdzona przez administratora")
    token_id = srv.tokens["bof-admin"].split("_")[1]
    lines = [line for line in srv.log.read_text(errors="replace").splitlines() if "four-eyes override" in line]
    assert any(token_id in line and created["id"] in line and f"{ID}org/bof" in line for line in lines), lines


def test_the_review_of_another_organisation_is_not_logged_as_an_override(srv):
    created = submit(srv, "Praktyka zwykłej recenzji")
    resp = requests.post(created["links"]["publish"], headers=auth(srv.tokens["lom-reviewer"]), timeout=30)
    assert resp.status_code == 200
    assert created["id"] not in srv.log.read_text(errors="replace")


def test_a_submitter_still_cannot_publish_at_all(srv):
    created = submit(srv, "Praktyka zgłaszającego")
    resp = requests.post(created["links"]["publish"], headers=auth(srv.tokens["bof"]), timeout=30)
    assert resp.status_code == 403 and not is_public(srv, "Praktyka zgłaszającego")


@pytest.mark.parametrize("subject", ["<urn:x:a>", "<https://example.org/a>", "<http://www.w3.org/ns/org#Organization>",
                                     "<https://w3id.org/sieci-zit/other/a>", "<https://w3id.org/sieci-zit/ontology#X>"])
def test_a_submission_describes_only_records_of_the_graph(srv, subject) -> None:
    """Subjects outside {base}id/ (vocabulary terms, other sites, other parts of the base) are refused:
    a submission may link to them, never say things about them."""
    body = (f"@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
            f"{subject} rdfs:label \"przejęte\"@pl .\n")
    reply = requests.post(srv.url + "/api/submissions", data=body.encode(), timeout=30,
                          headers={"Content-Type": "text/turtle", **auth(srv.tokens["bof"])})
    assert reply.status_code in {403, 422}, reply.text[:300]  # 422: a scheme that may not even be a link
    details = reply.json()["details"]
    assert subject[1:-1] in {details.get("focusNode"), *(r["focusNode"] for r in details.get("results", []))}
