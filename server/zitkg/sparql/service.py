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
from zitkg.sparql.guard import check_remote_calls, is_bounded_lookup, query_dataset
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


class SparqlService:
    def __init__(self, store: GraphStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.pool = store.executor(settings)
        self._published: tuple[int, tuple[str, ...]] = (-1, ())
        self._published_lock = threading.Lock()
        self.cache = ResultCache()

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
    ) -> QueryAnswer:
        """Answer a read-only query over the published graphs only."""
        rows = min(max_rows, self.settings.max_rows) if max_rows else self.settings.max_rows
        cacheable = self.store.sole_writer
        version = self.store.version
        # Everything the answer depends on besides the data version; a hit skips the guards, which the
        # entry passed when it was stored (they depend on the text and fixed settings only).
        key = (sparql, result_format, graph_format, tuple(default_graph_uris), tuple(named_graph_uris), rows,
               tuple(sorted((k, str(v)) for k, v in (substitutions or {}).items())))
        if cacheable and (hit := self.cache.get(key, version)) is not None:
            return hit
        check_remote_calls(sparql, self.settings.allowed_service_hosts)
        published = self.published_graphs()
        allowed = set(published)
        if default_graph_uris or named_graph_uris:
            # The protocol's dataset, limited to what is public: an unpublished graph is simply empty here.
            default = tuple(g for g in default_graph_uris if g in allowed)
            named = tuple(g for g in named_graph_uris if g in allowed)
            if not default_graph_uris:
                default = ()
        elif (declared := query_dataset(sparql)) is not None:
            # FROM / FROM NAMED in the query (SPARQL 1.1 Protocol 2.1.4), limited to what is public as well.
            default = tuple(g for g in declared[0] if g in allowed)
            named = tuple(g for g in declared[1] if g in allowed)
        elif self.store.public_union:
            default, named = None, None  # the query store holds the published graphs only
        else:
            default, named = published, published
        request = QueryRequest(
            union_default=default is None,
            sparql=sparql,
            result_format=result_format,
            graph_format=graph_format,
            default_graphs=default,
            named_graphs=named,
            substitutions=dict(substitutions or {}),
            max_rows=rows,
        )
        try:
            if request.union_default and self.store.public_union and is_bounded_lookup(sparql):
                answer = self._run_here(request)
            else:
                answer = self.pool.run(request, self.effective_timeout(timeout))
        except QuerySyntaxError as exc:
            exc.details = syntax_details(exc.message)
            raise
        if cacheable:
            self.cache.put(key, version, answer)
        return answer

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

    def update(self, sparql: str, token: str | None) -> None:
        expected = self.settings.admin_token
        if not expected or not token or not hmac.compare_digest(token.encode(), expected.encode()):
            raise Forbidden(
                "this endpoint is read-only; SPARQL updates need an administrator token",
                hint="send 'Authorization: Bearer <token>' with the token set in ZITKG_ADMIN_TOKEN",
            )
        check_remote_calls(sparql, self.settings.allowed_service_hosts)
        try:
            self.store.update(sparql)
        except SyntaxError as exc:
            raise QuerySyntaxError(f"SPARQL syntax error: {exc}", details=syntax_details(str(exc))) from exc

    def close(self) -> None:
        self.pool.close()
