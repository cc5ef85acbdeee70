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

from . import backend
from .backend import Ask, Answer
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
                calls.append({"name": b.get("name", ""), "arguments": b.get("input") or {}})
            elif kind == "tool_result" and m.role == "user":
                content = b.get("content", "")
                result = content if isinstance(content, str) else _blocks_text(content, f"messages.{i}.content.{j}")
                out.append({"role": "tool", "name": names.get(b.get("tool_use_id"), "the tool"),
                            "content": ("Error: " if b.get("is_error") else "") + result})
            else:
                raise GatewayError(400, f"messages.{i}.content.{j}: block type {kind!r} is not supported "
                                        f"here (the local model reads text, tool_use and tool_result)")
        if texts or calls:
            msg = {"role": m.role, "content": "\n".join(texts)}
            if calls:
                msg["tool_calls"] = calls
            out.append(msg)
    return out


def to_ask(req: MessagesRequest) -> Ask:
    """Check the request as Anthropic would (400/404) and turn it into an Ask."""
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
    return Ask(model=req.model, messages=messages, max_tokens=req.max_tokens, temperature=req.temperature,
               top_p=req.top_p, tools=tools or None, schema=schema, stop=list(req.stop_sequences or []))


_STOP = {"stop": "end_turn", "length": "max_tokens", "tool": "tool_use"}


def _content(a: Answer) -> list[dict]:
    if a.tool_call:
        return [{"type": "tool_use", "id": backend.new_id("toolu_"), "name": a.tool_call["name"],
                 "input": a.tool_call["arguments"]}]
    return [{"type": "text", "text": a.text}]


def _message(ask: Ask, content: list, stop_reason, a_in: int, a_out: int) -> dict:
    return {"id": backend.new_id("msg_"), "type": "message", "role": "assistant", "model": ask.model,
            "content": content, "stop_reason": stop_reason, "stop_sequence": None,
            "usage": {"input_tokens": a_in, "output_tokens": a_out,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}


def _event(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind} | data)}\n\n"


def _events(ask: Ask, n_in: int, whole=None):
    yield _event("message_start", {"message": _message(ask, [], None, n_in, 1)})
    if whole is not None:  # tool use or JSON, computed before the stream started
        a = whole
        block = _content(a)[0]
        if a.tool_call:
            yield _event("content_block_start", {"index": 0, "content_block": block | {"input": {}}})
            yield _event("ping", {})
            yield _event("content_block_delta", {"index": 0, "delta": {
                "type": "input_json_delta", "partial_json": json.dumps(a.tool_call["arguments"])}})
        else:
            yield _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
            yield _event("ping", {})
            yield _event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": a.text}})
        usage = {"output_tokens": a.output_tokens, "finish": a.finish}
    else:
        yield _event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
        yield _event("ping", {})
        usage = {}
        for text in backend.stream(ask, usage):
            yield _event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": text}})
    yield _event("content_block_stop", {"index": 0})
    yield _event("message_delta", {"delta": {"stop_reason": _STOP[usage.get("finish", "stop")],
                                             "stop_sequence": None},
                                   "usage": {"output_tokens": usage.get("output_tokens", 0)}})
    yield _event("message_stop", {})


@router.post("/v1/messages")
def messages(req: MessagesRequest):
    ask = to_ask(req)
    if req.stream:
        _, n_in, _ = backend.plan(ask)
        whole = backend.answer(ask) if ask.tools or ask.schema is not None else None  # errors before the 200
        return StreamingResponse(_events(ask, n_in, whole), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    a = backend.answer(ask)
    return _message(ask, _content(a), _STOP[a.finish], a.input_tokens, a.output_tokens)


@router.post("/v1/messages/count_tokens")
def count_tokens(req: CountRequest):
    if not backend.accepts_model(req.model):
        raise GatewayError(404, f"model: {req.model}")
    _, n_in, _ = backend.plan(Ask(model=req.model, messages=_messages(req)))
    return {"input_tokens": n_in}


def models_page() -> dict:
    """GET /v1/models as Anthropic's SDK expects it (sent with an `anthropic-version` header)."""
    data = [{"type": "model", "id": m, "display_name": m, "created_at": "2024-11-01T00:00:00Z"}
            for m in backend.LOCAL_NAMES]
    return {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
