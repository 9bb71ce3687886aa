"""What a public query may do, decided on its structure: where it may call, which graphs it may see.

The same decision runs in the web process (when the structure of a text is already known, or on a
remote store) and in a query worker (a text seen for the first time is parsed there: single-threaded,
and ended at the time limit like any query), so it is one pure function of picklable values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import pyoxigraph as ox

from zitkg.errors import BadRequest, Forbidden
from zitkg.sparql.execute import QueryRequest
from zitkg.sparql.guard import mask
from zitkg.sparql.structure import Structure, analyse_query
from zitkg.store import GRAPH_BASE


@dataclass(frozen=True)
class Policy:
    """The facts a decision needs besides the query: allow-listed hosts and the public graphs."""

    allowed_hosts: frozenset[str]
    published: tuple[str, ...]
    protocol_default: tuple[str, ...] = ()  # default-graph-uri parameters
    protocol_named: tuple[str, ...] = ()  # named-graph-uri parameters
    public_union: bool = True  # the query store holds the published graphs only


def plan(request: QueryRequest, structure: Structure, policy: Policy) -> QueryRequest:
    """The request as it may run: refused if it calls out, its dataset cut to the published graphs."""
    structure.check_remote_calls(policy.allowed_hosts)
    allowed = set(policy.published)
    if policy.protocol_default or policy.protocol_named:
        # The protocol's dataset wins over FROM (SPARQL 1.1 Protocol 2.1.4), limited to what is public:
        # an unpublished graph is simply empty here.
        default: tuple[str, ...] | None = tuple(g for g in policy.protocol_default if g in allowed)
        named: tuple[str, ...] | None = tuple(g for g in policy.protocol_named if g in allowed)
    elif structure.declares_dataset:
        default = tuple(g for g in structure.from_graphs if g in allowed)
        named = tuple(g for g in structure.from_named_graphs if g in allowed)
    elif policy.public_union:
        default, named = None, None  # the query store holds the published graphs only
    else:
        default, named = policy.published, policy.published
    return replace(
        request,
        union_default=default is None,
        default_graphs=default,
        named_graphs=named,
        declares_dataset=structure.declares_dataset,
    )


def analyse_and_plan(request: QueryRequest, policy: Policy) -> tuple[QueryRequest, Structure]:
    """Parse the request's text (QuerySyntaxError if the grammar refuses it), then ``plan`` it."""
    structure = analyse_query(request.sparql, request.base_iri)
    return plan(request, structure, policy), structure


def plan_update(text: str, structure: Structure, named_graphs: list[str], *, bulk_allowed: bool = True) -> str:
    """An administrator's update as it may run: never on a graph the pipeline manages.

    The graphs under GRAPH_BASE (bundled data, submissions, their private parts, the publication state)
    change only through their own paths (load, submissions, publication API). An update that names one
    as a target is refused; one that writes to a graph chosen by a variable cannot be judged and is
    refused too; ``CLEAR``/``DROP`` ``ALL``/``NAMED`` act on the administrator's own graphs (and the
    default graph), so that they never unpublish or erase the bundled data.
    """
    written = set(structure.written_graphs)
    if "VARIABLE" in written:
        raise BadRequest("this update writes to a graph named by a variable, which cannot be checked",
                         hint="name the target graph in the update (GRAPH <iri>) or use the default graph")
    managed = sorted(g for g in written if g.startswith(GRAPH_BASE))
    if managed:
        raise Forbidden(
            f"{managed[0]} is managed by zitkg (bundled data, submissions, publication state) and cannot be "
            "changed by a SPARQL update",
            hint="write to a graph outside " + GRAPH_BASE + " and publish it with `zitkg publish`; submissions "
                 "go through /api/submissions",
            details={"graphs": managed},
        )
    bulk_count = structure.bulk_operations
    if not bulk_count:
        return text
    if not bulk_allowed:  # a remote store holds graphs of its own (Virtuoso's system graphs): never guess
        raise BadRequest("CLEAR/DROP ALL or NAMED is not available on a remote store",
                         hint="name the graphs to clear (CLEAR GRAPH <iri>), or use the store's own tools")
    own = [ox.NamedNode(g) for g in named_graphs if not g.startswith(GRAPH_BASE)]
    masked = mask(text)
    spans = list(_BULK.finditer(masked))
    if len(spans) != bulk_count:  # the text and its parse disagree: do not guess
        raise BadRequest("CLEAR/DROP ALL or NAMED in this spelling cannot be scoped to your graphs",
                         hint="send it as a separate update, e.g. CLEAR ALL")
    for match in reversed(spans):
        verb, scope = match.group(1).upper(), match.group(3).upper()
        parts = [f"{verb} SILENT GRAPH {g}" for g in own]
        if scope == "ALL":
            parts.insert(0, f"{verb} SILENT DEFAULT")
        replacement = " ;\n".join(parts) or f"{verb} SILENT GRAPH <urn:zitkg:nothing>"
        text = text[: match.start()] + replacement + text[match.end():]
    return text


# CLEAR/DROP [SILENT] ALL|NAMED in the masked text (strings, IRIs and comments blanked): checked against the
# parse tree's count of such operations before anything is replaced.
_BULK = re.compile(r"(?<![\w:?$])(CLEAR|DROP)\s+(SILENT\s+)?(ALL|NAMED)(?![\w:])", re.IGNORECASE)
