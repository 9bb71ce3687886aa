"""The zitkg command line: thin commands over plain functions (STYLE.md §7).

Exit codes: 0 success (validate: conforms), 1 validate: does not conform, 2 usage or runtime error.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from zitkg.errors import ZitkgError
from zitkg.settings import load_settings

_FORMAT_CHOICE = click.Choice(["table", "csv", "json", "tsv", "xml", "turtle", "ntriples", "jsonld", "rdfxml"])


def _store_option(func: Any) -> Any:
    return click.option(
        "--store",
        "store_path",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder of the on-disk store (default: ZITKG_STORE or var/store).",
    )(func)


def _settings(**overrides: Any) -> Any:
    try:
        return load_settings(overrides={k: v for k, v in overrides.items() if v is not None})
    except ZitkgError as exc:
        _fail(exc)


def _fail(exc: ZitkgError) -> None:
    click.echo(f"error: {exc.message}", err=True)
    if exc.hint:
        click.echo(f"hint: {exc.hint}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="zitkg")
def main() -> None:
    """zitkg — the knowledge graph of "Sieciowanie Związków ZIT w Polsce"."""


@main.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--graph", "graph_iri", default=None, help="Graph to load FILE into (replaced whole).")
@click.option("--publish", is_flag=True, help="Publish the graph at once (else it waits for `zitkg publish`).")
@_store_option
def load(file: Path | None, graph_iri: str | None, publish: bool, store_path: Path | None) -> None:
    """Load (or re-load) the bundled data; or FILE (any RDF graph format) into --graph IRI.

    A researcher can run the service on data of their own: `zitkg load data.ttl --graph IRI --publish`.
    """
    from zitkg.backends import open_store
    from zitkg.bundle import load_bundled

    settings = _settings(store=store_path)
    if file is not None:
        if not graph_iri:
            _fail(ZitkgError("name the graph to load the file into", hint="--graph https://example.org/my-data"))
        _load_file(settings, file, graph_iri, publish)
        return
    try:
        store = open_store(settings, memory_reads=False)
        counts = load_bundled(store)
    except ZitkgError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(ZitkgError(f"cannot open the store at {settings.store}: {exc}", hint="is a server using it?"))
    for graph, count in counts.items():
        click.echo(f"{count:8d}  {graph}")
    click.echo(f"{store.quad_count():8d}  quads in {settings.sparql_query_url or settings.store}")


def _load_file(settings, file: Path, graph_iri: str, publish: bool) -> None:  # noqa: ANN001
    from zitkg import graphstore
    from zitkg.backends import open_store

    media = {".ttl": "text/turtle", ".nt": "application/n-triples", ".rdf": "application/rdf+xml",
             ".owl": "application/rdf+xml", ".xml": "application/rdf+xml", ".jsonld": "application/ld+json",
             ".n3": "text/n3"}.get(file.suffix.lower())
    if media is None:
        _fail(ZitkgError(f"{file.name}: unknown RDF format", hint="use .ttl, .nt, .rdf, .owl, .jsonld or .n3"))
    try:
        store = open_store(settings, memory_reads=False)
        target = graphstore.Target(graph_iri)
        triples = graphstore.parse_graph(file.read_bytes(), media, graph_iri)
        graphstore.write(store, target, triples, replace=True)
        if publish:
            graphstore.publish(store, [graph_iri])
    except ZitkgError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(ZitkgError(f"cannot open the store at {settings.store}: {exc}", hint="is a server using it?"))
    state = "published" if graph_iri in store.published_graphs() else "not published (zitkg publish IRI)"
    click.echo(f"{len(triples):8d}  triples in <{graph_iri}>, {state}")


def _publication(graphs: tuple[str, ...], store_path: Path | None, unpublish: bool) -> None:
    from zitkg import graphstore
    from zitkg.backends import open_store

    settings = _settings(store=store_path)
    try:
        store = open_store(settings, memory_reads=False)
        now = graphstore.publish(store, graphs, unpublish=unpublish)
    except ZitkgError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(ZitkgError(f"cannot open the store at {settings.store}: {exc}", hint="is a server using it?"))
    for graph in now:
        click.echo(graph)


@main.command()
@click.argument("graphs", nargs=-1, required=True)
@_store_option
def publish(graphs: tuple[str, ...], store_path: Path | None) -> None:
    """Publish GRAPHS (IRIs of graphs an administrator loaded); prints what is published now."""
    _publication(graphs, store_path, unpublish=False)


@main.command()
@click.argument("graphs", nargs=-1, required=True)
@_store_option
def unpublish(graphs: tuple[str, ...], store_path: Path | None) -> None:
    """Take GRAPHS out of the public dataset (they stay in the store); prints what is published now."""
    _publication(graphs, store_path, unpublish=True)


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "turtle"]), default="text")
@click.option("--lang", type=click.Choice(["pl", "en"]), default="pl", help="Language of the messages.")
@_store_option
def validate(files: tuple[Path, ...], fmt: str, lang: str, store_path: Path | None) -> None:
    """Validate Turtle FILES (default: the bundled data) against the SHACL shapes.

    Exit 0 when the data conforms (warnings allowed), 1 when it does not, 2 on an error.
    """
    from zitkg import validation

    try:
        if files:
            data = validation.parse_files(files)
            report = validation.validate(
                data, context=validation.bundled_data_graph(), focus_nodes=validation.described_subjects(data)
            )
        else:
            report = validation.validate(validation.bundled_data_graph())
    except ZitkgError as exc:
        _fail(exc)
    except SyntaxError as exc:  # rdflib's Turtle parser reports line and position in the message
        _fail(ZitkgError(f"cannot parse: {exc}"))
    except Exception as exc:  # noqa: BLE001 - rdflib raises several unrelated types for bad input
        _fail(ZitkgError(f"cannot parse: {type(exc).__name__}: {exc}"))
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    elif fmt == "turtle":
        click.echo(report.graph.serialize(format="turtle"))
    else:
        for result in report.results:
            message = result.message_pl if lang == "pl" else result.message_en
            where = f" {result.path}" if result.path else ""
            value = f" = {result.value}" if result.value else ""
            click.echo(f"{result.severity:9s} {result.focus_node}{where}{value}\n          {message}")
        counts = {s: sum(r.severity == s for r in report.results) for s in ("Violation", "Warning", "Info")}
        verdict = "conforms" if report.conforms else "does not conform"
        click.echo(f"{verdict}: {counts['Violation']} violations, {counts['Warning']} warnings, {counts['Info']} infos")
    sys.exit(0 if report.conforms else 1)


@main.command()
@click.argument("query")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A parameter of a library query.")
@click.option("--lang", type=click.Choice(["pl", "en"]), default="pl", show_default=True, help="Label language.")
@click.option("--format", "fmt", type=_FORMAT_CHOICE, default="table", help="Output format.")
@click.option("--timeout", type=float, default=None, help="Time limit in seconds (default: ZITKG_QUERY_TIMEOUT).")
@_store_option
def query(
    query: str, params: tuple[str, ...], lang: str, fmt: str, timeout: float | None, store_path: Path | None
) -> None:
    """Run QUERY over the published graphs: a library query's id (see `zitkg queries`), a .rq file or SPARQL."""
    from zitkg import resources
    from zitkg.backends import open_store
    from zitkg.bundle import ensure_loaded
    from zitkg.output import render
    from zitkg.queries import QueryLibrary, Registry
    from zitkg.sparql.service import SparqlService
    from zitkg.store import OxigraphStore

    settings = _settings(store=store_path)
    raw_params = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep:
            _fail(ZitkgError(f"--param needs NAME=VALUE, got {item!r}"))
        raw_params[name] = value
    try:
        registry = Registry(resources.queries_dir())
        if settings.remote:
            store = open_store(settings)
        elif (settings.store / "CURRENT").exists():
            store = OxigraphStore(settings.store, read_only=True)
        else:
            store = OxigraphStore(settings.store)
            ensure_loaded(store)
        service = SparqlService(store, settings.replace(query_workers=1))
        try:
            omit: set[str] = set()
            if re.fullmatch(r"[a-z][a-z0-9-]*", query) and query in {q.id for q in registry}:
                _definition, answer, bound = QueryLibrary(registry, service).run(
                    query, raw_params, lang=lang, timeout=timeout
                )
                omit = set(bound)
            else:
                if raw_params:
                    _fail(ZitkgError("--param only applies to library queries", hint="see `zitkg queries`"))
                path = Path(query)
                text = path.read_text(encoding="utf-8") if query.endswith(".rq") and path.is_file() else query
                answer = service.query(text, result_format="python", graph_format="python", timeout=timeout)
        finally:
            service.close()
        sys.stdout.write(render(answer, fmt, omit=omit))
        if answer.truncated:
            click.echo(f"(cut at {settings.max_rows} rows)", err=True)
    except ZitkgError as exc:
        _fail(exc)


@main.command()
@click.option("--lang", type=click.Choice(["pl", "en"]), default="pl", show_default=True)
def queries(lang: str) -> None:
    """List the library's queries with their parameters."""
    from zitkg import resources
    from zitkg.queries import Registry

    try:
        registry = Registry(resources.queries_dir())
    except ZitkgError as exc:
        _fail(exc)
    for definition in registry:
        click.echo(f"{definition.id}: {definition.title[lang]}")
        for param in definition.params:
            default = f" (default: {param.default})" if param.default else ""
            click.echo(f"    --param {param.name}=…  {param.expected}{default}")


@main.command()
@_store_option
@click.option("--host", default=None, help="Interface to bind (default: ZITKG_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default: ZITKG_PORT or 8123).")
@click.option("--threads", type=int, default=None,
              help="Request threads per worker (default: 2 x CPU cores + 1, the most granian runs without warning).")
@click.option("--workers", type=int, default=1, show_default=True,
              help="Web worker processes; more than one needs a remote store (ZITKG_SPARQL_QUERY_URL).")
def serve(store_path: Path | None, host: str | None, port: int | None, threads: int | None, workers: int) -> None:
    """Serve the graph over HTTP; loads the bundled data into an empty store first."""
    from zitkg.server import default_threads, run

    settings = _settings(store=store_path, host=host, port=port)
    if workers > 1 and not settings.remote:
        _fail(ZitkgError("several workers need a remote store: the embedded store admits one process",
                         hint="set ZITKG_SPARQL_QUERY_URL, or use --threads"))
    try:
        run(settings, threads=threads or default_threads(), workers=workers)
    except ZitkgError as exc:
        _fail(exc)


@main.group()
def token() -> None:
    """API tokens of organisations (works while the server runs)."""


def _accounts(store_path: Path | None):
    from zitkg.accounts import Accounts, accounts_path

    settings = _settings(store=store_path)
    return Accounts(accounts_path(settings.store)), settings


@token.command("create")
@click.option("--org", "organisation", required=True, help="IRI of the ZIT association.")
@click.option("--role", type=click.Choice(["submitter", "reviewer", "admin"]), default="submitter", show_default=True)
@click.option("--label", default="", help="A note for whom the token is (shown by `token list`).")
@_store_option
def token_create(organisation: str, role: str, label: str, store_path: Path | None) -> None:
    """Create a token; it is printed once and stored only as a hash."""
    from zitkg.store import OxigraphStore

    accounts, settings = _accounts(store_path)
    if not settings.remote and (settings.store / "CURRENT").exists():
        import pyoxigraph as ox

        store = OxigraphStore(settings.store, read_only=True, memory_reads=False)
        query = (
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            "SELECT ?org WHERE { GRAPH ?g { ?org a ?c } GRAPH ?o { ?c rdfs:subClassOf* "
            "<https://w3id.org/sieci-zit/ontology#ZITAssociation> } }"
        )
        try:
            known = any(True for _ in store.read_store().query(query, substitutions={
                ox.Variable("org"): ox.NamedNode(organisation)}))
        except ValueError:
            known = False
        if not known:
            _fail(ZitkgError(f"{organisation} is not a ZIT association in the store at {settings.store}",
                             hint="use an IRI like https://w3id.org/sieci-zit/id/org/bof"))
    account, secret = accounts.create(organisation, role, label)
    click.echo(secret)
    click.echo(f"token {account.token_id} for {organisation} ({role}); keep it safe, it is not shown again",
               err=True)


@token.command("list")
@_store_option
def token_list(store_path: Path | None) -> None:
    """List tokens (never their secrets)."""
    accounts, _settings_ = _accounts(store_path)
    for account in accounts.list():
        state = f"revoked {account.revoked}" if account.revoked else "active"
        click.echo(f"{account.token_id}  {account.role:9s}  {account.organisation}  {account.created}  {state}"
                   + (f"  {account.label}" if account.label else ""))


@token.command("revoke")
@click.argument("token_id")
@_store_option
def token_revoke(token_id: str, store_path: Path | None) -> None:
    """Revoke a token by its id (the part after zitkg_)."""
    accounts, _settings_ = _accounts(store_path)
    if not accounts.revoke(token_id):
        _fail(ZitkgError(f"no active token {token_id!r}"))
    click.echo(f"revoked {token_id}")


@main.command("export")
@click.argument("out_dir", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--date", "release_date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Release date, YYYY-MM-DD (default: today).")
@_store_option
def export_release(out_dir: Path, release_date: Any, store_path: Path | None) -> None:
    """Write a dated release of the published data into DIR/<date>_<key>/.

    Dumps (Turtle, N-Triples gzip, JSON-LD, TriG), CSV tables with CSVW metadata, GraphML, VoID, the
    DCAT-AP catalog (3.0.1 and 2.1.1), a changelog against the previous release in DIR, and SHA256SUMS.
    Prints the release folder. Exit 0 on success, 2 on an error.
    """
    from zitkg.bundle import ensure_loaded
    from zitkg.export import export
    from zitkg.store import OxigraphStore

    settings = _settings(store=store_path)
    try:
        if getattr(settings, "remote", False):
            from zitkg.backends import open_store

            store = open_store(settings)
        elif (settings.store / "CURRENT").exists():
            store = OxigraphStore(settings.store, read_only=True)
        else:
            store = OxigraphStore(settings.store)
            ensure_loaded(store)
        release = export(store, out_dir, settings, release_date.date() if release_date else None)
    except ZitkgError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(ZitkgError(f"cannot write the release into {out_dir}: {exc}"))
    click.echo(str(release.folder))


@main.command("dump")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@_store_option
def dump_command(path: Path, store_path: Path | None) -> None:
    """Back up every graph (metadata and private graphs included) as N-Quads (.nq or .nq.gz).

    Works while the server runs (a read-only view of the embedded store, or the remote store).
    """
    from zitkg.backends import open_store
    from zitkg.backup import dump

    settings = _settings(store=store_path)
    try:
        store = open_store(settings, read_only=not settings.remote, memory_reads=False)
        count = dump(store, path)
    except (ZitkgError, OSError, RuntimeError) as exc:
        _fail(exc if isinstance(exc, ZitkgError) else ZitkgError(f"cannot dump {settings.store}: {exc}"))
    click.echo(f"{count} quads written to {path}")


@main.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_store_option
def restore_command(path: Path, store_path: Path | None) -> None:
    """Restore a dump into the store (stop the server first when the store is embedded)."""
    from zitkg.backends import open_store
    from zitkg.backup import restore

    settings = _settings(store=store_path)
    try:
        store = open_store(settings, memory_reads=False)
        count = restore(store, path)
    except SyntaxError as exc:
        _fail(ZitkgError(f"{path} is not valid N-Quads: {exc}"))
    except (ZitkgError, OSError, RuntimeError) as exc:
        _fail(exc if isinstance(exc, ZitkgError) else ZitkgError(f"cannot restore into {settings.store}: {exc}"))
    click.echo(f"{count} quads restored into {settings.sparql_query_url or settings.store}")
