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
from typing import Iterator

from . import settings
from .cost import FREE_PROVIDERS, ledger, most_a_call_costs, unpriced
from .providers import get_provider
from .registry import ModelInfo, get_model
from .types import ROLES, Request, Response, Usage, normalize_messages

__all__ = ["ROLES", "Reply", "Usage", "chat", "default_model", "normalize_messages"]
_announced = False


class Reply:
    """A model's reply: `text`, `model`, `provider`, `usage`, `cost` (USD), `latency` (s),
    `finish_reason` ("stop", "length", "tool_calls"); `parsed` for schema=, `tool_calls` for tools=.

    A streamed reply (`stream=True`) is an iterator of text chunks; once consumed, the same
    fields are filled in (`time_to_first_token` too). `str(reply)` is the text either way.
    """

    def __init__(self, *, model: ModelInfo, text: str = "", usage: Usage | None = None,
                 latency: float = 0.0, raw=None, chunks: Iterator[str] | None = None, parsed=None,
                 tool_calls=None, finish_reason: str = "stop"):
        self.model_info = model
        self.model, self.provider = model.name, model.provider
        self._text, self.usage, self.latency, self.raw = text, usage or Usage(), latency, raw
        self.parsed, self.tool_calls, self.finish_reason = parsed, tool_calls or [], finish_reason
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
        print(f"llmcourse: {why} chat() uses the local model ({get_model('local').name}). "
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
    req = Request(model=info, messages=turns, system=system, temperature=temperature, max_tokens=max_tokens,
                  options=options, schema=spec, tools=toolset, stream=stream)
    most = _most_it_can_cost(info, turns, system, max_tokens)
    if most is not None:
        ledger.check(info, most)  # an early, clear refusal; the atomic hold is taken when it runs
    reply = Reply(model=info)
    reply._chunks = _read(get_provider(info.provider), req, reply, most)
    if not stream:
        reply.text  # noqa: B018 (reads the whole reply now: errors surface here, not on first use)
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
    from .tooldef import as_tool
    return None, [as_tool(t) for t in tools]


def _most_it_can_cost(info: ModelInfo, turns, system, max_tokens) -> float | None:
    """What a paid call must hold against the spend limit (None: no limit, or a free model)."""
    if info.provider in FREE_PROVIDERS or (ledger.limit is None and not ledger.limit_error):
        return None
    if ledger.limit_error or unpriced(info):
        return 0.0  # ledger.check refuses it with the reason
    return most_a_call_costs(info, turns, system, max_tokens)


def _read(provider, req: Request, reply: Reply, most: float | None = None) -> Iterator[str]:
    """The provider's chunks into `reply`; usage, cost and the ledger entry once, at the end.

    A paid call holds the most it can cost against the spend limit while it runs; a stream that
    breaks or is closed early is recorded with the tokens it used (counted here if the provider did
    not report them)."""
    hold = ledger.reserve(req.model, most) if most is not None else None
    response, parts, start, failed = Response(), [], time.perf_counter(), False
    try:
        for chunk in provider.run(req, response):
            if reply.time_to_first_token is None:
                reply.time_to_first_token = time.perf_counter() - start
            parts.append(chunk)
            yield chunk
    except Exception:
        failed = True
        raise
    finally:
        reply._text, reply.latency = "".join(parts), time.perf_counter() - start
        reply.usage, reply.raw, reply.finish_reason = response.usage, response.raw, response.finish_reason
        reply.parsed, reply.tool_calls = response.parsed, response.tool_calls
        reply.cost = reply.model_info.cost(reply.usage.input_tokens, reply.usage.output_tokens)
        try:
            estimated = _fill_missing_usage(req, reply, parts)
            if not failed or parts:  # a stream that broke or was closed early still used tokens
                ledger.record(provider=reply.provider, model=reply.model, input_tokens=reply.usage.input_tokens,
                              output_tokens=reply.usage.output_tokens, cost=reply.cost, estimated=estimated)
        finally:
            ledger.release(hold)


def _fill_missing_usage(req: Request, reply: Reply, parts: list[str]) -> bool:
    """Count the tokens ourselves when a stream ended before the provider reported usage."""
    if not parts or reply.usage.output_tokens:
        return False
    from .tokens import count_tokens

    system = [{"content": req.system}] if req.system else []
    try:
        n_in = reply.usage.input_tokens or count_tokens(system + req.messages, reply.model)
        n_out = count_tokens("".join(parts), reply.model)
    except Exception:  # noqa: BLE001  (counting must never hide the real outcome)
        return False
    reply.usage = Usage(input_tokens=n_in, output_tokens=n_out)
    reply.cost = reply.model_info.cost(n_in, n_out)
    return True
