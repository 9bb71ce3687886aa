"""The mapping workbench: home, faceted search, map, coverage matrix, network dashboards, the questions
of the library, the SPARQL editor page, the graph view's data and the submission pages.

Pages are rendered on the server and work without JavaScript (lists, tables, forms, downloads); the
map, the graph view, YASGUI and the submission form add their scripts, served from node_modules
through web/assets.py and from this package's static/ folder. Nothing is loaded from a CDN.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox
from flask import (
    Blueprint,
    Response,
    current_app,
    json,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from zitkg import explore, forms, links
from zitkg.errors import BadRequest, NotFound
from zitkg.queries import Parameter, QueryDefinition, QueryLibrary
from zitkg.search import segments as search_segments
from zitkg.web import assets, i18n
from zitkg.web.i18n import LANGUAGES, text, ui_language
from zitkg.web.ld import local_path

bp = Blueprint("ui", __name__)

MAX_TABLE_ROWS = 500
PAGE_SIZE = 50


@bp.record_once
def _setup(state: Any) -> None:
    """Services of the UI: Flask-Babel and the cache of the faceted index."""
    i18n.init_app(state.app)
    ext = state.app.extensions["zitkg"]
    # One faceted index for the pages and the full-text search (zitkg.search keeps its text index in step).
    ext["ui_index"] = ext["library"].search.index_cache
    state.app.jinja_env.globals["href"] = href  # a global: macros imported without context use it


def _ext() -> dict[str, Any]:
    return current_app.extensions["zitkg"]


def _library() -> QueryLibrary:
    return _ext()["library"]


# Names of the reused classes that the graph does not name itself.
EXTERNAL_CLASSES = {
    "http://www.w3.org/2004/02/skos/core#Concept": i18n._("Concept"),
    "http://www.w3.org/2004/02/skos/core#ConceptScheme": i18n._("Concept scheme"),
    "https://schema.org/MonetaryAmount": i18n._("Amount of money"),
    "http://www.w3.org/ns/org#Site": i18n._("Seat"),
    "http://www.w3.org/ns/org#Role": i18n._("Role"),
    "http://purl.org/dc/terms/BibliographicResource": i18n._("Source document"),
    "http://www.opengis.net/ont/geosparql#Geometry": i18n._("Geometry"),
}


def _index() -> explore.Index:
    ext = _ext()
    index = ext["ui_index"].get(ext["sparql"], ext["settings"].base_iri)
    for iri, name in EXTERNAL_CLASSES.items():
        index.labels.by_iri.setdefault(iri, {lang: i18n.translate(name, lang) for lang in LANGUAGES})
    return index


def href(iri: str) -> str | None:
    """Where a link to ``iri`` goes: its page here, else the IRI if its scheme may be linked, else None.

    None means no link: the templates (the ``link`` macro) show the label as text.
    """
    return local_path(iri) or (iri if links.linkable(iri) else None)


def _switch_url() -> str:
    other = "en" if ui_language() == "pl" else "pl"
    args = request.args.to_dict(flat=False)
    args.pop("lang", None)
    here = request.path + ("?" + urlencode(args, doseq=True) if args else "")
    return url_for("ui.language", code=other, next=here)


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    lang = ui_language()
    return {
        "lang": lang,
        "other_lang": "en" if lang == "pl" else "pl",
        "t": lambda key: text(key, lang),
        "switch_url": _switch_url,
        "asset": assets.url,
        "base_iri": _ext()["settings"].base_iri,
    }


def _html(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


# --- language ------------------------------------------------------------------------------------------

@bp.get("/language/<code>")
def language(code: str) -> Response:
    """The language switch: remember the choice in a cookie and go back to the page (no JavaScript)."""
    if code not in LANGUAGES:
        raise NotFound(f"no language {code!r}", hint=f"one of {', '.join(LANGUAGES)}")
    target = request.args.get("next") or "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        target = "/"  # only paths on this site: no open redirect
    response = redirect(target, code=303)
    response.set_cookie(i18n.COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax")
    return response


# --- home ----------------------------------------------------------------------------------------------

@bp.get("/")
def home() -> Response:
    lang = ui_language()
    library = _library()
    service = _ext()["sparql"]
    _d, stats, _b = library.run("statistics", lang=lang)
    counts = [
        {"iri": row[1].value, "label": row[2].value, "count": int(row[3].value)}
        for row in stats.rows
        if row[0].value == "class" and row[2] is not None and row[1].value.startswith(explore.ZIT)
    ]
    _d, members, _b = library.run("network-members", lang=lang)
    networks = _with_themes(explore.networks_overview(_rows(members)), lang)
    return _html(render_template(
        "home.html",
        counts=sorted(counts, key=lambda c: -c["count"]),
        networks=networks,
        practices=explore.latest_practices(service, lang),
        quads=_ext()["store"].quad_count(),
    ))


def _with_themes(networks: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    index = _index()
    for n in networks:
        n["themeList"] = [(iri, index.label(iri, lang)) for iri in n["themeIris"]]
    return networks


def _rows(answer: Any) -> list[dict[str, Any]]:
    """Solutions as dicts of plain values (IRIs and texts as strings, numbers as numbers)."""
    from zitkg import tabular

    return tabular.rows_as_dicts(answer.variables, answer.rows)


# --- search ----------------------------------------------------------------------------------------------

def _selected() -> dict[str, list[str]]:
    return {f: [v for v in request.args.getlist(f) if v] for f in explore.FACETS if request.args.getlist(f)}


def _search() -> tuple[explore.Index, explore.SearchResult, str, dict[str, list[str]]]:
    q = request.args.get("q", "")
    searcher = _library().search
    found = searcher.find(q) if q.strip() else None  # brings the text index in step with the store
    index = _index()
    selected = _selected()
    return index, explore.search(index, q, selected, ui_language(), found), q, selected


def _toggle_url(endpoint: str, facet: str, value: str) -> str:
    args = request.args.to_dict(flat=False)
    args.pop("page", None)
    values = args.get(facet, [])
    args[facet] = [v for v in values if v != value] if value in values else [*values, value]
    return url_for(endpoint, **{k: v for k, v in args.items() if v})


@bp.get("/search")
def search_page() -> Response:
    lang = ui_language()
    index, result, q, selected = _search()
    try:
        page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        raise BadRequest("page must be a whole number") from None
    shown = result.items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    args = request.args.to_dict(flat=False)
    args.pop("page", None)
    return _html(render_template(
        "search.html",
        q=q, selected=selected, result=result, page=page, pages=max(1, -(-result.total // PAGE_SIZE)),
        records=[explore.item_record(index, item, lang, result.hit(item.iri)) for item in shown],
        marked=lambda text: search_segments(text, result.found.query if result.found else None),
        toggle=lambda facet, v: _toggle_url("ui.search_page", facet, v),
        page_url=lambda n: url_for("ui.search_page", **args, page=n),
        csv_url=url_for("ui.search_csv", **args), json_url=url_for("ui.search_json", **args),
        facet_names=_facet_names(),
    ))


def _facet_names() -> dict[str, str]:
    return {"type": _("Type"), "theme": _("Thematic area"), "network": _("Network"),
            "organisation": _("ZIT association"), "mof": _("Functional urban area (MOF)"),
            "voivodeship": _("Voivodeship"), "year": _("Year")}


def _records() -> tuple[list[dict[str, Any]], str, dict[str, list[str]]]:
    lang = ui_language()
    index, result, q, selected = _search()
    return [explore.item_record(index, item, lang, result.hit(item.iri)) for item in result.items], q, selected


@bp.get("/search.json")
def search_json() -> Response:
    records, q, selected = _records()
    body = {"q": q, "filters": selected, "lang": ui_language(), "total": len(records), "items": records}
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="zitkg-search.json"'
    return response


@bp.get("/search.csv")
def search_csv() -> Response:
    records, _q, _s = _records()
    response = Response(explore.records_csv(records), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="zitkg-search.csv"'
    return response


# --- map ---------------------------------------------------------------------------------------------------

def _one(name: str, allowed: set[str]) -> str | None:
    chosen = request.args.get(name) or None
    if chosen is not None and chosen not in allowed:
        raise BadRequest(f"{name} must be one of the offered values; got {chosen!r}")
    return chosen


def _choices(index: explore.Index, lang: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    themes = index.base + "id/scheme/themes"
    library = _library()
    theme_values = library.allowed_values(Parameter("theme", "concept", scheme=themes), lang)
    network_values = library.allowed_values(
        Parameter("network", "iri", rdf_class=explore.ZIT + "CooperationNetwork"), lang)
    return theme_values, network_values


@bp.get("/map")
def map_page() -> Response:
    lang = ui_language()
    index = _index()
    themes, networks = _choices(index, lang)
    theme = _one("theme", {t for t, _l in themes})
    network = _one("network", {n for n, _l in networks})
    layers = explore.map_layers(_ext()["sparql"], index, lang, theme, network)
    args = {k: v for k, v in (("theme", theme), ("network", network)) if v}
    return _html(render_template(
        "map.html", themes=themes, networks=networks, theme=theme, network=network,
        features=layers["features"], data_url=url_for("ui.map_data", **args, lang=lang),
        links=sorted({(f["properties"]["iri"], f["properties"]["label"], f["properties"]["colour"])
                      for f in layers["features"] if f["properties"]["kind"] == "link"},
                     key=lambda link: explore.sort_key(link[1])),
        tile_url=_ext()["settings"].tile_url,
        tile_attribution=_ext()["settings"].tile_attribution,
    ))


@bp.get("/map/data.json")
def map_data() -> Response:
    lang = ui_language()
    index = _index()
    themes, networks = _choices(index, lang)
    layers = explore.map_layers(_ext()["sparql"], index, lang, _one("theme", {t for t, _l in themes}),
                                _one("network", {n for n, _l in networks}))
    for f in layers["features"]:
        f["properties"]["href"] = href(f["properties"]["iri"])
    return Response(json.dumps(layers, ensure_ascii=False), mimetype="application/geo+json")


# --- coverage matrix -------------------------------------------------------------------------------------

@bp.get("/matrix")
def matrix_page() -> Response:
    lang = ui_language()
    _d, answer, _b = _library().run("coverage", lang=lang)
    return _html(render_template(
        "matrix.html", m=explore.coverage_matrix(_rows(answer)),
        csv_url=url_for("api.query_results", qid="coverage", format="csv", lang=lang),
    ))


@bp.get("/matrix/cell")
def matrix_cell() -> Response:
    lang = ui_language()
    index = _index()
    organisation, theme = request.args.get("organisation", ""), request.args.get("theme", "")
    if not index.labels.has(organisation) or not index.labels.has(theme):
        raise BadRequest("choose an association and a thematic area from the matrix",
                         details={"organisation": organisation, "theme": theme})
    items = explore.cell_items(_ext()["sparql"], organisation, theme, lang)
    return _html(render_template(
        "matrix_cell.html", items=items, organisation=organisation, theme=theme,
        organisation_label=index.label(organisation, lang), theme_label=index.label(theme, lang),
    ))


# --- network dashboards ----------------------------------------------------------------------------------

@bp.get("/networks")
def networks_page() -> Response:
    lang = ui_language()
    _d, members, _b = _library().run("network-members", lang=lang)
    networks = _with_themes(explore.networks_overview(_rows(members)), lang)
    return _html(render_template("networks.html", networks=networks))


@bp.get("/networks/<slug>")
def network_page(slug: str) -> Response:
    lang = ui_language()
    iri = _ext()["settings"].base_iri + "id/network/" + slug
    dashboard = explore.network_dashboard(_ext()["sparql"], iri, lang)
    if dashboard is None:
        raise NotFound(f"no cooperation network {slug!r}")
    library = _library()
    _d, members, _b = library.run("network-members", lang=lang)
    network = next((n for n in explore.networks_overview(_rows(members)) if n["iri"] == iri), None)
    _d, gaps, _b = library.run("gaps-members", lang=lang)
    return _html(render_template(
        "network.html", d=dashboard, network=network,
        gaps=[g for g in _rows(gaps) if g["network"] == iri],
        reading_label=_index().label(dashboard["readingStatus"], lang) if dashboard["readingStatus"] else None,
    ))


# --- questions -------------------------------------------------------------------------------------------

@bp.get("/questions")
def questions_page() -> Response:
    return _html(render_template("questions.html", queries=sorted(_library().registry, key=lambda d: d.id)))


def _param_options(param: Parameter, lang: str) -> list[tuple[str, str]]:
    """Dropdown values: the scheme's concepts, the class's members, or (an IRI of any class) every
    resource of the graph, named with its class."""
    if param.type == "concept" or param.rdf_class:
        return _library().allowed_values(param, lang)
    if param.type != "iri":
        return []
    index = _index()
    named = []
    for item in index.items:
        cls = explore.primary_type(item.types)
        named.append((item.iri, f"{index.label(item.iri, lang)} ({index.label(cls, lang)})" if cls
                      else index.label(item.iri, lang)))
    return sorted(named, key=lambda pair: explore.sort_key(pair[1]))


@bp.get("/questions/<qid>")
def question_page(qid: str) -> Response:
    lang = ui_language()
    library = _library()
    definition = library.registry.get(qid)
    values = {p.name: request.args.get(p.name) or p.default or "" for p in definition.params}
    given = {p.name: request.args[p.name] for p in definition.params if request.args.get(p.name)}
    error = None
    table = None
    try:
        _d, answer, bound = library.run(qid, given, lang=lang)
    except BadRequest as exc:
        error = exc.message
    else:
        table = _table(definition, answer, bound, lang)
    params = {k: v for k, v in values.items() if v}
    status = 400 if error else 200
    return _html(render_template(
        "question.html", q=definition, error=error, table=table, values=values,
        options={p.name: _param_options(p, lang) for p in definition.params},
        permalink=url_for("ui.question_page", qid=qid, **params, lang=lang, _external=True),
        downloads=_downloads(definition, params, lang),
        yasgui_url=url_for("sparql.endpoint", example=qid),
    ), status)


def _downloads(definition: QueryDefinition, params: dict[str, str], lang: str) -> list[tuple[str, str]]:
    from zitkg.queries import has_geometry

    if definition.form in {"CONSTRUCT", "DESCRIBE"}:
        formats = ["turtle", "jsonld", "ntriples"]
    else:
        formats = ["csv", "json", "tsv"] + (["geojson"] if has_geometry(definition) else [])
    return [(f, url_for("api.query_results", qid=definition.id, format=f, lang=lang, **params)) for f in formats]


def _cell(term: Any, label: Any, index: explore.Index, lang: str) -> dict[str, Any]:
    if term is None:
        return {"text": ""}
    if isinstance(term, ox.NamedNode):
        name = label.value if isinstance(label, ox.Literal) else index.label(term.value, lang)
        return {"text": name, "href": href(term.value), "iri": term.value}
    if isinstance(term, ox.Literal):
        return {"text": term.value}
    return {"text": str(term)}


def _table(definition: QueryDefinition, answer: Any, bound: dict[str, Any], lang: str) -> dict[str, Any]:
    index = _index()
    if answer.kind == "boolean":
        return {"columns": [_("Answer")], "rows": [[{"text": _("yes") if answer.boolean else _("no")}]],
                "total": 1}
    if answer.kind == "graph":
        triples = list(answer.triples)
        rows = [[_cell(t.subject, None, index, lang), _cell(t.predicate, None, index, lang),
                 _cell(t.object, None, index, lang)] for t in triples[:MAX_TABLE_ROWS]]
        return {"columns": [_("Subject"), _("Property"), _("Object")], "rows": rows, "total": len(triples)}
    variables = list(answer.variables)
    shown = [v for v in variables if v not in bound and v != "lang"
             and not (v.endswith("Label") and v[:-5] in variables)]
    positions = {v: i for i, v in enumerate(variables)}
    rows = []
    for row in answer.rows[:MAX_TABLE_ROWS]:
        cells = []
        for v in shown:
            label_at = positions.get(v + "Label")
            cells.append(_cell(row[positions[v]], row[label_at] if label_at is not None else None, index, lang))
        rows.append(cells)
    return {"columns": shown, "rows": rows, "total": len(answer.rows)}


# --- SPARQL editor (rendered by sparql.endpoint for browsers) ----------------------------------------------

def _example_text(definition: QueryDefinition, lang: str) -> str:
    """The query with its parameters set to their defaults by a VALUES block at the top of the WHERE
    clause, so that it runs as it is in the editor (the server binds them as RDF terms instead)."""
    names, terms = [], []
    for p in definition.params:
        if p.default:
            names.append(p.name)
            terms.append(f"<{p.default}>" if p.type != "literal" else json.dumps(p.default))
    if definition.uses_lang:
        names.append("lang")
        terms.append(json.dumps(lang))
    sparql = definition.sparql
    if not names:
        return sparql
    values = f"\n  VALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(terms)}) }}"
    where = sparql.find("WHERE")
    brace = sparql.find("{", where if where >= 0 else 0)
    return sparql[: brace + 1] + values + sparql[brace + 1:]


def sparql_editor() -> Response:
    """YASGUI over this server's /sparql, with the library's questions as ready examples."""
    lang = ui_language()
    examples = [{"id": d.id, "title": d.title[lang], "query": _example_text(d, lang)}
                for d in sorted(_library().registry, key=lambda d: d.id)]
    chosen = request.args.get("example")
    response = _html(render_template(
        "sparql.html", examples=examples, endpoint=url_for("sparql.endpoint", _external=True),
        chosen=chosen if any(e["id"] == chosen for e in examples) else None,
    ))
    response.headers["Vary"] = "Accept, Accept-Language, Cookie"  # /sparql answers machines too
    return response


# --- graph view data -------------------------------------------------------------------------------------

@bp.get("/graph.json")
def graph_data() -> Response:
    resource = request.args.get("resource", "")
    index = _index()
    if not index.labels.has(resource) and not resource.startswith(index.base + "id/"):
        raise BadRequest("resource must be the IRI of a resource of this graph", details={"resource": resource})
    data = explore.neighbours(_ext()["sparql"], index, resource, ui_language())
    for node in data["nodes"]:
        node["href"] = local_path(node["id"])
    return Response(json.dumps(data, ensure_ascii=False), mimetype="application/json")


# --- submissions -----------------------------------------------------------------------------------------

def _class_options(classes: list[str]) -> list[tuple[str, str]]:
    lang = ui_language()
    library = _library()
    seen: dict[str, str] = {}
    for cls in classes:
        for iri, label in library.allowed_values(Parameter("value", "iri", rdf_class=cls), lang):
            seen.setdefault(iri, label)
    return sorted(seen.items(), key=lambda pair: explore.fold(pair[1]))


@bp.get("/submit")
def submit_page() -> Response:
    lang = ui_language()
    cls = request.args.get("class", "GoodPractice")
    if cls not in forms.SUBMITTABLE:
        raise BadRequest(f"class must be one of {', '.join(forms.SUBMITTABLE)}; got {cls!r}")
    form = forms.build_form(cls, lang, _class_options)
    return _html(render_template(
        "submit.html", form=form, classes=forms.submittable(lang),
        strings={**_submit_strings(), "organisations": dict(_class_options([explore.ZIT + "ZITAssociation"]))},
    ))


@bp.get("/review")
def review_page() -> Response:
    names = dict(_class_options([explore.ZIT + "ZITAssociation"]))
    return _html(render_template("review.html", strings={**_submit_strings(), "organisations": names}))


def _submit_strings() -> dict[str, str]:
    """Texts the submission scripts show, in the page's language."""
    return {
        "saved": _("The token is kept in this browser tab until you close it."),
        "forgotten": _("The token was removed from this tab."),
        "noToken": _("Paste your API token first."),
        "sending": _("Sending…"),
        "created": _("Stored as submission %(id)s, waiting for review.", id="{id}"),
        "failed": _("Nothing was stored: the server found problems."),
        "unauthorized": _("The server did not accept the token."),
        "empty": _("No submissions yet."),
        "published": _("Published."),
        "rejected": _("Rejected."),
        "reasonMissing": _("Give a reason for the rejection."),
        "publish": _("Publish"),
        "reject": _("Reject"),
        "reason": _("Reason"),
        "row": _("row"),
        "column": _("column"),
        "record": _("Record"),
        "content": _("What was sent"),
        "status": {"pending": _("pending"), "published": _("published"), "rejected": _("rejected"),
                   "superseded": _("superseded")},
        "checking": _("Checking the token…"),
        "tokenOf": _("Token of %(organisation)s (%(role)s): accepted.", organisation="{organisation}",
                     role="{role}"),
        "tokenRefused": _("The token was not accepted and was not kept."),
        "roles": {"submitter": _("submitter"), "reviewer": _("reviewer"), "admin": _("administrator")},
        "pickPlaceholder": _("Type to search…"),
        "noResults": _("Nothing matches."),
        # A nested budget is named after its record, in both languages whatever the page's language.
        "budgetOf": {"pl": "Budżet: {name}", "en": "Budget: {name}"},
        "notStored": _("Nothing was stored:"),
        "draftSaved": _("Draft kept in this browser."),
        "draftRestored": _("Your draft was restored from this browser."),
        "waitingFor": _("Waiting for confirmation by:"),
        "confirm": _("Confirm"),
        "confirmed": _("Confirmed."),
        "check": {
            "summary": _("Nothing was sent: correct the fields below."),
            "required": _("%(field)s: this field is required.", field="{field}"),
            "requiredPl": _("%(field)s: enter it in Polish (English is recommended).", field="{field}"),
            "period": _("%(field)s: %(value)s is not a valid date. Enter YYYY-MM-DD, YYYY-MM or YYYY.",
                        field="{field}", value="{value}"),
            "date": _("%(field)s: %(value)s is not a valid date. Enter YYYY-MM-DD.", field="{field}",
                      value="{value}"),
            "decimal": _("%(field)s: %(value)s is not a number. Enter digits, with a point before the fraction, "
                         "e.g. 1500 or 1500.50.", field="{field}", value="{value}"),
            "integer": _("%(field)s: %(value)s is not a whole number.", field="{field}", value="{value}"),
            "url": _("%(field)s: %(value)s is not an address. Enter a full address starting with https://.",
                     field="{field}", value="{value}"),
            "email": _("%(field)s: %(value)s is not an e-mail address (name@domain.pl).", field="{field}",
                       value="{value}"),
            "code": _("%(field)s: %(value)s is not a code. Enter 2–3 capital letters or digits, e.g. PLN.",
                      field="{field}", value="{value}"),
        },
    }
