"""The one reader of request bodies: a body arrives whole, within the limits, or is refused.

Every route that reads a body (submissions, SPARQL POST and updates, review forms) goes through
:func:`read_body`, whatever the framing:

- **Over the size limit: 413, never a cut body.** With a server that ends streamed bodies itself
  (granian sets ``wsgi.input_terminated``), werkzeug caps a chunked body at ``MAX_CONTENT_LENGTH`` by
  *stopping* there: ``get_data()`` returned the first 2 MB of a larger upload as if it were the whole
  body, and a cut Turtle file was stored. Here one byte more than the limit is read, and finding it
  is the 413.
- **A Content-Length that promises more than arrives: 400.** granian ends the stream early when the
  client half-closes, without an error; the count is compared with the header here.
- **A body that stalls: 408.** granian has no timeout for a request body (emmett-framework/granian#728)
  and a blocked read cannot be interrupted from Python, so a helper thread reads the body and the
  request gives up at ``body_timeout``; the helper ends when the client sends the rest or goes away.
  After a 413 the helper reads (and drops) what the client still sends, up to a bound, so that the
  client reaches the point where it reads the answer instead of meeting a reset connection.
- **A Content-Encoding (gzip, deflate, …): 415.** Nothing here decodes one, so a compressed body is
  never expanded and never mistaken for the plain one.

The body read is kept in the WSGI environ (and ``wsgi.input`` replaced by it), so that werkzeug's own
parsers (``request.form``) read exactly these bytes, and a second call costs nothing.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from typing import IO, Any

from flask import current_app, request
from werkzeug.datastructures import MultiDict

from zitkg.errors import BadRequest, PayloadTooLarge, RequestTimeout, UnsupportedMediaType, ZitkgError

BODY_KEY = "zitkg.body"
CHUNK = 64 * 1024
DRAIN_FACTOR = 8  # after a 413, read and drop at most this many times the limit
MAX_JSON_DEPTH = 32  # JSON bodies of the API (not RDF): {"reason": "..."} is depth 1


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"the request body is larger than {limit} bytes; nothing was read further and nothing was stored",
        hint="send a smaller file (ZITKG_MAX_BODY_BYTES sets the limit)",
        details={"limitBytes": limit, "message": {
            "pl": f"Treść żądania przekracza {limit} bajtów; niczego nie zapisano.",
            "en": f"The request body is larger than {limit} bytes; nothing was stored.",
        }},
    )


def read_body(environ: dict[str, Any], limit: int, timeout: float) -> bytes:
    """The whole body of the request in ``environ``; 413, 400, 408 or 415 instead of a partial one."""
    if BODY_KEY in environ:
        return environ[BODY_KEY]
    encoding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding not in {"", "identity"}:
        raise UnsupportedMediaType(
            f"request bodies with Content-Encoding {encoding[:40]!r} are not accepted",
            hint="send the body uncompressed (the size limit applies to what is sent)",
        )
    declared = _declared_length(environ)
    if declared is not None and declared > limit:
        raise too_large(limit)
    if declared == 0 or (declared is None and "wsgi.input_terminated" not in environ):
        # No length and a server that does not end the stream itself: reading could block forever,
        # and HTTP/1.1 without Content-Length or chunked framing has no body (werkzeug's safe fallback).
        body = b""
    else:
        body = _read(environ["wsgi.input"], limit, declared, timeout)
    environ[BODY_KEY] = body
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return body


def _declared_length(environ: dict[str, Any]) -> int | None:
    raw = environ.get("CONTENT_LENGTH")
    if raw is None or raw == "":
        return None
    if not raw.strip().isdigit():
        raise BadRequest(f"Content-Length must be a whole number of bytes; got {raw[:40]!r}")
    return int(raw)


class _Reader:
    """Reads a body in a thread of its own, so that the request can stop waiting for it."""

    def __init__(self, stream: IO[bytes], want: int, drain: int) -> None:
        self.stream = stream
        self.want = want
        self.drain = drain
        self.parts: list[bytes] = []
        self.size = 0
        self.error: Exception | None = None
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while self.size < self.want:
                chunk = self.stream.read(min(CHUNK, self.want - self.size))
                if not chunk:
                    break
                self.parts.append(chunk)
                self.size += len(chunk)
        except Exception as exc:  # noqa: BLE001 - the server's stream may raise anything on a broken connection
            self.error = exc
        self.done.set()
        if self.error is None and self.size >= self.want and self.drain:
            self._drain()

    def _drain(self) -> None:
        """Read and drop the rest of an over-long body (bounded), so that the client gets the 413."""
        left = self.drain
        try:
            while left > 0:
                chunk = self.stream.read(min(CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
        except Exception:  # noqa: BLE001, S110 - the client went away: nothing left to drain
            return


def _read(stream: IO[bytes], limit: int, declared: int | None, timeout: float) -> bytes:
    # With a length, exactly that many bytes (never more: what follows belongs to the next request);
    # without one, one byte past the limit, which is enough to know that the body is too large.
    want = declared if declared is not None else limit + 1
    reader = _Reader(stream, want, drain=0 if declared is not None else DRAIN_FACTOR * limit)
    thread = threading.Thread(target=reader.run, name="zitkg-body-reader", daemon=True)
    thread.start()
    if not reader.done.wait(timeout):  # the helper stays blocked until the client sends more or goes away
        raise RequestTimeout(
            f"the request body did not arrive within {timeout:g} seconds; nothing was stored",
            hint="send the body at once (ZITKG_BODY_TIMEOUT sets the time allowed)",
            details={"receivedBytes": reader.size},
        )
    if reader.error is not None:
        raise BadRequest("the request body could not be read to its end; nothing was stored",
                         details={"receivedBytes": reader.size})
    body = b"".join(reader.parts)
    if declared is None and len(body) > limit:
        raise too_large(limit)
    if declared is not None and len(body) < declared:
        raise BadRequest(
            f"the request body ended after {len(body)} of the {declared} bytes its Content-Length announced; "
            "nothing was stored",
            details={"receivedBytes": len(body), "contentLength": declared},
        )
    return body


# --- the Flask side -----------------------------------------------------------------------------------


def _settings() -> Any:
    return current_app.extensions["zitkg"]["settings"]


def request_body() -> bytes:
    """The current request's body, read by :func:`read_body` with the service's limits."""
    if BODY_KEY not in request.environ and ("stream" in request.__dict__ or "form" in request.__dict__):
        # Someone read the body through werkzeug first, which cuts streamed bodies at the limit: a bug to
        # fix in the code, never something to answer from.
        raise ZitkgError("the request body was read before the body reader (a bug: see web/bodies.py)")
    settings = _settings()
    return read_body(request.environ, settings.max_body_bytes, settings.body_timeout)


def request_text() -> str:
    """The body as text (UTF-8; undecodable bytes replaced, as werkzeug's ``get_data(as_text=True)``)."""
    return request_body().decode("utf-8", "replace")


def request_form() -> MultiDict[str, str]:
    """Form fields (URL-encoded or multipart) of a body read whole first; empty for other bodies."""
    request_body()
    return request.form


def request_json(depth: int = MAX_JSON_DEPTH) -> Any:
    """A JSON body (not RDF: JSON-LD submissions have their own limits); 400 when malformed or too deep."""
    text = request_body()
    try:
        value = json.loads(text)
    except RecursionError:
        raise too_deep(depth) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {str(exc)[:200]}") from None
    if _deeper_than(value, depth):
        raise too_deep(depth)
    return value


def too_deep(depth: int) -> BadRequest:
    return BadRequest(f"the JSON body is nested more than {depth} levels deep",
                      details={"maxDepth": depth, "message": {
                          "pl": f"Dane JSON są zagnieżdżone głębiej niż {depth} poziomów.",
                          "en": f"The JSON data are nested more than {depth} levels deep.",
                      }})


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether a parsed JSON value nests more than ``limit`` arrays/objects (no recursion)."""
    children: Callable[[Any], Any] = lambda v: v.values() if isinstance(v, dict) else v  # noqa: E731
    level = [value] if isinstance(value, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [c for v in level for c in children(v) if isinstance(c, (dict, list))]
    return False
