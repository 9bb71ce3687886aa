"""The query service behind every read: guards, published graphs only, time limit and row cap."""

from __future__ import annotations

import hmac
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence

from zitkg.errors import BadRequest, Forbidden, QuerySyntaxError
from zitkg.settings import Settings
from zitkg.sparql.execute import QueryAnswer, QueryRequest, execute
from zitkg.sparql.guard import is_bounded_lookup, with_using
from zitkg.sparql.policy import Policy, plan, plan_update
from zitkg.sparql.structure import Structure, analyse_query, analyse_update, without_guarded_keywords
from zitkg.store import GraphStore

MIN_TIMEOUT = 0.1
_POSITION = re.compile(r"error at (\d+):(\d+)")


def syntax_details(message: str) -> dict[str, int] | None:
    """Line and column from pyoxigraph's message ("error at 1:8: expected ...")."""
    match = _POSITION.search(message)
    return {"line": int(match.group(1)), "column": int(match.group(2))} if match else None


class ResultCache:
    """Answers kept by query and data version; any committed write empties it (the version moves).

    Only for a store this process writes alone: with a remote store other workers write too.
    """

    def __init__(self, max_bytes: int = 128 * 1024 * 1024, max_entry: int = 16 * 1024 * 1024) -> None:
        self._entries: OrderedDict[tuple, QueryAnswer] = OrderedDict()
        self._sizes: dict[tuple, int] = {}
        self._bytes = 0
        self._version = -1
        self._max_bytes, self._max_entry = max_bytes, max_entry
        self._lock = threading.Lock()

    @staticmethod
    def _size(answer: QueryAnswer) -> int:
        if answer.body is not None:
            return len(answer.body)
        return 200 * (len(answer.rows) + len(answer.triples)) + 100

    def get(self, key: tuple, version: int) -> QueryAnswer | None:
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self._sizes.clear()
                self._bytes, self._version = 0, version
                return None
            answer = self._entries.get(key)
            if answer is not None:
                self._entries.move_to_end(key)
            return answer

    def put(self, key: tuple, version: int, answer: QueryAnswer) -> None:
        size = self._size(answer)
        with self._lock:
            if version != self._version or size > self._max_entry or key in self._entries:
                return
            self._entries[key] = answer
            self._sizes[key] = size
            self._bytes += size
            while self._bytes > self._max_bytes:
                old, _ = self._entries.popitem(last=False)
                self._bytes -= self._sizes.pop(old)


class StructureCache:
    """Structures of texts already parsed (by a worker or here), so a text is parsed once per process."""

    def __init__(self, size: int = 4096) -> None:
        self._entries: OrderedDict[tuple[str, str | None], Structure] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str | None]) -> Structure | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[str, str | None], structure: Structure) -> None:
        with self._lock:
            self._entries[key] = structure
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


_TRUSTED = Structure(form=None)  # the project's own texts: no SERVICE, no dataset clause


class SparqlService:
    def __init__(self, store: GraphStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.pool = store.executor(settings)
        self._published: tuple[int, tuple[str, ...]] = (-1, ())
        self._published_lock = threading.Lock()
        self.cache = ResultCache()
        self.structures = StructureCache()

    def published_graphs(self) -> tuple[str, ...]:
        if not self.store.sole_writer:  # another worker may have published since: ask every time
            return tuple(self.store.published_graphs())
        with self._published_lock:
            version, graphs = self._published
            if version != self.store.version:
                version = self.store.version
                graphs = tuple(self.store.published_graphs())
                self._published = (version, graphs)
            return graphs

    def effective_timeout(self, requested: float | None) -> float:
        if requested is None:
            return self.settings.query_timeout
        if not requested >= MIN_TIMEOUT:  # also refuses NaN
            raise BadRequest(f"timeout must be at least {MIN_TIMEOUT} seconds; got {requested}")
        return min(requested, self.settings.query_timeout)

    def query(
        self,
        sparql: str,
        *,
        result_format: str = "json",
        graph_format: str = "turtle",
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        timeout: float | None = None,
        max_rows: int | None = None,
        substitutions: dict | None = None,
        base_iri: str | None = None,
        client: str | None = None,
        trusted: bool = False,
        admin: bool = False,
    ) -> QueryAnswer:
        """Answer a read-only query over the published graphs only.

        ``trusted`` is for the project's own query texts (library, pages), which skip the parse for the
        guards; any text a user wrote is parsed and judged on its structure (sparql/structure.py).
        ``client`` (an address) gets a fair share of the query workers; None: the service itself.
        """
        limit = self.effective_timeout(timeout)  # checked before the cache: a hit must not skip it
        if admin:
            return self._admin_query(sparql, result_format, graph_format, default_graph_uris, named_graph_uris,
                                     base_iri, limit)
        rows = min(max_rows, self.settings.max_rows) if max_rows else self.settings.max_rows
        cacheable = self.store.sole_writer
        version = self.store.version
        # Everything the answer depends on besides the data version; a hit skips the guards, which the
        # entry passed when it was stored (they depend on the text and fixed settings only).
        key = (sparql, result_format, graph_format, tuple(default_graph_uris), tuple(named_graph_uris), rows,
               base_iri, tuple(sorted((k, str(v)) for k, v in (substitutions or {}).items())))
        if cacheable and (hit := self.cache.get(key, version)) is not None:
            return hit
        policy = Policy(
            allowed_hosts=self.settings.allowed_service_hosts,
            published=self.published_graphs(),
            protocol_default=tuple(default_graph_uris),
            protocol_named=tuple(named_graph_uris),
            public_union=self.store.public_union,
        )
        request = QueryRequest(
            sparql=sparql,
            result_format=result_format,
            graph_format=graph_format,
            substitutions=dict(substitutions or {}),
            max_rows=rows,
            max_bytes=self.settings.max_answer_bytes,
            base_iri=base_iri,
        )
        known = (sparql, base_iri)
        structure = _TRUSTED if trusted else self.structures.get(known)
        if structure is None and is_bounded_lookup(sparql):
            structure = _TRUSTED  # one triple pattern, by an allow-list grammar: nothing to call, no FROM
        if structure is None:
            structure = without_guarded_keywords(sparql)
        if structure is None and not self.pool.checks_in_worker:
            structure = analyse_query(sparql, base_iri)  # a remote store: parsed here, under the parse lock
            self.structures.put(known, structure)
        try:
            if structure is None:  # a new text: the worker parses it, judges it, and runs it if allowed
                answer, found = self.pool.run(request, limit, policy, client)
                if found is not None:
                    self.structures.put(known, found)
            else:
                planned = plan(request, structure, policy)
                if planned.union_default and self.store.public_union and is_bounded_lookup(sparql):
                    answer = self._run_here(planned)
                elif self.pool.checks_in_worker:
                    answer, _ = self.pool.run(planned, limit, None, client)
                else:
                    answer = self.pool.run(planned, limit)
        except QuerySyntaxError as exc:
            if exc.details is None:
                exc.details = syntax_details(exc.message)
            raise
        if cacheable:
            self.cache.put(key, version, answer)
        return answer

    def is_admin(self, token: str | None) -> bool:
        expected = self.settings.admin_token
        return bool(expected and token and hmac.compare_digest(token.encode(), expected.encode()))

    def _admin_query(self, sparql: str, result_format: str, graph_format: str, default_graph_uris: Sequence[str],
                     named_graph_uris: Sequence[str], base_iri: str | None, limit: float) -> QueryAnswer:
        """The administrator's view: every graph (unpublished ones too), the store's own default graph.

        Guards stay (SERVICE/LOAD on the parsed query, row and byte caps); on the embedded store it runs in
        this process on the on-disk record, without the worker's time limit: an administrator is trusted
        not to run away, and may pass `timeout` to a remote store.
        """
        structure = analyse_query(sparql, base_iri)
        structure.check_remote_calls(self.settings.allowed_service_hosts)
        request = QueryRequest(
            sparql=sparql, result_format=result_format, graph_format=graph_format,
            default_graphs=tuple(default_graph_uris) or None, named_graphs=tuple(named_graph_uris) or None,
            max_rows=self.settings.max_rows, max_bytes=self.settings.max_answer_bytes, base_iri=base_iri,
            declares_dataset=structure.declares_dataset,
        )
        if not self.pool.checks_in_worker:
            return self.pool.run(request, limit)
        try:
            with self.store.lock:
                return execute(self.store.admin_store(), request)
        except SyntaxError as exc:
            raise QuerySyntaxError(f"SPARQL syntax error: {exc}", details=syntax_details(str(exc))) from exc

    def _run_here(self, request: QueryRequest) -> QueryAnswer:
        """A bounded lookup in this process: no worker hop (which costs more than the lookup itself).

        Under the store's write lock: a write brings the in-memory copy in step graph by graph, and a
        lookup must not see it half-way (workers are forked under the same lock for the same reason).
        """
        try:
            with self.store.lock:
                return execute(self.store.read_store(), request)
        except SyntaxError as exc:
            raise QuerySyntaxError(f"SPARQL syntax error: {exc}") from exc

    def update(self, sparql: str, token: str | None, base_iri: str | None = None,
               using: Sequence[str] = (), using_named: Sequence[str] = ()) -> None:
        """An administrator's update; ``using``/``using_named``: the Protocol's using-(named-)graph-uri."""
        expected = self.settings.admin_token
        if not expected or not token or not hmac.compare_digest(token.encode(), expected.encode()):
            raise Forbidden(
                "this endpoint is read-only; SPARQL updates need an administrator token",
                hint="send 'Authorization: Bearer <token>' with the token set in ZITKG_ADMIN_TOKEN",
            )
        structure = analyse_update(sparql, base_iri)
        structure.check_remote_calls(self.settings.allowed_service_hosts)
        if using or using_named:
            if structure.declares_dataset:
                raise BadRequest("using-graph-uri / using-named-graph-uri beside USING or WITH in the update",
                                 hint="name the dataset once: in the text or as parameters (SPARQL 1.1 Protocol 2.2.3)")
            sparql = with_using(sparql, using, using_named)
        sparql = plan_update(sparql, structure, self.store.named_graphs() if structure.bulk_operations else [],
                             bulk_allowed=self.store.sole_writer)
        if not sparql.strip():
            return  # CLEAR/DROP ALL or NAMED with no graph of the administrator's own: nothing to do
        try:
            self.store.update(sparql, base_iri=base_iri)
        except SyntaxError as exc:
            raise QuerySyntaxError(f"SPARQL syntax error: {exc}", details=syntax_details(str(exc))) from exc

    def close(self) -> None:
        self.pool.close()
