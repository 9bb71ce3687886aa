"""Answers written for people and tools on the command line."""

from __future__ import annotations

import pyoxigraph as ox

from zitkg.sparql import results
from zitkg.sparql.execute import QueryAnswer


def _cell(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    return str(term)


def table(variables: tuple[str, ...], rows: tuple[tuple[object, ...], ...]) -> str:
    cells = [[_cell(t) for t in row] for row in rows]
    widths = [max([len(v)] + [len(r[i]) for r in cells]) for i, v in enumerate(variables)]
    lines = ["  ".join(v.ljust(w) for v, w in zip(variables, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines) + f"\n({len(rows)} rows)\n"


def _drop(answer: QueryAnswer, omit: set[str]) -> tuple[tuple[str, ...], list[tuple[object, ...]]]:
    keep = [i for i, v in enumerate(answer.variables) if v not in omit]
    return tuple(answer.variables[i] for i in keep), [tuple(row[i] for i in keep) for row in answer.rows]


def render(answer: QueryAnswer, fmt: str, omit: set[str] | None = None) -> str:
    """Write an answer; ``omit`` drops columns that only echo bound parameters (e.g. ?lang)."""
    if answer.kind == "boolean":
        if fmt in {"table", "turtle", "ntriples", "jsonld", "rdfxml"}:
            return ("yes" if answer.boolean else "no") + "\n"
        return results.write_boolean(bool(answer.boolean), fmt).decode()
    if answer.kind == "solutions":
        variables, rows = _drop(answer, omit or set())
        if fmt == "table":
            return table(variables, tuple(rows))
        key = fmt if fmt in {"json", "xml", "csv", "tsv"} else "json"
        return results.write_solutions(key, variables, rows).decode()
    key = fmt if fmt in {"turtle", "ntriples", "jsonld", "rdfxml"} else "turtle"
    return results.write_triples(key, list(answer.triples)).decode()
