"""One error type with an HTTP status; the web layer shapes every error from it (STYLE.md §5)."""

from __future__ import annotations

from typing import Any


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


class PayloadTooLarge(ZitkgError):
    status = 413
    code = "payload-too-large"


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
