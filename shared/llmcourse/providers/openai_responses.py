"""chat() over OpenAI's Responses API (`client.responses.create`) instead of Chat Completions.

Chosen per call with `chat(..., api="responses")` or per model with `api = "responses"` in
models.toml. The Reply is the same either way: text, usage (input/output tokens), cost, tool calls
(`call_id` as the ToolCall id), `parsed` for a schema. chat() stays stateless: it sends the whole
conversation every time with `store: false`, so nothing is kept on OpenAI's servers (pass
`store=True` to keep it). The neutral conversation maps onto Responses items like this:

    system prompt                        -> instructions
    {"role": "user"|"assistant", ...}    -> the same message in `input`
    assistant turn with tool_calls       -> one `function_call` item per call (after its text, if any)
    {"role": "tool", "tool_call_id": id} -> a `function_call_output` item with that call_id
"""

from __future__ import annotations

import json

from ..types import Request, Response, ToolCall, Usage

APIS = ("chat", "responses")


def api_of(req: Request) -> str:
    """"chat" or "responses": the call's `api=` option, else the model's registry field."""
    api = req.options.get("api") or getattr(req.model, "api", "") or "chat"
    if api not in APIS:
        raise ValueError(f"api={api!r} is not an OpenAI API: use api='chat' (Chat Completions) or "
                         f"api='responses' (the Responses API).")
    return api


def to_input(messages: list[dict]) -> list[dict]:
    """chat()'s neutral turns as Responses input items."""
    items = []
    for m in messages:
        if m["role"] == "tool":
            items.append({"type": "function_call_output", "call_id": m.get("tool_call_id"),
                          "output": m.get("content", "")})
        elif m["role"] == "assistant" and m.get("tool_calls"):
            if m.get("content"):
                items.append({"role": "assistant", "content": m["content"]})
            for c in m["tool_calls"]:
                fn = c.get("function")
                name, args = (fn["name"], fn["arguments"]) if fn else (c["name"], json.dumps(c["arguments"]))
                items.append({"type": "function_call", "call_id": c["id"], "name": name, "arguments": args})
        else:
            items.append({"role": m["role"], "content": m["content"]})
    return items


def params(req: Request) -> dict:
    """The body of `client.responses.create` for `req`."""
    p = {"model": req.model.api_id, "input": to_input(req.messages), "store": False}
    if req.system:
        p["instructions"] = req.system
    if req.schema is not None:
        from ..structured import strict_schema

        p["text"] = {"format": {"type": "json_schema", "name": req.schema.name,
                                "schema": strict_schema(req.schema.json_schema), "strict": True}}
    if req.tools:
        p["tools"] = [{"type": "function", "name": t.name, "description": t.description,
                       "parameters": t.parameters, "strict": False} for t in req.tools]
    if req.temperature is not None:
        p["temperature"] = req.temperature
    if req.max_tokens is not None:
        p["max_output_tokens"] = req.max_tokens
    p.update({k: v for k, v in req.options.items() if k != "api"})
    return p


def finish(r) -> str:
    """chat()'s finish reason for a Responses response object."""
    if any(getattr(item, "type", "") == "function_call" for item in r.output or []):
        return "tool_calls"
    details = getattr(r, "incomplete_details", None)
    if getattr(r, "status", "") == "incomplete" and getattr(details, "reason", "") == "max_output_tokens":
        return "length"
    return "stop"


def read(r, response: Response) -> str:
    """Fill `response` from a finished Responses object; return its text."""
    response.raw, response.finish_reason = r, finish(r)
    u = r.usage
    response.usage = Usage(getattr(u, "input_tokens", 0) or 0, getattr(u, "output_tokens", 0) or 0)
    response.tool_calls = [_tool_call(item) for item in r.output or [] if item.type == "function_call"]
    return r.output_text


def execute(client, req: Request, response: Response):
    """Yield the reply's text through the Responses API (streamed when the caller streams)."""
    if not req.stream:
        text = read(client.responses.create(**params(req)), response)
        if text:
            yield text
        return
    with client.responses.create(**params(req), stream=True) as events:   # closed if the reader stops early
        for event in events:
            if event.type == "response.output_text.delta" and event.delta:
                yield event.delta
            elif event.type in ("response.completed", "response.incomplete"):
                read(event.response, response)
            elif event.type in ("response.failed", "error"):
                error = getattr(getattr(event, "response", None), "error", None) or event
                raise RuntimeError(f"The Responses stream failed: {getattr(error, 'message', None) or error}")


def _tool_call(item) -> ToolCall:
    try:
        args = json.loads(item.arguments or "{}")
    except json.JSONDecodeError:
        args = {"_invalid_json": item.arguments}   # fails the tool's schema check: fed back as an error
    return ToolCall(id=item.call_id, name=item.name, arguments=args if isinstance(args, dict) else {"_value": args})
