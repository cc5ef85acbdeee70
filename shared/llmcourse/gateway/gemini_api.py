"""Gemini generateContent on the local model: POST /v1beta/models/{model}:generateContent and
:streamGenerateContent (`?alt=sse`), plus GET /v1beta/models[/{model}].

Covers `systemInstruction`, `generationConfig` (temperature, topP, maxOutputTokens, stopSequences,
seed, responseMimeType with responseSchema or responseJsonSchema), `tools.functionDeclarations` ->
`functionCall` parts, `functionResponse` parts in the history, and `usageMetadata`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from pydantic.alias_generators import to_camel

from ..chat import Reply
from . import backend
from .errors import GatewayError

router = APIRouter()


class _Loose(BaseModel):
    # Gemini's JSON takes field names in camelCase or snake_case (google-genai sends some of each)
    model_config = ConfigDict(extra="allow", alias_generator=to_camel, populate_by_name=True)


def _get(d: dict, camel: str, default=None):
    """d[camel] or d[snake_case of camel]."""
    if camel in d:
        return d[camel]
    return d.get(re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), camel), default)


class Content(_Loose):
    role: StrictStr | None = None
    parts: list[dict[str, Any]]


class GenerationConfig(_Loose):
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: StrictInt | None = None
    max_output_tokens: StrictInt | None = Field(None, ge=1)
    candidate_count: StrictInt | None = Field(None, ge=1, le=1)
    stop_sequences: list[StrictStr] | None = None
    seed: StrictInt | None = None
    response_mime_type: StrictStr | None = None
    response_schema: dict[str, Any] | None = None
    response_json_schema: dict[str, Any] | None = None


class GenerateRequest(_Loose):
    contents: list[Content]
    system_instruction: Content | None = None
    generation_config: GenerationConfig | None = None
    tools: list[dict[str, Any]] | None = None
    tool_config: dict[str, Any] | None = None


def json_schema(schema):
    """Gemini's OpenAPI-style Schema (type "OBJECT", nullable, propertyOrdering) -> JSON Schema."""
    if isinstance(schema, list):
        return [json_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("propertyOrdering", "nullable"):
            continue
        if key == "type" and isinstance(value, str):
            out["type"] = value.lower()
        elif key == "properties" and isinstance(value, dict):
            out["properties"] = {k: json_schema(v) for k, v in value.items()}
        elif key in ("items", "anyOf"):
            out[key] = json_schema(value)
        elif key in ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties") \
                and isinstance(value, str) and value.isdigit():
            out[key] = int(value)   # int64 fields arrive as strings in proto JSON
        else:
            out[key] = value
    if schema.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def _messages(req: GenerateRequest) -> list[dict]:
    if not req.contents:
        raise GatewayError(400, "* GenerateContentRequest.contents: contents is not specified")
    out = []
    if req.system_instruction:
        texts = [p.get("text", "") for p in req.system_instruction.parts if isinstance(p.get("text"), str)]
        out.append({"role": "system", "content": "\n".join(texts)})
    for i, c in enumerate(req.contents):
        role = "assistant" if c.role == "model" else "user"
        if c.role not in (None, "user", "model", "function", "tool"):
            raise GatewayError(400, f"Invalid value at 'contents[{i}].role': {c.role!r}: use 'user' or 'model'")
        texts, calls = [], []
        for j, p in enumerate(c.parts):
            if isinstance(p.get("text"), str):
                if not p.get("thought"):
                    texts.append(p["text"])
            elif _get(p, "functionCall") is not None:
                fc = _get(p, "functionCall")
                calls.append({"id": fc.get("id") or f"call_{i}_{j}", "name": fc.get("name", ""),
                              "arguments": fc.get("args") or {}})
            elif _get(p, "functionResponse") is not None:
                fr = _get(p, "functionResponse")
                response = fr.get("response", {})
                error = isinstance(response, dict) and set(response) == {"error"}
                out.append({"role": "tool", "name": fr.get("name") or "the tool", "tool_call_id": fr.get("id"),
                            "is_error": error, "content": json.dumps(response["error"] if error else response)})
            else:
                raise GatewayError(400, f"Invalid value at 'contents[{i}].parts[{j}]': the local model reads "
                                        f"text, functionCall and functionResponse parts only")
        if texts or calls:
            msg = {"role": role, "content": "\n".join(texts)}
            if calls:
                msg["tool_calls"] = calls
            out.append(msg)
    if not any(m["role"] == "user" for m in out):
        raise GatewayError(400, "* GenerateContentRequest.contents: contents hold no user text")
    return out


def _tools(req: GenerateRequest) -> list[dict]:
    tools = []
    for group in req.tools or []:
        for fd in _get(group, "functionDeclarations") or []:
            if not isinstance(fd, dict) or not isinstance(fd.get("name"), str):
                raise GatewayError(400, "* GenerateContentRequest.tools[0].function_declarations[0].name: "
                                        "name is required")
            params = _get(fd, "parametersJsonSchema") or json_schema(fd.get("parameters")) or {"type": "object"}
            tools.append({"type": "function", "function": {"name": fd["name"], "parameters": params,
                                                           "description": fd.get("description", "")}})
    fcc = _get(req.tool_config or {}, "functionCallingConfig") or {}
    if fcc.get("mode") == "NONE":
        return []
    allowed = _get(fcc, "allowedFunctionNames")
    if allowed:
        tools = [t for t in tools if t["function"]["name"] in allowed]
    return tools


def to_call(model: str, req: GenerateRequest) -> dict:
    """Check the request as Gemini would (400/404) and turn it into chat()'s arguments."""
    if not backend.accepts_model(model):
        raise GatewayError(404, f"models/{model} is not found for API version v1beta, or is not supported "
                                f"for generateContent. Call ListModels to see the list of available models.")
    messages = _messages(req)
    cfg = req.generation_config or GenerationConfig()
    schema = None
    if cfg.response_json_schema is not None:
        schema = cfg.response_json_schema
    elif cfg.response_schema is not None:
        schema = json_schema(cfg.response_schema)
    elif cfg.response_mime_type == "application/json":
        schema = {"type": "object"}
    if schema is not None and cfg.response_mime_type not in (None, "application/json"):
        raise GatewayError(400, "responseSchema needs responseMimeType 'application/json'")
    fcc = _get(req.tool_config or {}, "functionCallingConfig") or {}
    tools = _tools(req)
    return dict(messages=messages, max_tokens=cfg.max_output_tokens, temperature=cfg.temperature,
                tool_choice="required" if fcc.get("mode") == "ANY" and tools else None,
                top_p=cfg.top_p, seed=cfg.seed, tools=tools, schema=schema,
                stop=list(cfg.stop_sequences or []))


_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP"}


def _parts(r: Reply) -> list[dict]:
    if r.tool_calls:
        return [{"functionCall": {"name": c.name, "args": c.arguments}} for c in r.tool_calls]
    return [{"text": r.text}]


def _response(model: str, parts: list, finish: str | None, r: Reply | None, rid: str) -> dict:
    cand = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        cand["finishReason"] = finish
    body = {"candidates": [cand], "modelVersion": model, "responseId": rid}
    if r is not None:
        i, o = r.usage.input_tokens, r.usage.output_tokens
        body["usageMetadata"] = {"promptTokenCount": i, "candidatesTokenCount": o, "totalTokenCount": i + o}
    return body


def _sse(obj) -> str:
    return f"data: {json.dumps(obj)}\r\n\r\n"


def _events(model: str, r: Reply, whole: bool):
    rid = backend.new_id("")
    if whole:  # tool call or JSON, computed before the stream started
        yield _sse(_response(model, _parts(r), _FINISH[r.finish_reason], r, rid))
        return
    for text in r:
        yield _sse(_response(model, [{"text": text}], None, None, rid))
    yield _sse(_response(model, [{"text": ""}], _FINISH[r.finish_reason], r, rid))


def _split(target: str) -> tuple[str, str]:
    model, _, method = target.rpartition(":")
    if not model:
        raise GatewayError(404, f"Unknown method on models/{target}: use :generateContent or "
                                f":streamGenerateContent")
    return model, method


@router.post("/v1beta/models/{target}")
@router.post("/v1/models/{target}")
def generate(target: str, req: GenerateRequest, request: Request):
    model, method = _split(target)
    if method not in ("generateContent", "streamGenerateContent"):
        raise GatewayError(404, f"Method {method} is not served by the local gateway: use generateContent "
                                f"or streamGenerateContent.")
    call = to_call(model, req)
    if method == "generateContent":
        r = backend.reply(call)
        return _response(model, _parts(r), _FINISH[r.finish_reason], r, backend.new_id(""))
    whole = bool(call["tools"]) or call["schema"] is not None   # replied whole: errors before the 200
    r = backend.reply(call, stream=not whole)
    if request.query_params.get("alt") == "sse":
        return StreamingResponse(_events(model, r, whole), media_type="text/event-stream")
    return [json.loads(e[len("data: "):]) for e in _events(model, r, whole)]   # without alt=sse: one JSON array


def _card(model: str) -> dict:
    return {"name": f"models/{model}", "displayName": model, "version": "local",
            "inputTokenLimit": backend.limits()[0], "outputTokenLimit": backend.limits()[1],
            "supportedGenerationMethods": ["generateContent", "streamGenerateContent"]}


@router.get("/v1beta/models")
def list_models():
    return {"models": [_card(m) for m in backend.local_names()]}


@router.get("/v1beta/models/{model}")
def get_model(model: str):
    if not backend.accepts_model(model):
        raise GatewayError(404, f"models/{model} is not found for API version v1beta.")
    return _card(model)
