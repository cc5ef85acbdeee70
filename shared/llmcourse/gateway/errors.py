"""Errors in each provider's own shape, so the official SDKs raise their usual exceptions.

One exception class (`GatewayError`) is raised by every route; the app turns it, FastAPI's
validation errors and unknown paths into the JSON body of the API the request was aimed at:

- OpenAI:    {"error": {"message", "type", "param", "code"}}
- Anthropic: {"type": "error", "error": {"type", "message"}}
- Gemini:    {"error": {"code", "message", "status"}}

Nothing here echoes request headers, so an API key can never end up in an error body or a log.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

log = logging.getLogger("llmcourse.gateway")

_ANTHROPIC_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                    404: "not_found_error", 405: "invalid_request_error", 413: "request_too_large",
                    429: "rate_limit_error", 500: "api_error", 503: "overloaded_error"}
_GEMINI_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                  405: "INVALID_ARGUMENT", 413: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
                  503: "UNAVAILABLE"}
_OPENAI_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "invalid_request_error",
                 404: "invalid_request_error", 405: "invalid_request_error", 413: "invalid_request_error",
                 429: "rate_limit_exceeded", 500: "server_error", 503: "server_error"}


class GatewayError(Exception):
    """An HTTP error to send back: `status`, a message, and (OpenAI) the offending `param`/`code`."""

    def __init__(self, status: int, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code


def api_of(request: Request) -> str:
    """Which API a request speaks: "anthropic", "gemini" or "openai" (by path, then headers)."""
    path = request.url.path
    if path.startswith("/v1beta") or path.startswith("/v1/models/") and ":" in path:
        return "gemini"
    if path.startswith("/v1/messages") or "anthropic-version" in request.headers:
        return "anthropic"
    return "openai"


def error_body(api: str, status: int, message: str, *, param: str | None = None,
               code: str | None = None) -> dict:
    """The JSON error body `api` would send for this status and message."""
    if api == "anthropic":
        return {"type": "error", "error": {"type": _ANTHROPIC_TYPES.get(status, "invalid_request_error"),
                                           "message": message}}
    if api == "gemini":
        return {"error": {"code": status, "message": message,
                          "status": _GEMINI_STATUS.get(status, "INVALID_ARGUMENT")}}
    return {"error": {"message": message, "type": _OPENAI_TYPES.get(status, "invalid_request_error"),
                      "param": param, "code": code}}


def error_response(api: str, status: int, message: str, **kw) -> JSONResponse:
    return JSONResponse(error_body(api, status, message, **kw), status_code=status)


_UNION_TAGS = {"str", "int", "float", "bool", "none", "dict", "list"}
_UNION_PREFIXES = ("function-", "constrained-", "json-or-python", "lax-", "strict-")


def _path(loc) -> str:
    """("body", "messages", 0, "content") -> "messages[0].content"."""
    out = ""
    for part in loc:
        if part == "body":
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in str(part) or part in _UNION_TAGS or str(part).startswith(_UNION_PREFIXES):
            continue  # pydantic's names for union members: not a field
        else:
            out += ("." if out else "") + str(part)
    return out


def describe_validation(api: str, exc: RequestValidationError) -> tuple[str, str | None, str | None]:
    """(message, param, code) for the first problem pydantic found, worded like `api` words it."""
    errors = exc.errors()
    first = errors[0] if errors else {"loc": ("body",), "msg": "Invalid request", "type": "value_error"}
    where, msg, kind = _path(first.get("loc", ())), first.get("msg", "invalid"), first.get("type", "")
    if kind == "json_invalid" or not where and kind in ("model_attributes_type", "dict_type"):
        text = "We could not parse the JSON body of your request. Send a JSON object."
        if api == "gemini":
            text = "Invalid JSON payload received. Send a JSON object."
        return text, None, None
    if api == "anthropic":
        return f"{where}: {msg}", where, None
    if api == "gemini":
        return f"Invalid value at '{where}': {msg}", where, None
    if kind == "missing":
        return f"Missing required parameter: '{where}'.", where, "missing_required_parameter"
    return f"Invalid value for '{where}': {msg}.", where, "invalid_value"


def install(app) -> None:
    """Register the handlers that turn every error into the caller's API shape (never a traceback)."""

    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError):
        return error_response(api_of(request), exc.status, exc.message, param=exc.param, code=exc.code)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        api = api_of(request)
        message, param, code = describe_validation(api, exc)
        return error_response(api, 400, message, param=param, code=code)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException):
        api = api_of(request)
        if exc.status_code == 404:
            message = f"Unknown path {request.url.path}: the local gateway serves /v1/chat/completions, " \
                      f"/v1/responses, /v1/models, /v1/messages and /v1beta/models/{{model}}:generateContent."
        elif exc.status_code == 405:
            message = f"Method {request.method} is not allowed on {request.url.path}."
        else:
            message = str(exc.detail)
        return error_response(api, exc.status_code, message)

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception):
        log.exception("gateway: %s %s failed", request.method, request.url.path)
        return error_response(api_of(request), 500,
                              f"The local model failed: {type(exc).__name__}: {exc}".rstrip(": "))
