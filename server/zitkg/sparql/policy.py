"""What a public query may do, decided on its structure: where it may call, which graphs it may see.

The same decision runs in the web process (when the structure of a text is already known, or on a
remote store) and in a query worker (a text seen for the first time is parsed there: single-threaded,
and ended at the time limit like any query), so it is one pure function of picklable values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from zitkg.sparql.execute import QueryRequest
from zitkg.sparql.structure import Structure, analyse_query


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
