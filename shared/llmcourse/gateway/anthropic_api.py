"""Anthropic Messages on the local model: POST /v1/messages (and /v1/messages/count_tokens).

Covers plain and streamed replies (the full event sequence: message_start, content_block_start,
ping, content_block_delta, content_block_stop, message_delta, message_stop), a system prompt as a
string or text blocks, `tools` -> `tool_use` blocks with stop_reason "tool_use", `tool_result`
blocks in the history, and `output_config.format` json_schema (structured outputs).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from ..chat import Reply
from . import backend
from .errors import GatewayError

router = APIRouter()


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class Message(_Loose):
    role: Literal["user", "assistant"]
    content: StrictStr | list[dict[str, Any]]


class Tool(_Loose):
    name: StrictStr
    description: StrictStr | None = None
    input_schema: dict[str, Any] | None = None
    type: StrictStr | None = None


class MessagesRequest(_Loose):
    model: StrictStr
    max_tokens: StrictInt = Field(ge=1)
    messages: list[Message]
    system: StrictStr | list[dict[str, Any]] | None = None
    temperature: float | None = Field(None, ge=0, le=1)
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: StrictInt | None = None
    stop_sequences: list[StrictStr] | None = None
    stream: StrictBool | None = False
    tools: list[Tool] | None = None
    tool_choice: dict[str, Any] | None = None
    output_config: dict[str, Any] | None = None
    output_format: dict[str, Any] | None = None


class CountRequest(_Loose):
    model: StrictStr
    messages: list[Message]
    system: StrictStr | list[dict[str, Any]] | None = None
    tools: list[Tool] | None = None


def _blocks_text(blocks, where: str) -> str:
    if isinstance(blocks, str):
        return blocks
    out = []
    for j, b in enumerate(blocks or []):
        if b.get("type") != "text" or not isinstance(b.get("text"), str):
            raise GatewayError(400, f"{where}.{j}: the local model reads only text blocks here, "
                                    f"got {b.get('type')!r}")
        out.append(b["text"])
    return "\n".join(out)


def _messages(req) -> list[dict]:
    if not req.messages:
        raise GatewayError(400, "messages: at least one message is required")
    out = []
    if req.system:
        out.append({"role": "system", "content": _blocks_text(req.system, "system")})
    names: dict[str, str] = {}
    for i, m in enumerate(req.messages):
        if isinstance(m.content, str):
            out.append({"role": m.role, "content": m.content})
            continue
        texts, calls = [], []
        for j, b in enumerate(m.content):
            kind = b.get("type")
            if kind == "text" and isinstance(b.get("text"), str):
                texts.append(b["text"])
            elif kind == "tool_use" and m.role == "assistant":
                names[b.get("id", "")] = b.get("name", "")
                calls.append({"id": b.get("id", ""), "name": b.get("name", ""), "arguments": b.get("input") or {}})
            elif kind == "tool_result" and m.role == "user":
                content = b.get("content", "")
                result = content if isinstance(content, str) else _blocks_text(content, f"messages.{i}.content.{j}")
                out.append({"role": "tool", "tool_call_id": b.get("tool_use_id"), "content": result,
                            "name": names.get(b.get("tool_use_id"), "the tool"), "is_error": bool(b.get("is_error"))})
            else:
                raise GatewayError(400, f"messages.{i}.content.{j}: block type {kind!r} is not supported "
                                        f"here (the local model reads text, tool_use and tool_result)")
        if texts or calls:
            msg = {"role": m.role, "content": "\n".join(texts)}
            if calls:
                msg["tool_calls"] = calls
            out.append(msg)
    return out


def to_call(req: MessagesRequest) -> dict:
    """Check the request as Anthropic would (400/404) and turn it into chat()'s arguments."""
    if not backend.accepts_model(req.model):
        raise GatewayError(404, f"model: {req.model}")
    messages = _messages(req)
    tools = []
    for i, t in enumerate(req.tools or []):
        if t.type not in (None, "custom"):
            raise GatewayError(400, f"tools.{i}: server tool {t.type!r} is not available on the local gateway")
        tools.append({"type": "function", "function": {"name": t.name, "description": t.description or "",
                                                       "parameters": t.input_schema or {"type": "object"}}})
    choice = req.tool_choice or {}
    if choice.get("type") == "none":
        tools = []
    elif choice.get("type") == "tool":
        tools = [t for t in tools if t["function"]["name"] == choice.get("name")]
        if not tools:
            raise GatewayError(400, f"tool_choice.name: tool {choice.get('name')!r} is not in tools")
    fmt = (req.output_config or {}).get("format") or req.output_format
    schema = None
    if fmt:
        if fmt.get("type") != "json_schema" or not isinstance(fmt.get("schema"), dict):
            raise GatewayError(400, "output_config.format: expected {'type': 'json_schema', 'schema': {...}}")
        schema = fmt["schema"]
    must = choice.get("type") in ("any", "tool")
    return dict(messages=messages, max_tokens=req.max_tokens, temperature=req.temperature, top_p=req.top_p,
                tool_choice="required" if must and tools else None,
                tools=tools, schema=schema, stop=list(req.stop_sequences or []))


_STOP = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def _content(r: Reply) -> list[dict]:
    if r.tool_calls:
        return [{"type": "tool_use", "id": backend.new_id("toolu_"), "name": c.name, "input": c.arguments}
                for c in r.tool_calls]
    return [{"type": "text", "text": r.text}]


def _message(model: str, content: list, stop_reason, a_in: int, a_out: int) -> dict:
    return {"id": backend.new_id("msg_"), "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": a_in, "output_tokens": a_out,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}


def _event(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind} | data)}\n\n"


def _events(model: str, r: Reply, n_in: int, whole: bool):
    yield _event("message_start", {"message": _message(model, [], None, n_in, 1)})
    if whole:  # tool use or JSON, computed before the stream started
        for n, block in enumerate(_content(r)):
            if block["type"] == "tool_use":
                yield _event("content_block_start", {"index": n, "content_block": block | {"input": {}}})
                yield _event("ping", {})
                yield _event("content_block_delta", {"index": n, "delta": {
                    "type": "input_json_delta", "partial_json": json.dumps(block["input"])}})
            else:
                yield _event("content_block_start", {"index": n, "content_block": {"type": "text", "text": ""}})
                yield _event("ping", {})
                yield _event("content_block_delta", {"index": n, "delta": {"type": "text_delta", "text": r.text}})
            yield _event("content_block_stop", {"index": n})
    else:
        yield _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
        yield _event("ping", {})
        for text in r:
            yield _event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": text}})
        yield _event("content_block_stop", {"index": 0})
    yield _event("message_delta", {"delta": {"stop_reason": _STOP[r.finish_reason], "stop_sequence": None},
                                   "usage": {"output_tokens": r.usage.output_tokens}})
    yield _event("message_stop", {})


@router.post("/v1/messages")
def messages(req: MessagesRequest):
    call = to_call(req)
    if not req.stream:
        r = backend.reply(call)
        return _message(req.model, _content(r), _STOP[r.finish_reason], r.usage.input_tokens, r.usage.output_tokens)
    whole = bool(call["tools"]) or call["schema"] is not None   # replied whole: errors before the 200
    r = backend.reply(call, stream=not whole)
    n_in = r.usage.input_tokens if whole else backend.count_input_tokens(call)
    return StreamingResponse(_events(req.model, r, n_in, whole), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


@router.post("/v1/messages/count_tokens")
def count_tokens(req: CountRequest):
    if not backend.accepts_model(req.model):
        raise GatewayError(404, f"model: {req.model}")
    tools = [{"type": "function", "function": {"name": t.name, "description": t.description or "",
                                               "parameters": t.input_schema or {"type": "object"}}}
             for t in req.tools or []]
    return {"input_tokens": backend.count_input_tokens({"messages": _messages(req), "tools": tools})}


def models_page() -> dict:
    """GET /v1/models as Anthropic's SDK expects it (sent with an `anthropic-version` header)."""
    data = [{"type": "model", "id": m, "display_name": m, "created_at": "2024-11-01T00:00:00Z"}
            for m in backend.local_names()]
    return {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
