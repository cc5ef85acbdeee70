"""What the three APIs share: which model names are accepted, and one call into the local engine.

Each API module turns its request into an `Ask` (provider-neutral messages, limits, tools, a JSON
schema) and turns the `Answer` (or streamed text) back into its own response shape.

Model names (a deliberate choice, so unmodified notebook code runs with no key):
- accepted: the local model ("local", "smollm2-135m", "SmolLM2-135M-Instruct"), any registry
  name, alias or API id (llmcourse.models_table()), and any id that looks like a frontier model
  ("gpt-*", "o1*"/"o3*"/"o4*", "chatgpt-*", "claude-*", "gemini-*", "gemma-*");
- every one of them is answered by the same local SmolLM2-135M-Instruct, and the reply names
  the model that was asked for (as a proxy such as LiteLLM does);
- anything else gets the API's own 404 "model not found" error.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Iterator

from ..errors import UnknownModelError
from .errors import GatewayError

LOCAL_ID = "SmolLM2-135M-Instruct"
LOCAL_NAMES = ("local", "smollm2-135m", LOCAL_ID)
FRONTIER_PREFIXES = ("gpt-", "chatgpt-", "o1", "o3", "o4", "claude-", "gemini-", "gemma-")


def limits() -> tuple[int, int]:
    """(context window, max output) of the local model, from the registry (models.toml)."""
    from ..registry import get_model

    m = get_model("local")
    return m.context_window, m.max_output


DEFAULT_MAX_TOKENS = 512    # when a client sets no limit (OpenAI and Gemini make it optional)


def accepts_model(name: str) -> bool:
    """True if the gateway answers requests for model `name` (see the module docstring)."""
    if not isinstance(name, str) or not name.strip():
        return False
    name = name.strip().removeprefix("models/")
    if name in LOCAL_NAMES or name.lower().startswith(FRONTIER_PREFIXES):
        return True
    from ..registry import get_model

    try:
        get_model(name, available=lambda provider: True)
    except UnknownModelError:
        return False
    return "/" not in name or name.split("/", 1)[0] in ("local", "openai", "anthropic", "gemini")


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def now() -> int:
    return int(time.time())


@dataclass
class Ask:
    """One request, whatever API it came through. `messages`: role system/user/assistant/tool,
    `content` a string; an assistant turn may carry `tool_calls` [{"name", "arguments"}]."""

    model: str
    messages: list[dict]
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    seed: int | None = None
    tools: list[dict] | None = None     # OpenAI-style {"type": "function", "function": {...}}
    schema: dict | None = None          # a JSON schema the reply must follow
    stop: list[str] = field(default_factory=list)


@dataclass
class Answer:
    text: str = ""
    tool_call: dict | None = None       # {"name": ..., "arguments": {...}}
    input_tokens: int = 0
    output_tokens: int = 0
    finish: str = "stop"                # "stop", "length" or "tool"


def engine_messages(messages: list[dict]) -> list[dict]:
    """Messages the chat template can render: tool calls and results written out as text."""
    out = []
    for m in messages:
        content = m.get("content") or ""
        if m.get("tool_calls"):
            calls = [json.dumps({"tool": c["name"], "arguments": c.get("arguments") or {}})
                     for c in m["tool_calls"]]
            content = "\n".join(([content] if content else []) + calls)
        if m["role"] == "tool":   # plain-text turn; with tools offered, llmcourse.tools rewrites history itself
            who = f"The {m['name']} tool" if m.get("name") else "The tool"
            out.append({"role": "user", "content": f"{who} returned: {content}\nUse this to answer my question."})
            continue
        out.append({"role": m["role"], "content": content})
    return out


def plan(ask: Ask) -> tuple[list[dict], int, int]:
    """(engine messages, input tokens, max new tokens); a 400 when the input is too long."""
    from ..engine import get_engine

    msgs = engine_messages(ask.messages)
    n_in = int(get_engine().encode_chat(msgs).shape[1])
    context_window, max_output = limits()
    if n_in >= context_window:
        raise GatewayError(400, f"This model's maximum context length is {context_window} tokens. However, "
                                f"your messages resulted in {n_in} tokens. Please reduce the length of the "
                                f"messages.", param="messages", code="context_length_exceeded")
    limit = ask.max_tokens or DEFAULT_MAX_TOKENS
    return msgs, n_in, max(1, min(limit, max_output, context_window - n_in))


def _cut_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    cuts = [text.find(s) for s in stop if s and s in text]
    return (text[:min(cuts)], True) if cuts else (text, False)


# JSON mode with no schema (OpenAI json_object, Gemini responseMimeType alone): a small, flat object.
OPEN_OBJECT = {"type": "object", "maxProperties": 4, "propertyNames": {"maxLength": 20},
               "additionalProperties": {"type": ["string", "number", "boolean"], "maxLength": 60}}
OPEN_OBJECT_TOKENS = 160  # 4 keys of <= 20 chars and values of <= 60 chars always fit


def answer(ask: Ask) -> Answer:
    """The whole reply: a tool call when tools are offered, JSON when a schema is given, else text."""
    from ..engine import get_engine

    msgs, n_in, max_new = plan(ask)
    if ask.tools:
        from ..tools import local_tool_call

        choice = local_tool_call(ask.messages, ask.tools)   # it rewrites tool turns itself
        if choice.get("tool") not in (None, "none"):
            args = choice.get("arguments") or {}
            return Answer(tool_call={"name": choice["tool"], "arguments": args}, input_tokens=n_in,
                          output_tokens=get_engine().count_tokens(json.dumps(choice)), finish="tool")
        text = str(choice.get("answer") or "")
        return Answer(text=text, input_tokens=n_in, output_tokens=get_engine().count_tokens(text))
    if ask.schema is not None:
        from ..structured import StructuredOutputError, local_json

        if not any(k in ask.schema for k in ("properties", "anyOf", "oneOf", "$ref", "allOf")):
            ask.schema = OPEN_OBJECT  # JSON mode without a schema: any small flat object
            ask.max_tokens = max(ask.max_tokens or 0, OPEN_OBJECT_TOKENS)
        try:
            obj, c = local_json(ask.messages, ask.schema, max_tokens=ask.max_tokens, temperature=ask.temperature)
        except StructuredOutputError:
            if ask.max_tokens is None:
                raise
            # the client's max_tokens cut the JSON short: let the schema size the budget instead
            obj, c = local_json(ask.messages, ask.schema, temperature=ask.temperature)
        text = c.text if _is_json(c.text) else json.dumps(obj if isinstance(obj, (dict, list)) else
                                                         obj.model_dump())
        return Answer(text=text, input_tokens=c.input_tokens or n_in, output_tokens=c.output_tokens)
    g = get_engine().generate(msgs, max_tokens=max_new, temperature=ask.temperature, top_p=ask.top_p,
                              seed=ask.seed)
    text, stopped = _cut_at_stop(g.text, ask.stop)
    finish = "length" if g.output_tokens >= max_new and not stopped else "stop"
    return Answer(text=text, input_tokens=g.input_tokens, output_tokens=g.output_tokens, finish=finish)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except (TypeError, ValueError):
        return False
    return True


def stream(ask: Ask, usage: dict) -> Iterator[str]:
    """Text chunks of a plain reply (call `plan` first for the 400s). At the end `usage` holds
    input_tokens, output_tokens and finish ("stop" or "length")."""
    from ..engine import get_engine

    msgs, n_in, max_new = plan(ask)
    usage.update(input_tokens=n_in, output_tokens=0, finish="stop")
    inner: dict = {}
    held, streamed = "", []
    gen = get_engine().stream(msgs, max_tokens=max_new, temperature=ask.temperature, top_p=ask.top_p,
                              seed=ask.seed, usage=inner)
    try:
        for chunk in gen:
            if not ask.stop:
                streamed.append(chunk)
                yield chunk
                continue
            held += chunk   # hold back text that may be the start of a stop sequence
            cut, stopped = _cut_at_stop(held, ask.stop)
            if stopped:
                if cut:
                    streamed.append(cut)
                    yield cut
                usage["finish"] = "stop"
                return
            keep = max((len(s) - 1 for s in ask.stop), default=0)
            if len(held) > keep:
                out, held = held[:len(held) - keep], held[len(held) - keep:]
                streamed.append(out)
                yield out
        if held:
            streamed.append(held)
            yield held
        usage["output_tokens"] = inner.get("output_tokens", 0)
        if usage["output_tokens"] >= max_new:
            usage["finish"] = "length"
    finally:
        gen.close()
        if not usage["output_tokens"]:  # stopped early: count what was sent
            usage["output_tokens"] = inner.get("output_tokens") or get_engine().count_tokens("".join(streamed))
