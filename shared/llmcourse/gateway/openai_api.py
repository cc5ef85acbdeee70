"""OpenAI Chat Completions on the local model: POST /v1/chat/completions and GET /v1/models.

Covers plain and streamed (SSE) replies, `stream_options.include_usage`, `tools`/`tool_choice`,
`tool` messages in the history, and `response_format` json_object / json_schema. The request is
translated into chat()'s arguments and answered through the provider layer (see backend.py).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from ..chat import Reply
from . import backend
from .errors import GatewayError

router = APIRouter()


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class FunctionDef(_Loose):
    name: StrictStr
    description: StrictStr | None = None
    parameters: dict[str, Any] | None = None


class Tool(_Loose):
    type: Literal["function"]
    function: FunctionDef


class Message(_Loose):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: StrictStr | list[dict[str, Any]] | None = None
    name: StrictStr | None = None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: StrictStr | None = None


class ChatRequest(_Loose):
    model: StrictStr
    messages: list[Message]
    max_tokens: StrictInt | None = Field(None, ge=1)
    max_completion_tokens: StrictInt | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    seed: StrictInt | None = None
    n: StrictInt | None = Field(None, ge=1)
    stream: StrictBool | None = False
    stream_options: dict[str, Any] | None = None
    stop: StrictStr | list[StrictStr] | None = None
    tools: list[Tool] | None = None
    tool_choice: StrictStr | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None


def _text(content, where: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    parts = []
    for j, part in enumerate(content):
        if part.get("type") not in ("text", "input_text") or not isinstance(part.get("text"), str):
            raise GatewayError(400, f"Invalid content part {where}[{j}] of type {part.get('type')!r}: the "
                                    f"local model reads text only.", param=f"{where}[{j}]",
                               code="invalid_value")
        parts.append(part["text"])
    return "".join(parts)


def to_call(req: ChatRequest) -> dict:
    """Check the request as OpenAI would (400/404) and turn it into chat()'s arguments."""
    if not req.messages:
        raise GatewayError(400, "Invalid 'messages': empty array. Expected an array with minimum length 1, "
                                "but got an empty array instead.", param="messages", code="empty_array")
    if not backend.accepts_model(req.model):
        raise GatewayError(404, f"The model `{req.model}` does not exist or you do not have access to it. "
                                f"The local gateway answers 'local', the registry's models and gpt-*/o*/"
                                f"claude-*/gemini-* ids.", code="model_not_found")
    if (req.n or 1) > 1:
        raise GatewayError(400, "The local gateway returns one choice: set n=1.", param="n",
                           code="invalid_value")
    messages, names = [], {}
    for i, m in enumerate(req.messages):
        content = _text(m.content, f"messages[{i}].content")
        role = {"developer": "system", "function": "tool"}.get(m.role, m.role)
        calls = []
        for c in m.tool_calls or []:
            fn = c.get("function") or {}
            try:
                args = json.loads(fn.get("arguments") or "{}")
            except (TypeError, ValueError):
                raise GatewayError(400, f"messages[{i}].tool_calls: 'arguments' must be a JSON string.",
                                   param=f"messages[{i}].tool_calls", code="invalid_value") from None
            calls.append({"id": c.get("id") or f"call_{i}", "name": fn.get("name", ""), "arguments": args})
            names[c.get("id")] = fn.get("name")
        if role == "tool" and m.tool_call_id is None and m.role == "tool":
            raise GatewayError(400, f"Missing required parameter: 'messages[{i}].tool_call_id'.",
                               param=f"messages[{i}].tool_call_id", code="missing_required_parameter")
        msg = {"role": role, "content": content}
        if calls:
            msg["tool_calls"] = calls
        if role == "tool":
            msg |= {"tool_call_id": m.tool_call_id, "name": m.name or names.get(m.tool_call_id) or "the tool"}
        messages.append(msg)
    if all(m["role"] == "system" for m in messages):
        raise GatewayError(400, "The messages hold only a system prompt: add a user message.",
                           param="messages", code="invalid_value")
    tools = [t.model_dump(exclude_none=True) for t in req.tools or []]
    choice = req.tool_choice
    if choice == "none":
        tools = []
    elif isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        tools = [t for t in tools if t["function"]["name"] == wanted]
        if not tools:
            raise GatewayError(400, f"tool_choice names function {wanted!r}, which is not in 'tools'.",
                               param="tool_choice", code="invalid_value")
    must = choice == "required" or isinstance(choice, dict)
    return dict(messages=messages, max_tokens=req.max_completion_tokens or req.max_tokens,
                tool_choice="required" if must and tools else None,
                temperature=req.temperature, top_p=req.top_p, seed=req.seed, tools=tools,
                schema=_schema(req.response_format),
                stop=[req.stop] if isinstance(req.stop, str) else list(req.stop or []))


def _schema(fmt: dict | None) -> dict | None:
    if not fmt or fmt.get("type") == "text":
        return None
    if fmt.get("type") == "json_object":
        return {"type": "object"}   # any object
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            raise GatewayError(400, "Missing required parameter: 'response_format.json_schema.schema'.",
                               param="response_format.json_schema.schema", code="missing_required_parameter")
        return schema
    raise GatewayError(400, f"Invalid value for 'response_format.type': {fmt.get('type')!r}. Supported "
                            f"values are: 'text', 'json_object' and 'json_schema'.",
                       param="response_format.type", code="invalid_value")


def _usage(r: Reply) -> dict:
    i, o = r.usage.input_tokens, r.usage.output_tokens
    return {"prompt_tokens": i, "completion_tokens": o, "total_tokens": i + o}


def _tool_calls(r: Reply) -> list[dict]:
    return [{"id": backend.new_id("call_"), "type": "function",
             "function": {"name": c.name, "arguments": json.dumps(c.arguments)}} for c in r.tool_calls]


def completion(model: str, r: Reply) -> dict:
    message = {"role": "assistant", "content": None if r.tool_calls else r.text, "refusal": None,
               "annotations": []}
    if r.tool_calls:
        message["tool_calls"] = _tool_calls(r)
    return {"id": backend.new_id("chatcmpl-"), "object": "chat.completion", "created": backend.now(),
            "model": model, "system_fingerprint": "llmcourse-local",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": r.finish_reason}],
            "usage": _usage(r)}


def _sse(obj) -> str:
    return f"data: {json.dumps(obj)}\n\n"


def _events(model: str, r: Reply, include_usage: bool, whole: bool):
    base = {"id": backend.new_id("chatcmpl-"), "object": "chat.completion.chunk", "created": backend.now(),
            "model": model, "system_fingerprint": "llmcourse-local"}

    def chunk(delta: dict, finish=None) -> str:
        body = base | {"choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        return _sse(body | {"usage": None} if include_usage else body)

    if whole:   # tool calls and JSON come whole (computed before the stream), sent as one delta
        yield chunk({"role": "assistant", "content": "" if not r.tool_calls else None})
        if r.tool_calls:
            yield chunk({"tool_calls": [c | {"index": n} for n, c in enumerate(_tool_calls(r))]})
        elif r.text:
            yield chunk({"content": r.text})
    else:
        yield chunk({"role": "assistant", "content": ""})
        for text in r:
            yield chunk({"content": text})
    yield chunk({}, r.finish_reason)
    if include_usage:
        yield _sse(base | {"choices": [], "usage": _usage(r)})
    yield "data: [DONE]\n\n"


@router.post("/v1/chat/completions")
def chat_completions(req: ChatRequest):
    call = to_call(req)
    if not req.stream:
        return completion(req.model, backend.reply(call))
    whole = bool(call["tools"]) or call["schema"] is not None   # replied whole: errors before the 200
    r = backend.reply(call, stream=not whole)
    include = bool((req.stream_options or {}).get("include_usage"))
    return StreamingResponse(_events(req.model, r, include, whole), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


def _model_card(model_id: str) -> dict:
    return {"id": model_id, "object": "model", "created": 1730419200, "owned_by": "llmcourse-local"}


@router.get("/v1/models")
def list_models(request: Request):
    if "anthropic-version" in request.headers:   # Anthropic's SDK lists models at the same path
        from .anthropic_api import models_page
        return models_page()
    return {"object": "list", "data": [_model_card(m) for m in backend.local_names()]}


@router.get("/v1/models/{model_id:path}")
def get_model(model_id: str):
    if not backend.accepts_model(model_id):
        raise GatewayError(404, f"The model `{model_id}` does not exist or you do not have access to it.",
                           param="model", code="model_not_found")
    return _model_card(model_id)
