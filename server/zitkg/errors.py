"""One error type with an HTTP status; the web layer shapes every error from it (STYLE.md §5)."""

from __future__ import annotations

from typing import Any

ECHO_CHARS = 200  # input quoted in a message is cut here, so the sentence around it survives


def shown(value: object, limit: int = ECHO_CHARS) -> str:
    """``repr`` of an input value for a message, cut to ``limit`` characters with its full length noted."""
    full = value if isinstance(value, str) else str(value)
    text = repr(full[: limit + 1] if isinstance(value, str) else value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(full)} characters)"


class ZitkgError(Exception):
    """An error a user can act on: a status, a short code, a message and optional details."""

    status = 500
    code = "internal-error"

    def __init__(self, message: str, *, hint: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "error": self.code, "message": self.message}
        if self.hint:
            body["hint"] = self.hint
        if self.details is not None:
            body["details"] = self.details
        return body


class ConfigError(ZitkgError):
    status = 500
    code = "configuration-error"


class BadRequest(ZitkgError):
    status = 400
    code = "bad-request"


class QuerySyntaxError(BadRequest):
    code = "query-syntax-error"


class Forbidden(ZitkgError):
    status = 403
    code = "forbidden"


class NotFound(ZitkgError):
    status = 404
    code = "not-found"


class NotAcceptable(ZitkgError):
    status = 406
    code = "not-acceptable"


class RequestTimeout(ZitkgError):
    status = 408
    code = "request-timeout"


class PayloadTooLarge(ZitkgError):
    """413, whichever layer noticed (werkzeug names it so too: one code for clients to check)."""

    status = 413
    code = "request-entity-too-large"


class UnsupportedMediaType(ZitkgError):
    status = 415
    code = "unsupported-media-type"


class QueryTimeout(ZitkgError):
    status = 503
    code = "query-timeout"


class ServiceUnavailable(ZitkgError):
    status = 503
    code = "service-unavailable"


class TooManyRequests(ZitkgError):
    status = 429
    code = "too-many-requests"


class QueryEvaluationError(BadRequest):
    code = "query-evaluation-error"
