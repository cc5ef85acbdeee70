"""OpenAI's Responses API on the local model: POST /v1/responses, GET and DELETE /v1/responses/{id}.

Answered: `input` as a string or a list of items (messages with `input_text`/`output_text` parts,
`function_call` and `function_call_output` items; `reasoning` items are skipped), `instructions`,
`max_output_tokens` (at least 16, as OpenAI requires), `temperature`, `top_p`, streaming (the typed
event stream, see responses_output.py), function tools and `tool_choice`, structured output through
`text.format` (json_schema, json_object), and `previous_response_id` over an in-memory store
(`store: false` keeps a response out of it; see responses_store.py).

Refused with a 400 that says why: OpenAI's built-in tools (web search, file search, code interpreter,
computer use, image generation, remote MCP: they run on OpenAI's servers), `background`,
`conversation` (the Conversations API), and non-text input (images, files, audio). Errors are in
OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from . import backend
from .errors import GatewayError
from .responses_output import created_at, events, output_items, output_turns, response_object, status_of
from .responses_store import STORE

router = APIRouter()
MIN_OUTPUT_TOKENS = 16   # OpenAI answers 400 integer_below_min_value below this
HOSTED_TOOLS = ("web_search", "file_search", "code_interpreter", "computer", "image_generation", "mcp")
# parameters of Chat Completions that a student may carry over by mistake -> where they went
MOVED = {"messages": "input", "response_format": "text.format", "max_tokens": "max_output_tokens",
         "max_completion_tokens": "max_output_tokens"}


class ResponsesRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: StrictStr
    input: StrictStr | list[dict[str, Any]] | None = None
    instructions: StrictStr | None = None
    max_output_tokens: StrictInt | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    stream: StrictBool | None = False
    tools: list[dict[str, Any]] | None = None
    tool_choice: StrictStr | dict[str, Any] | None = None
    text: dict[str, Any] | None = None
    previous_response_id: StrictStr | None = None
    store: StrictBool | None = True
    parallel_tool_calls: StrictBool | None = None
    metadata: dict[str, StrictStr] | None = None
    background: StrictBool | None = None
    conversation: Any = None


def _bad(message: str, param: str | None = None, code: str | None = "invalid_value") -> GatewayError:
    return GatewayError(400, message, param=param, code=code)


# -- the request ---------------------------------------------------------------------------------
def check(req: ResponsesRequest) -> None:
    """Refuse what OpenAI refuses (400/404) and what the local gateway does not offer (400)."""
    for old, new in MOVED.items():
        if old in (req.model_extra or {}):
            raise _bad(f"Unsupported parameter: '{old}'. In the Responses API, this parameter has moved to "
                       f"'{new}'.", old, "unsupported_parameter")
    if not backend.accepts_model(req.model):
        raise GatewayError(404, f"The model `{req.model}` does not exist or you do not have access to it. The "
                                f"local gateway answers 'local', the registry's models and gpt-*/o*/claude-*/"
                                f"gemini-* ids.", param="model", code="model_not_found")
    if req.background:
        raise _bad("The local gateway does not run background responses: drop background=True (each "
                   "request is answered while you wait).", "background", "unsupported_value")
    if req.conversation is not None:
        raise _bad("The local gateway does not offer the Conversations API: chain turns with "
                   "previous_response_id instead.", "conversation", "unsupported_parameter")
    most = req.max_output_tokens
    if most is not None and most < MIN_OUTPUT_TOKENS:
        raise _bad(f"Invalid 'max_output_tokens': integer below minimum value. Expected a value >= "
                   f"{MIN_OUTPUT_TOKENS}, but got {most} instead.", "max_output_tokens", "integer_below_min_value")
    _, limit = backend.limits()
    if most is not None and limit and most > limit:
        raise _bad(f"max_output_tokens is too large: {most}. This model supports at most {limit} output "
                   f"tokens.", "max_output_tokens")
    if req.input is None or req.input == []:
        raise _bad("Missing required parameter: 'input'.", "input", "missing_required_parameter")


def _text(content, where: str) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _bad(f"Invalid type for '{where}': expected a string or an array of content parts.", where)
    parts = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text", "text") and isinstance(part.get("text"), str):
            parts.append(part["text"])
        elif kind == "refusal" and isinstance(part.get("refusal"), str):
            parts.append(part["refusal"])
        else:
            raise _bad(f"Invalid content part {where}[{j}] of type {kind!r}: the local model reads text only "
                       f"(input_text).", f"{where}[{j}]")
    return "".join(parts)


def input_turns(items, calls: dict[str, str]) -> list[dict]:
    """`input` as chat()'s neutral turns. `calls` (call_id -> tool name, from the stored history) is
    extended by this input's function_call items, so a function_call_output can name its tool."""
    if isinstance(items, str):
        return [{"role": "user", "content": items}]
    turns: list[dict] = []
    for i, item in enumerate(items):
        kind = item.get("type") or ("message" if "role" in item else None)
        where = f"input[{i}]"
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "assistant", "system", "developer"):
                raise _bad(f"Invalid value for '{where}.role': {role!r}. Supported values are: 'user', "
                           f"'assistant', 'system' and 'developer'.", f"{where}.role")
            turns.append({"role": "system" if role == "developer" else role,
                          "content": _text(item.get("content"), f"{where}.content")})
        elif kind == "function_call":
            call_id, name = item.get("call_id"), item.get("name")
            if not isinstance(call_id, str) or not isinstance(name, str):
                raise _bad(f"A function_call item needs 'call_id' and 'name' ({where}).", where,
                           "missing_required_parameter")
            try:
                args = json.loads(item.get("arguments") or "{}")
            except (TypeError, ValueError):
                raise _bad(f"'{where}.arguments' must be a JSON string.", f"{where}.arguments") from None
            calls[call_id] = name
            call = {"id": call_id, "name": name, "arguments": args if isinstance(args, dict) else {}}
            if turns and turns[-1]["role"] == "assistant":
                turns[-1].setdefault("tool_calls", []).append(call)
            else:
                turns.append({"role": "assistant", "content": "", "tool_calls": [call]})
        elif kind == "function_call_output":
            call_id = item.get("call_id")
            if not isinstance(call_id, str) or call_id not in calls:
                raise _bad(f"No tool call found for function call output with call_id {call_id}.", "input")
            output = item.get("output")
            content = output if isinstance(output, str) else _text(output or [], f"{where}.output")
            turns.append({"role": "tool", "tool_call_id": call_id, "name": calls[call_id], "content": content})
        elif kind == "reasoning":
            continue   # a reasoning model's item handed back: the local model has nothing to read in it
        else:
            raise _bad(f"Input items of type {kind!r} are not supported by the local gateway: it reads "
                       f"messages, function_call and function_call_output items.", f"{where}.type")
    return turns


def _tools(req: ResponsesRequest) -> tuple[list[dict], str | None]:
    """Function tools in chat()'s (OpenAI chat) shape, and tool_choice "required" or None."""
    tools = []
    for i, t in enumerate(req.tools or []):
        kind = t.get("type")
        if kind != "function":
            if isinstance(kind, str) and kind.startswith(HOSTED_TOOLS):
                raise _bad(f"The keyless gateway does not offer OpenAI's built-in tool {kind!r}: it runs on "
                           f"OpenAI's servers, and this gateway is a small local model. Declare a function "
                           f"tool (type 'function') that your code runs, or set OPENAI_API_KEY to use the "
                           f"real Responses API.", f"tools[{i}].type", "unsupported_value")
            raise _bad(f"Tools of type {kind!r} are not supported by the local gateway: it answers function "
                       f"tools (type 'function') only.", f"tools[{i}].type", "unsupported_value")
        if not isinstance(t.get("name"), str):
            raise _bad(f"Missing required parameter: 'tools[{i}].name'.", f"tools[{i}].name",
                       "missing_required_parameter")
        for key, kind, word in (("parameters", dict, "an object"), ("description", str, "a string")):
            if t.get(key) is not None and not isinstance(t[key], kind):
                raise _bad(f"Invalid type for 'tools[{i}].{key}': expected {word}.", f"tools[{i}].{key}")
        tools.append({"type": "function", "function": {"name": t["name"], "description": t.get("description") or "",
                                                       "parameters": t.get("parameters")}})
    choice = req.tool_choice
    if choice in (None, "auto"):
        return tools, None
    if choice == "none":
        return [], None
    if choice == "required":
        return tools, "required" if tools else None
    if isinstance(choice, dict) and choice.get("type") == "function":
        wanted = {choice.get("name")}
    elif isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        listed = choice.get("tools") if isinstance(choice.get("tools"), list) else []
        wanted = {t.get("name") for t in listed if isinstance(t, dict) and isinstance(t.get("name"), str)}
    else:
        kind = choice.get("type") if isinstance(choice, dict) else choice
        raise _bad(f"Invalid value for 'tool_choice': {kind!r}. The local gateway supports 'auto', 'none', "
                   f"'required' and function tools.", "tool_choice")
    chosen = [t for t in tools if t["function"]["name"] in wanted]
    if not chosen:
        raise _bad(f"tool_choice names {sorted(map(str, wanted))}, which is not in 'tools'.", "tool_choice")
    required = choice.get("type") == "function" or choice.get("mode") == "required"
    return chosen, "required" if required else None


def _schema(req: ResponsesRequest) -> dict | None:
    fmt = (req.text or {}).get("format")
    if fmt is not None and not isinstance(fmt, dict):
        raise _bad("Invalid type for 'text.format': expected an object.", "text.format")
    if not fmt or fmt.get("type") == "text":
        return None
    if fmt.get("type") == "json_object":
        return {"type": "object"}
    if fmt.get("type") == "json_schema":
        for key in ("name", "schema"):
            if not fmt.get(key):
                raise _bad(f"Missing required parameter: 'text.format.{key}'.", f"text.format.{key}",
                           "missing_required_parameter")
        if not isinstance(fmt["schema"], dict):
            raise _bad("Invalid type for 'text.format.schema': expected an object.", "text.format.schema")
        return fmt["schema"]
    raise _bad(f"Invalid value for 'text.format.type': {fmt.get('type')!r}. Supported values are: 'text', "
               f"'json_object' and 'json_schema'.", "text.format.type")


def to_call(req: ResponsesRequest) -> tuple[dict, list[dict]]:
    """(chat()'s arguments, the conversation before this request's output)."""
    history: list[dict] = []
    if req.previous_response_id is not None:
        history = STORE.turns(req.previous_response_id)
        if history is None:
            raise _bad(f"Previous response with id '{req.previous_response_id}' not found.",
                       "previous_response_id", "previous_response_not_found")
    calls = {c["id"]: c["name"] for t in history for c in t.get("tool_calls") or []}
    turns = history + input_turns(req.input, calls)
    if not any(t["role"] != "system" for t in turns):
        raise _bad("The input holds only system or developer messages: add a user message.", "input")
    tools, choice = _tools(req)
    call = dict(messages=turns, system=req.instructions, max_tokens=req.max_output_tokens,
                temperature=req.temperature, top_p=req.top_p, tools=tools, tool_choice=choice,
                schema=_schema(req))
    return call, turns


def _reply(call: dict, *, stream: bool):
    try:
        return backend.reply(call, stream=stream)
    except GatewayError as exc:   # backend words a few errors for Chat Completions: name our fields
        if exc.param == "response_format.json_schema.schema":
            exc.param, exc.message = "text.format.schema", exc.message.replace(exc.param, "text.format.schema")
        elif exc.param == "messages":
            exc.param = "input"
        raise


def shell(req: ResponsesRequest, response_id: str) -> dict:
    """Everything the response echoes from the request (its outcome is added by response_object)."""
    fmt = (req.text or {}).get("format") or {"type": "text"}
    return {"id": response_id, "object": "response", "created_at": created_at(), "status": "in_progress",
            "background": False, "error": None, "incomplete_details": None, "instructions": req.instructions,
            "max_output_tokens": req.max_output_tokens, "metadata": req.metadata or {}, "model": req.model,
            "output": [], "parallel_tool_calls": req.parallel_tool_calls is not False,
            "previous_response_id": req.previous_response_id, "reasoning": {"effort": None, "summary": None},
            "service_tier": "default", "store": req.store is not False,
            "temperature": 1.0 if req.temperature is None else req.temperature,
            "text": {"format": fmt, "verbosity": "medium"}, "tool_choice": req.tool_choice or "auto",
            "tools": [t | {"strict": t.get("strict", True)} for t in req.tools or []],
            "top_p": 1.0 if req.top_p is None else req.top_p, "truncation": "disabled", "usage": None,
            "user": None}


# -- the routes ----------------------------------------------------------------------------------
@router.post("/v1/responses")
def create_response(req: ResponsesRequest):
    check(req)
    call, turns = to_call(req)
    head = shell(req, backend.new_id("resp_"))

    def keep(response: dict) -> None:
        if req.store is not False:
            STORE.put(response["id"], response, turns + output_turns(response["output"]))

    if not req.stream:
        r = _reply(call, stream=False)
        response = response_object(head, status=status_of(r), output=output_items(r), r=r)
        keep(response)
        return response
    whole = bool(call["tools"]) or call["schema"] is not None   # replied whole: errors before the 200
    r = _reply(call, stream=not whole)
    return StreamingResponse(events(head, r, whole=whole, on_done=keep), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


def _stored(response_id: str) -> dict:
    response = STORE.response(response_id)
    if response is None:
        raise GatewayError(404, f"No response found with id '{response_id}' (the local gateway keeps the last "
                                f"{STORE.size} stored responses, in memory).", param="response_id",
                           code="not_found")
    return response


@router.get("/v1/responses/{response_id}")
def get_response(response_id: str):
    return _stored(response_id)


@router.delete("/v1/responses/{response_id}")
def delete_response(response_id: str):
    _stored(response_id)
    STORE.delete(response_id)
    return {"id": response_id, "object": "response.deleted", "deleted": True}
