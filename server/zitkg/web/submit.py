"""The submissions API: ZIT associations send records, reviewers publish or reject them."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, json, request, url_for

from zitkg import csv_template
from zitkg.accounts import Account
from zitkg.errors import BadRequest
from zitkg.submissions import Submission, Submissions, json_ld_context
from zitkg.web import bodies

bp = Blueprint("submit", __name__)


def _submissions() -> Submissions:
    return current_app.extensions["zitkg"]["submissions"]


def _account() -> Account:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    return current_app.extensions["zitkg"]["accounts"].authenticate(token)


def _json(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json",
                    headers=headers or {})


def _body() -> tuple[bytes, str]:
    return bodies.request_body(), request.mimetype


def _with_links(submission: Submission) -> dict:
    data = submission.to_dict()
    data["links"] = {
        "self": url_for("submit.show", sid=submission.id, _external=True),
        "publish": url_for("submit.publish", sid=submission.id, _external=True),
        "reject": url_for("submit.reject", sid=submission.id, _external=True),
        "confirm": url_for("submit.confirm", sid=submission.id, _external=True),
    }
    return data


@bp.post("/api/submissions")
def create() -> Response:
    account = _account()
    body, media_type = _body()
    submission = _submissions().create(body, media_type, account)
    location = url_for("submit.show", sid=submission.id, _external=True)
    return _json(_with_links(submission), 201, {"Location": location})


@bp.get("/api/submissions")
def index() -> Response:
    account = _account()
    organisation = None if account.is_reviewer else account.organisation
    status = request.args.get("status")
    items = [s for s in _submissions().list(organisation) if status is None or s.status == status]
    return _json({"submissions": [_with_links(s) for s in items]})


@bp.get("/api/submissions/<sid>")
def show(sid: str) -> Response:
    account = _account()
    submissions = _submissions()
    submission = submissions.visible_to(sid, account)
    if request.accept_mimetypes.best_match(["application/json", "text/turtle"]) == "text/turtle":
        return Response(submissions.content(submission), mimetype="text/turtle")
    data = _with_links(submission)
    data["content"] = submissions.content(submission).decode()
    return _json(data)


@bp.put("/api/submissions/<sid>")
def replace(sid: str) -> Response:
    account = _account()
    body, media_type = _body()
    return _json(_with_links(_submissions().replace(sid, body, media_type, account)))


@bp.delete("/api/submissions/<sid>")
def delete(sid: str) -> Response:
    _submissions().delete(sid, _account())
    return Response(status=204)


@bp.post("/api/submissions/<sid>/publish")
def publish(sid: str) -> Response:
    return _json(_with_links(_submissions().publish(sid, _account())))


@bp.post("/api/submissions/<sid>/confirm")
def confirm(sid: str) -> Response:
    """The organisation a submission names as originator or implementer confirms it."""
    return _json(_with_links(_submissions().confirm(sid, _account())))


@bp.get("/api/whoami")
def whoami() -> Response:
    """The token's organisation and role (the form checks a pasted token with it); 401 otherwise."""
    account = _account()
    return _json({"organisation": account.organisation, "role": account.role, "tokenId": account.token_id,
                  "label": _organisation_label(account.organisation)})


def _organisation_label(iri: str) -> dict[str, str]:
    import pyoxigraph as ox

    store = current_app.extensions["zitkg"]["store"]
    labels: dict[str, str] = {}
    for quad in store.quads(ox.NamedNode(iri), None, None, None):
        if quad.predicate.value in {"http://www.w3.org/2000/01/rdf-schema#label",
                                    "http://www.w3.org/2004/02/skos/core#prefLabel"} and isinstance(
                quad.object, ox.Literal) and quad.object.language:
            labels.setdefault(quad.object.language, quad.object.value)
    return labels


@bp.post("/api/submissions/<sid>/reject")
def reject(sid: str) -> Response:
    account = _account()
    payload = bodies.request_json() if request.is_json else None  # too deep or malformed: 400
    reason = payload.get("reason") if isinstance(payload, dict) else bodies.request_form().get("reason")
    if not isinstance(reason, str):
        raise BadRequest("send the reason as JSON {\"reason\": \"…\"} or a form field 'reason'",
                         details={"field": "reason"})
    return _json(_with_links(_submissions().reject(sid, account, reason)))


@bp.get("/api/submissions/template.csv")
def template_csv() -> Response:
    response = Response(csv_template.template_csv(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="zitkg-template.csv"'
    return response


@bp.get("/api/submissions/template.xlsx")
def template_xlsx() -> Response:
    response = Response(csv_template.template_xlsx(),
                        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = 'attachment; filename="zitkg-template.xlsx"'
    return response


@bp.get("/api/submissions/template")
def template_columns() -> Response:
    """The template's columns, documented in Polish and English."""
    return _json({"columns": [{"name": c.name, "pl": c.pl, "en": c.en, "appliesTo": list(c.applies)}
                              for c in csv_template.COLUMNS],
                  "csv": url_for("submit.template_csv", _external=True),
                  "xlsx": url_for("submit.template_xlsx", _external=True)})


@bp.get("/context.jsonld")
def context() -> Response:
    base = current_app.extensions["zitkg"]["settings"].base_iri
    response = Response(json.dumps(json_ld_context(base), ensure_ascii=False, indent=1),
                        mimetype="application/ld+json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/api/admin/store")
def store_state() -> Response:
    """Quad count and every graph, published or not (administrators, for operations and checks)."""
    account = _account()
    if account.role != "admin":
        from zitkg.errors import Forbidden

        raise Forbidden("this needs an admin token")
    ext = current_app.extensions["zitkg"]
    store = ext["store"]
    return _json({"quads": store.quad_count(), "graphs": store.named_graphs(),
                  "published": store.published_graphs(), "version": store.version})
