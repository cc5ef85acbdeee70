"""One way to chat with any model: `chat(prompt_or_messages, model=..., ...)`.

>>> from llmcourse import chat
>>> reply = chat("What is the capital of France?", model="local")
>>> "Paris" in reply.text
True
>>> for chunk in chat("Count to three.", model="local", stream=True):
...     print(chunk, end="")  # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

from . import settings
from .cost import ledger
from .providers import Request, get_provider
from .registry import ModelInfo, get_model

ROLES = ("system", "user", "assistant", "tool")
_announced = False


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class Reply:
    """A model's reply: `text`, `model`, `provider`, `usage`, `cost` (USD), `latency` (s).

    A streamed reply (`stream=True`) is an iterator of text chunks; once consumed, the same
    fields are filled in (`time_to_first_token` too). `str(reply)` is the text either way.
    """

    def __init__(self, *, model: ModelInfo, text: str = "", usage: Usage | None = None,
                 latency: float = 0.0, raw=None, chunks: Iterator[str] | None = None, parsed=None,
                 tool_calls=None):
        self.model_info = model
        self.model, self.provider = model.name, model.provider
        self._text, self.usage, self.latency, self.raw = text, usage or Usage(), latency, raw
        self.parsed, self.tool_calls = parsed, tool_calls or []
        self.time_to_first_token: float | None = None
        self._chunks = chunks
        self.cost = model.cost(self.usage.input_tokens, self.usage.output_tokens)

    def __iter__(self) -> Iterator[str]:
        if self._chunks is None:
            yield self._text
            return
        chunks, self._chunks = self._chunks, None
        yield from chunks

    @property
    def text(self) -> str:
        if self._chunks is not None:
            for _ in self:
                pass
        return self._text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        state = "streaming" if self._chunks is not None else f"{self.usage.total_tokens} tokens"
        return f"<Reply {self.provider}/{self.model} ({state}, ${self.cost:.6f}): {self._text[:60]!r}>"

    def _repr_markdown_(self) -> str:
        t = self.text
        return (f"{t}\n\n<small>{self.provider}/{self.model} · {self.usage.input_tokens} in / "
                f"{self.usage.output_tokens} out tokens · ${self.cost:.6f} · {self.latency:.2f} s</small>")


def normalize_messages(prompt_or_messages, system: str | None = None) -> tuple[list[dict], str | None]:
    """Split a prompt or message list into (turns, system). Raises on a malformed message,
    naming its index."""
    if isinstance(prompt_or_messages, str):
        return [{"role": "user", "content": prompt_or_messages}], system
    if not isinstance(prompt_or_messages, (list, tuple)) or not prompt_or_messages:
        raise TypeError("chat() takes a prompt string or a non-empty list of "
                        "{'role': ..., 'content': ...} messages")
    turns, systems = [], [system] if system else []
    for i, m in enumerate(prompt_or_messages):
        if not isinstance(m, dict) or "role" not in m:
            raise ValueError(f"Message {i} must be a dict with 'role' and 'content', got {m!r:.80}")
        if m["role"] not in ROLES:
            raise ValueError(f"Message {i} has role {m['role']!r}; use one of {', '.join(ROLES)}")
        if m["role"] == "system":
            systems.append(str(m.get("content") or ""))
            continue
        if not isinstance(m.get("content"), str) and not m.get("tool_calls"):
            raise ValueError(f"Message {i} ({m['role']}) needs 'content' as a string")
        turns.append(dict(m))
    if not turns:
        raise ValueError("The messages hold only a system prompt: add a user message")
    return turns, "\n\n".join(systems) or None


def default_model() -> str:
    """LLMCOURSE_MODEL if set; else "fast" when a frontier key exists; else the local model."""
    global _announced
    chosen = settings.env("LLMCOURSE_MODEL")
    if chosen:
        return chosen
    if any(settings.has_key(p) for p in settings.FRONTIER):
        return "fast"
    if not _announced:
        _announced = True
        problems = [p for p in settings.key_problems() if p.fatal]
        why = f"{problems[0]}; until then" if problems else "no API key found, so"
        print(f"llmcourse: {why} chat() uses the local model (smollm2-135m). "
              "Add a key to .env for GPT, Claude or Gemini.")
    return "local"


def chat(prompt_or_messages, *, model: str | None = None, system: str | None = None,
         temperature: float | None = None, max_tokens: int | None = None, stream: bool = False,
         schema=None, tools: list | None = None, **options) -> Reply:
    """Send a prompt (or a list of messages) to a model and return its Reply.

    model: a registry name, an alias ("fast", "smart", "local", ...) or "provider/api-id";
    default: the local model when no key is set. `stream=True` returns a Reply to iterate for
    text chunks. Extra keyword options go to the provider as they are.
    `schema=` (a pydantic class or JSON-schema dict) fills `reply.parsed` with the validated
    reply (see llmcourse.structured); `tools=` (functions or Tools) fills `reply.tool_calls` with
    ToolCall(id, name, arguments) the model asks for (see llmcourse.tools.run_tools for the loop).
    """
    info = get_model(model or default_model())
    turns, system = normalize_messages(prompt_or_messages, system)
    spec, toolset = _schema_and_tools(schema, tools, stream)
    req = Request(model=info, messages=turns, system=system, temperature=temperature,
                  max_tokens=max_tokens, options=options, schema=spec, tools=toolset)
    if ledger.limit is not None and (info.input_price or info.output_price):
        from .cost import estimate

        ledger.check(info, estimate(turns, model=info.name, system=system, max_tokens=max_tokens).max_cost)
    provider = get_provider(info.provider)
    start = time.perf_counter()
    if not stream:
        c = provider.complete(req)
        reply = Reply(model=info, text=c.text, usage=Usage(c.input_tokens, c.output_tokens),
                      latency=time.perf_counter() - start, raw=c.raw, parsed=c.parsed,
                      tool_calls=c.tool_calls)
        ledger.record(provider=info.provider, model=info.name, input_tokens=c.input_tokens,
                      output_tokens=c.output_tokens, cost=reply.cost)
        if spec is not None:
            reply.parsed = spec.parse(c.text, provider=info.provider, model=info.api_id)
        return reply
    reply = Reply(model=info)
    reply._chunks = _streamed(provider, req, reply, start)
    return reply


def _schema_and_tools(schema, tools, stream: bool):
    if schema is None and not tools:
        return None, None
    if stream:
        raise ValueError("stream=True cannot be combined with schema= or tools=: drop stream=True "
                         "(the reply must be complete to be parsed).")
    if schema is not None and tools:
        raise ValueError("Pass schema= or tools=, not both: run the tools first (llmcourse.tools.run_tools), "
                         "then ask for the structured answer.")
    if schema is not None:
        from .structured import as_spec
        return as_spec(schema), None
    from .tools import as_tool
    return None, [as_tool(t) for t in tools]


def _streamed(provider, req: Request, reply: Reply, start: float) -> Iterator[str]:
    usage: dict = {}
    parts: list[str] = []
    try:
        for chunk in provider.stream(req, usage):
            if reply.time_to_first_token is None:
                reply.time_to_first_token = time.perf_counter() - start
            parts.append(chunk)
            yield chunk
    finally:
        reply._text = "".join(parts)
        reply.latency = time.perf_counter() - start
        reply.usage = Usage(usage.get("input_tokens", 0), usage.get("output_tokens", 0))
        reply.cost = reply.model_info.cost(reply.usage.input_tokens, reply.usage.output_tokens)
        ledger.record(provider=reply.provider, model=reply.model, input_tokens=reply.usage.input_tokens,
                      output_tokens=reply.usage.output_tokens, cost=reply.cost)
