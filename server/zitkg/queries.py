"""The query library: SPARQL files in queries/ with a strict ``#+`` header (STYLE.md §4).

One registry reads the files once; the CLI, the REST API and the UI all run queries from it.
Parameters are declared in the header with an RDF type and are bound as RDF terms (substitutions),
never pasted into the query text. A malformed header is a load error that names the file and line.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import yaml

from zitkg.errors import BadRequest, NotFound, ZitkgError
from zitkg.sparql.guard import query_form

XSD = "http://www.w3.org/2001/XMLSchema#"
LANGUAGES = ("pl", "en")
LANG_VARIABLE = "lang"  # bound to the requested language when a query mentions ?lang
_HEADER_KEYS = {"id", "title", "description", "tags", "params"}
_PARAM_KEYS = {"name", "type", "class", "datatype", "scheme", "default", "example", "label"}
_PARAM_TYPES = {"iri", "literal", "concept"}
_ID = re.compile(r"^[a-z][a-z0-9-]*$")
SEARCH_QUERY = "search"  # the question the full-text index answers (zitkg.search)


class QueryFileError(ZitkgError):
    code = "query-file-error"

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line = path, line


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str  # iri | literal | concept
    rdf_class: str | None = None  # for iri
    datatype: str | None = None  # for literal
    scheme: str | None = None  # for concept
    default: str | None = None
    example: str | None = None
    label: Mapping[str, str] | None = None

    @property
    def expected(self) -> str:
        if self.type == "iri":
            return f"an IRI of a {self.rdf_class}" if self.rdf_class else "an IRI"
        if self.type == "concept":
            return f"a concept of the scheme {self.scheme}"
        return f"a literal of type {self.datatype or XSD + 'string'}"


@dataclass(frozen=True)
class QueryDefinition:
    id: str
    title: Mapping[str, str]
    description: Mapping[str, str]
    tags: tuple[str, ...]
    params: tuple[Parameter, ...]
    sparql: str
    path: Path
    form: str

    def param(self, name: str) -> Parameter | None:
        return next((p for p in self.params if p.name == name), None)

    @property
    def uses_lang(self) -> bool:
        return re.search(rf"[?$]{LANG_VARIABLE}\b", self.sparql) is not None


def _expand(value: str, prefixes: Mapping[str, str]) -> str:
    """Header IRIs may be written as prefixed names using the query's own PREFIX lines."""
    if "://" in value or value.startswith("urn:"):
        return value
    prefix, sep, local = value.partition(":")
    if sep and prefix in prefixes:
        return prefixes[prefix] + local
    return value


def _bilingual(raw: Any, key: str, path: Path, line: int) -> dict[str, str]:
    if not isinstance(raw, dict) or any(not isinstance(raw.get(lang), str) or not raw[lang].strip()
                                        for lang in LANGUAGES):
        raise QueryFileError(path, line, f"'{key}' needs a non-empty text in both pl and en")
    return {lang: raw[lang].strip() for lang in LANGUAGES}


def _parameter(raw: Any, path: Path, line: int, prefixes: Mapping[str, str], sparql: str) -> Parameter:
    if not isinstance(raw, dict):
        raise QueryFileError(path, line, "each entry of 'params' must be a mapping")
    unknown = set(raw) - _PARAM_KEYS
    if unknown:
        raise QueryFileError(path, line, f"unknown parameter keys: {', '.join(sorted(unknown))}")
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_]\w*", name):
        raise QueryFileError(path, line, "a parameter needs a 'name' that is a SPARQL variable name")
    kind = raw.get("type")
    if kind not in _PARAM_TYPES:
        raise QueryFileError(path, line, f"parameter {name!r} needs a 'type': one of {sorted(_PARAM_TYPES)}")
    if kind == "concept" and not raw.get("scheme"):
        raise QueryFileError(path, line, f"parameter {name!r} of type concept needs a 'scheme'")
    if not re.search(rf"[?$]{name}\b", sparql):
        raise QueryFileError(path, line, f"parameter {name!r} does not occur as ?{name} in the query")

    def iri(key: str) -> str | None:
        value = raw.get(key)
        return _expand(str(value), prefixes) if value is not None else None

    label = raw.get("label")
    return Parameter(
        name=name,
        type=kind,
        rdf_class=iri("class"),
        datatype=iri("datatype") or (XSD + "string" if kind == "literal" else None),
        scheme=iri("scheme"),
        default=(iri("default") if kind != "literal" else str(raw["default"])) if "default" in raw else None,
        example=(iri("example") if kind != "literal" else str(raw["example"])) if "example" in raw else None,
        label=_bilingual(label, f"params.{name}.label", path, line) if label is not None else None,
    )


def _placeholder(param: Parameter) -> ox.NamedNode | ox.Literal:
    if param.type in {"iri", "concept"}:
        return ox.NamedNode("urn:zitkg:placeholder")
    return ox.Literal(param.example or "0", datatype=ox.NamedNode(param.datatype or XSD + "string"))


def load_query(path: Path) -> QueryDefinition:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    header_lines = []
    for line in lines:
        if not line.startswith("#+"):
            break
        header_lines.append(line[2:].removeprefix(" "))
    if not header_lines:
        raise QueryFileError(path, 1, "missing '#+' header (id, title, description, params, tags)")
    sparql = "\n".join(lines[len(header_lines):]).strip() + "\n"
    try:
        header = yaml.safe_load("\n".join(header_lines))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise QueryFileError(path, line, f"header is not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(header, dict):
        raise QueryFileError(path, 1, "the header must be a mapping of keys")

    def line_of(key: str) -> int:
        return next((i + 1 for i, h in enumerate(header_lines) if h.startswith(f"{key}:")), 1)

    unknown = set(header) - _HEADER_KEYS
    if unknown:
        raise QueryFileError(path, line_of(sorted(unknown)[0]), f"unknown header keys: {', '.join(sorted(unknown))}")
    qid = header.get("id")
    if not isinstance(qid, str) or not _ID.match(qid) or qid != path.stem:
        raise QueryFileError(
            path, line_of("id"), f"'id' must be lower-case kebab-case and equal the file name ({path.stem})"
        )
    prefixes = {m.group(1): m.group(2) for m in re.finditer(r"PREFIX\s+([\w-]*):\s*<([^>]*)>", sparql, re.I)}
    tags = header.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise QueryFileError(path, line_of("tags"), "'tags' must be a list of words")
    raw_params = header.get("params", []) or []
    if not isinstance(raw_params, list):
        raise QueryFileError(path, line_of("params"), "'params' must be a list")
    params = tuple(_parameter(p, path, line_of("params"), prefixes, sparql) for p in raw_params)
    form = query_form(sparql)
    if form is None:
        raise QueryFileError(path, len(header_lines) + 1, "the body is not a SPARQL query")
    if form == "SELECT":
        # Values are bound by substitution, which binds projected variables only.
        projection = sparql[re.search(r"SELECT", sparql, re.I).end():re.search(r"\bWHERE\b|\{", sparql).start()]
        names = [p.name for p in params] + ([LANG_VARIABLE] if re.search(rf"[?$]{LANG_VARIABLE}\b", sparql) else [])
        if "*" not in projection:
            for name in names:
                if not re.search(rf"[?$]{name}\b", projection):
                    raise QueryFileError(path, len(header_lines) + 1,
                                         f"?{name} is a parameter and must be in the SELECT projection")
    placeholders = {ox.Variable(p.name): _placeholder(p) for p in params}
    if re.search(rf"[?$]{LANG_VARIABLE}\b", sparql):
        placeholders[ox.Variable(LANG_VARIABLE)] = ox.Literal("pl")
    try:
        # A trial run on an empty store: parses the query and checks that every parameter can be bound.
        ox.Store().query(sparql, substitutions=placeholders)
    except SyntaxError as exc:
        raise QueryFileError(path, len(header_lines) + 1, f"SPARQL syntax error: {exc}") from None
    except RuntimeError as exc:
        raise QueryFileError(path, len(header_lines) + 1, f"a parameter cannot be bound: {exc}") from None
    return QueryDefinition(
        id=qid,
        title=_bilingual(header.get("title"), "title", path, line_of("title")),
        description=_bilingual(header.get("description"), "description", path, line_of("description")),
        tags=tuple(tags),
        params=params,
        sparql=sparql,
        path=path,
        form=form,
    )


class Registry:
    """All queries of a folder, read once at start-up."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        loaded = [load_query(p) for p in sorted(folder.glob("*.rq"))]
        self._by_id = {q.id: q for q in loaded}

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, qid: str) -> QueryDefinition:
        try:
            return self._by_id[qid]
        except KeyError:
            raise NotFound(f"no query named {qid!r}", hint=f"known: {', '.join(sorted(self._by_id))}") from None


# --- binding values as RDF terms -------------------------------------------------------------------

def _check_literal(value: str, datatype: str) -> None:
    local = datatype.removeprefix(XSD)
    checks: dict[str, Callable[[str], object]] = {
        "date": dt.date.fromisoformat,
        "dateTime": lambda v: dt.datetime.fromisoformat(v.replace("Z", "+00:00")),
        "integer": int,
        "decimal": Decimal,
        "gYear": lambda v: re.fullmatch(r"-?\d{4}", v) or (_ for _ in ()).throw(ValueError(v)),
        "boolean": lambda v: v in {"true", "false", "1", "0"} or (_ for _ in ()).throw(ValueError(v)),
    }
    check = checks.get(local)
    if check is not None:
        check(value)


def to_term(param: Parameter, value: str) -> ox.NamedNode | ox.Literal:
    """Turn a raw value into an RDF term of the declared type, or 400 naming the parameter."""
    try:
        if param.type in {"iri", "concept"}:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|^`\\]*", value):
                raise ValueError(value)
            return ox.NamedNode(value)
        datatype = param.datatype or XSD + "string"
        _check_literal(value, datatype)
        return ox.Literal(value, datatype=ox.NamedNode(datatype))
    except (ValueError, InvalidOperation, TypeError):
        raise BadRequest(
            f"parameter {param.name!r} must be {param.expected}; got {value!r}",
            details={"parameter": param.name, "expected": param.expected, "value": value},
        ) from None


def membership_check(param: Parameter, term: ox.NamedNode) -> str | None:
    """An ASK query that is true when the IRI has the declared class or scheme (None: nothing to check)."""
    if param.type == "iri" and param.rdf_class:
        return (
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            f"ASK {{ {term} a/rdfs:subClassOf* <{param.rdf_class}> }}"
        )
    if param.type == "concept":
        return f"ASK {{ {term} <http://www.w3.org/2004/02/skos/core#inScheme> <{param.scheme}> }}"
    return None


def bind(
    query: QueryDefinition, raw: Mapping[str, str], ask: Callable[[str], bool], lang: str = "pl"
) -> dict[str, Any]:
    """Check every value against its declared type and return the substitutions for the query."""
    unknown = set(raw) - {p.name for p in query.params}
    if unknown:
        raise BadRequest(
            f"query {query.id!r} has no parameter {sorted(unknown)[0]!r}",
            details={"known": [p.name for p in query.params]},
        )
    bound: dict[str, Any] = {}
    for param in query.params:
        value = raw.get(param.name, param.default)
        if value is None or value == "":
            continue
        term = to_term(param, value)
        check = membership_check(param, term) if isinstance(term, ox.NamedNode) else None
        if check is not None and not ask(check):
            raise BadRequest(
                f"parameter {param.name!r} must be {param.expected}; {value} is not one",
                details={"parameter": param.name, "expected": param.expected, "value": value},
            )
        bound[param.name] = term
    if query.uses_lang:
        if lang not in LANGUAGES:
            raise BadRequest(f"language must be one of {', '.join(LANGUAGES)}; got {lang!r}")
        bound[LANG_VARIABLE] = ox.Literal(lang)
    return bound


_SCHEME_MEMBERS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?value (SAMPLE(?l) AS ?label) ?scheme ?lang WHERE {
  ?value skos:inScheme ?scheme .
  OPTIONAL { ?value skos:prefLabel ?l FILTER(lang(?l) = ?lang) }
} GROUP BY ?value ?scheme ?lang
"""
_CLASS_MEMBERS = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?value (SAMPLE(?l) AS ?label) ?cls ?lang WHERE {
  ?value a/rdfs:subClassOf* ?cls .
  FILTER(isIRI(?value))
  OPTIONAL { ?value rdfs:label ?l FILTER(lang(?l) = ?lang) }
} GROUP BY ?value ?cls ?lang
"""


class QueryLibrary:
    """Runs library queries by id over a query service: binds and checks parameters, then executes."""

    def __init__(self, registry: Registry, service: Any) -> None:
        self.registry = registry
        self.service = service
        self._search: Any = None
        self._search_lock = threading.Lock()

    @property
    def search(self) -> Any:
        """The full-text search of this service (zitkg.search), made on first use."""
        with self._search_lock:
            if self._search is None:
                from zitkg.search import SearchService

                self._search = SearchService.for_service(self.service)
            return self._search

    def allowed_values(self, param: Parameter, lang: str = "pl") -> list[tuple[str, str]]:
        """(IRI, label) of every value an IRI/concept parameter accepts, for forms and the OpenAPI enum."""
        if param.type == "concept":
            query = _SCHEME_MEMBERS
            bound = {"scheme": ox.NamedNode(param.scheme or ""), "lang": ox.Literal(lang)}
        elif param.type == "iri" and param.rdf_class:
            query = _CLASS_MEMBERS
            bound = {"cls": ox.NamedNode(param.rdf_class), "lang": ox.Literal(lang)}
        else:
            return []
        rows = self.service.query(query, result_format="python", substitutions=bound, trusted=True).rows
        return sorted(((v.value, lbl.value if lbl is not None else v.value) for v, lbl, *_ in rows),
                      key=lambda pair: pair[1].lower())

    def ask(self, sparql: str) -> bool:
        return bool(self.service.query(sparql, result_format="python").boolean)

    def run(
        self,
        qid: str,
        params: Mapping[str, str] | None = None,
        *,
        lang: str = "pl",
        timeout: float | None = None,
    ) -> tuple[QueryDefinition, Any, dict[str, Any]]:
        """(definition, answer with Python terms, bound substitutions)."""
        definition = self.registry.get(qid)
        substitutions = bind(definition, params or {}, self.ask, lang)
        if qid == SEARCH_QUERY:  # answered by the full-text index: the same hits as the search page and REST
            from zitkg.search.library import answer_search

            return definition, answer_search(self.search, definition, substitutions, lang), substitutions
        answer = self.service.query(
            definition.sparql,
            result_format="python",
            graph_format="python",
            timeout=timeout,
            substitutions=substitutions,
            trusted=True,  # the library's own files
        )
        return definition, answer, substitutions


GEOMETRY_VARIABLE = "wkt"  # a question whose answer has ?wkt is a map layer too (GeoJSON)
MAX_PAGE = 10000  # the most rows one page of a question's answer holds over the REST API


def has_geometry(definition: QueryDefinition) -> bool:
    """Whether the question's answer carries a geometry (its projection names ?wkt)."""
    return f"?{GEOMETRY_VARIABLE}" in definition.sparql.split("WHERE")[0]
