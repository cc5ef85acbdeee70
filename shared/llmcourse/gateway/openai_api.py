"""OpenAI Chat Completions on the local model: POST /v1/chat/completions and GET /v1/models.

Covers plain and streamed (SSE) replies, `stream_options.include_usage`, `tools`/`tool_choice`
(tool calls come from `llmcourse.tools.local_tool_call`), `tool` messages in the history, and
`response_format` json_object / json_schema (from `llmcourse.structured.local_json`).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from . import backend
from .backend import Ask, Answer
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


def to_ask(req: ChatRequest) -> Ask:
    """Check the request as OpenAI would (400/404) and turn it into an Ask."""
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
            calls.append({"name": fn.get("name", ""), "arguments": args})
            names[c.get("id")] = fn.get("name")
        if role == "tool" and m.tool_call_id is None and m.role == "tool":
            raise GatewayError(400, f"Missing required parameter: 'messages[{i}].tool_call_id'.",
                               param=f"messages[{i}].tool_call_id", code="missing_required_parameter")
        msg = {"role": role, "content": content}
        if calls:
            msg["tool_calls"] = calls
        if role == "tool":
            msg["name"] = m.name or names.get(m.tool_call_id) or "the tool"
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
    return Ask(model=req.model, messages=messages, max_tokens=req.max_completion_tokens or req.max_tokens,
               temperature=req.temperature, top_p=req.top_p, seed=req.seed, tools=tools or None,
               schema=_schema(req.response_format),
               stop=[req.stop] if isinstance(req.stop, str) else list(req.stop or []))


def _schema(fmt: dict | None) -> dict | None:
    if not fmt or fmt.get("type") == "text":
        return None
    if fmt.get("type") == "json_object":
        return {"type": "object"}
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            raise GatewayError(400, "Missing required parameter: 'response_format.json_schema.schema'.",
                               param="response_format.json_schema.schema", code="missing_required_parameter")
        return schema
    raise GatewayError(400, f"Invalid value for 'response_format.type': {fmt.get('type')!r}. Supported "
                            f"values are: 'text', 'json_object' and 'json_schema'.",
                       param="response_format.type", code="invalid_value")


def _usage(a_in: int, a_out: int) -> dict:
    return {"prompt_tokens": a_in, "completion_tokens": a_out, "total_tokens": a_in + a_out}


def _tool_calls(a: Answer) -> list[dict]:
    return [{"id": backend.new_id("call_"), "type": "function",
             "function": {"name": a.tool_call["name"], "arguments": json.dumps(a.tool_call["arguments"])}}]


_FINISH = {"stop": "stop", "length": "length", "tool": "tool_calls"}


def completion(ask: Ask, a: Answer) -> dict:
    message = {"role": "assistant", "content": None if a.tool_call else a.text, "refusal": None,
               "annotations": []}
    if a.tool_call:
        message["tool_calls"] = _tool_calls(a)
    return {"id": backend.new_id("chatcmpl-"), "object": "chat.completion", "created": backend.now(),
            "model": ask.model, "system_fingerprint": "llmcourse-local",
            "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": _FINISH[a.finish]}],
            "usage": _usage(a.input_tokens, a.output_tokens)}


def _sse(obj) -> str:
    return f"data: {json.dumps(obj)}\n\n"


def _events(ask: Ask, include_usage: bool, whole=None):
    base = {"id": backend.new_id("chatcmpl-"), "object": "chat.completion.chunk", "created": backend.now(),
            "model": ask.model, "system_fingerprint": "llmcourse-local"}

    def chunk(delta: dict, finish=None) -> str:
        body = base | {"choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
        return _sse(body | {"usage": None} if include_usage else body)

    if whole is not None:
        a = whole   # tool calls and JSON come whole (computed before the stream), sent as one delta
        yield chunk({"role": "assistant", "content": "" if not a.tool_call else None})
        if a.tool_call:
            calls = [c | {"index": 0} for c in _tool_calls(a)]
            yield chunk({"tool_calls": calls})
        elif a.text:
            yield chunk({"content": a.text})
        usage = {"input_tokens": a.input_tokens, "output_tokens": a.output_tokens, "finish": a.finish}
    else:
        usage = {}
        yield chunk({"role": "assistant", "content": ""})
        for text in backend.stream(ask, usage):
            yield chunk({"content": text})
    yield chunk({}, _FINISH[usage.get("finish", "stop")])
    if include_usage:
        yield _sse(base | {"choices": [], "usage": _usage(usage["input_tokens"], usage["output_tokens"])})
    yield "data: [DONE]\n\n"


@router.post("/v1/chat/completions")
def chat_completions(req: ChatRequest):
    ask = to_ask(req)
    if req.stream:
        backend.plan(ask)  # raise the 400 for an oversized input before the stream starts
        include = bool((req.stream_options or {}).get("include_usage"))
        whole = backend.answer(ask) if ask.tools or ask.schema is not None else None  # errors before the 200
        return StreamingResponse(_events(ask, include, whole), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})
    return completion(ask, backend.answer(ask))


def _model_card(model_id: str) -> dict:
    return {"id": model_id, "object": "model", "created": 1730419200, "owned_by": "llmcourse-local"}


@router.get("/v1/models")
def list_models(request: Request):
    if "anthropic-version" in request.headers:   # Anthropic's SDK lists models at the same path
        from .anthropic_api import models_page
        return models_page()
    return {"object": "list", "data": [_model_card(m) for m in backend.LOCAL_NAMES]}


@router.get("/v1/models/{model_id:path}")
def get_model(model_id: str):
    if not backend.accepts_model(model_id):
        raise GatewayError(404, f"The model `{model_id}` does not exist or you do not have access to it.",
                           param="model", code="model_not_found")
    return _model_card(model_id)
