"""What the three APIs share: which model names are accepted, and one call into the provider layer.

Each API module translates its wire request into chat()'s neutral arguments (messages with
`tool_calls` / tool turns, temperature, max_tokens, schema, tools, options) and the Reply back into
its own response shape. Generation, constrained JSON and tool emulation happen in the provider layer
(llmcourse.providers.local), exactly as for `chat(model="local")`.

Model names (a deliberate choice, so unmodified notebook code runs with no key):
- accepted: the local model (its registry name, its api id, or "local"), any registry name, alias
  or API id (llmcourse.models_table()), and any id that looks like a frontier model ("gpt-*",
  "o1*"/"o3*"/"o4*", "chatgpt-*", "claude-*", "gemini-*", "gemma-*");
- every one of them is answered by the local model, and the reply names the model that was asked
  for (as a proxy such as LiteLLM does);
- anything else gets the API's own 404 "model not found" error.
"""

from __future__ import annotations

import re
import time
import uuid

from ..chat import Reply, chat
from ..errors import ContextWindowError, ProviderError, UnknownModelError
from ..registry import get_model
from ..structured import StructuredOutputError
from .errors import GatewayError

FRONTIER_PREFIXES = ("gpt-", "chatgpt-", "o1", "o3", "o4", "claude-", "gemini-", "gemma-")
ANSWERED_BY = "local"    # the registry alias every request is answered by


def local_names() -> tuple[str, ...]:
    """The names under which the gateway lists the local model."""
    info = get_model(ANSWERED_BY)
    return tuple(dict.fromkeys(("local", info.name, info.api_id)))


def limits() -> tuple[int, int]:
    """(context window, max output) of the answering model, from the registry (models.toml)."""
    m = get_model(ANSWERED_BY)
    return m.context_window, m.max_output


def accepts_model(name: str) -> bool:
    """True if the gateway answers requests for model `name` (see the module docstring)."""
    if not isinstance(name, str) or not name.strip():
        return False
    name = name.strip().removeprefix("models/")
    if name in local_names() or name.lower().startswith(FRONTIER_PREFIXES):
        return True
    try:
        get_model(name, available=lambda provider: True)
    except UnknownModelError:
        return False
    return "/" not in name or name.split("/", 1)[0] in ("local", "openai", "anthropic", "gemini")


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def now() -> int:
    return int(time.time())


def reply(call: dict, *, stream: bool = False) -> Reply:
    """The answering model's Reply to `call` (chat()'s keyword arguments plus `messages`).

    A streamed Reply has already produced its first chunk (kept for the reader), so that errors
    (a prompt too long for the context window) become the API's error before a 200 is sent.
    A JSON reply cut short by the client's max_tokens comes back as it is, with finish "length".
    """
    args = {k: v for k, v in call.items() if v not in (None, []) or k == "messages"}
    messages = args.pop("messages")
    _check_max_tokens(args.get("max_tokens"))
    plain = not args.get("schema") and not args.get("tools")
    try:
        # plain text is read token by token even when the client waits for the whole reply, so a
        # client that disconnects stops its generation (guard.cancelled); tool and JSON replies are
        # short and bounded by max_tokens
        r = chat(messages, model=ANSWERED_BY, stream=stream or plain, **args)
        if stream:
            it = iter(r)
            first = next(it, None)
            r._chunks = _until_cancelled(_prepend(first, it))
        elif plain:
            r._chunks = _until_cancelled(r._chunks)
            r.text  # noqa: B018  (reads it all now, stopping early if the client left)
        return r
    except ContextWindowError as exc:
        raise GatewayError(400, f"This model's maximum context length is {exc.window} tokens. However, your "
                                f"messages resulted in {exc.prompt_tokens} tokens. Please reduce the length of "
                                f"the messages.", param="messages", code="context_length_exceeded") from None
    except StructuredOutputError as exc:
        if not exc.text or not args.get("max_tokens"):
            raise
        return Reply(model=get_model(ANSWERED_BY), text=exc.text, finish_reason="length")
    except (TypeError, ValueError) as exc:  # chat() refused an argument: the request is at fault
        raise GatewayError(400, f"Invalid request: {exc}", code="invalid_value") from None
    except ProviderError as exc:
        # a JSON schema (response format or tool parameters) the grammar compiler cannot compile
        # (xgrammar raises RuntimeError; a schema the tool emulation cannot read, IndexError/KeyError...)
        if plain or not isinstance(exc.__cause__, (RuntimeError, ValueError, TypeError, IndexError, KeyError,
                                                   AttributeError)):
            raise
        where = "tools[].parameters" if args.get("tools") else "response_format.json_schema.schema"
        cause = exc.__cause__
        text = (str(cause).splitlines() or [""])[0]
        detail = re.sub(r"^\[[\d:]+\] \S+: ", "", text)[:300] or type(cause).__name__
        raise GatewayError(400, f"Invalid schema in {where}: {detail}",
                           param=where, code="invalid_value") from None


def _check_max_tokens(max_tokens) -> None:
    """max_tokens is bounded on every path (plain, JSON schema, tools) by the model's output limit."""
    _, most = limits()
    if max_tokens is not None and most and max_tokens > most:
        raise GatewayError(400, f"max_tokens is too large: {max_tokens}. This model supports at most {most} "
                                f"completion tokens.", param="max_tokens", code="invalid_value")


def _until_cancelled(chunks):
    """Pass chunks on until the client disconnects; closing `chunks` stops the generation. The guard
    also closes it when the request ends, in case the server stopped pulling after a disconnect."""
    from .guard import cancelled, on_finish

    close = getattr(chunks, "close", None)
    if close:
        on_finish(close)
    return _pass_until_cancelled(chunks, cancelled)


def _pass_until_cancelled(chunks, cancelled):
    try:
        for chunk in chunks:
            yield chunk
            if cancelled():
                return
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()


def _prepend(first, rest):
    if first is not None:
        yield first
    yield from rest


def count_input_tokens(call: dict) -> int:
    """Prompt tokens of `call` as the answering model reads it (its chat template, tools included)."""
    from ..providers import get_provider
    from ..tooldef import as_tool
    from ..types import Request, normalize_messages

    info = get_model(ANSWERED_BY)
    turns, system = normalize_messages(call["messages"])
    tools = [as_tool(t) for t in call.get("tools") or []] or None
    return get_provider(info.provider).count_input_tokens(Request(model=info, messages=turns, system=system,
                                                                  tools=tools))
