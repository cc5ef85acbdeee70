"""LocalProvider: the bundled model behind the same protocol as every provider.

Plain replies stream from the engine; `schema=` decodes under a grammar (constrained.py); `tools=`
is emulated (tools.py): the model picks a tool or answers, as JSON under a grammar. Tool turns in
the history are written out with one wording (tools.local_messages), whichever route they came by.
"""

from __future__ import annotations

from typing import Iterator

from ...errors import ContextWindowError
from ...types import Request, Response, ToolCall, Usage
from ..base import Provider
from .constrained import budget, json_processor, local_schema, schema_hint, with_hint
from .repeats import penalty_processor, without_repeats
from .tools import local_messages, local_tool_prompt, local_tool_schema, read_choice

DEFAULT_MAX_TOKENS = 256   # when the caller sets none (clamped to the room left in the context window)
OPTIONS = ("top_p", "seed", "stop", "logits_processor", "tool_choice",   # tool_choice: "auto" or "required"
           "repetition_guard")   # False: no repetition penalty and no stop at a repeated line (repeats.py)


class LocalProvider(Provider):
    name = "local"

    def execute(self, req: Request, response: Response) -> Iterator[str]:
        from .engine import get_engine

        engine, opts = get_engine(), _options(req.options)
        stop = opts.pop("stop")
        opts.pop("tool_choice")
        messages, grammar = self.prompt(req)
        guard = opts.pop("repetition_guard") is not False and grammar is None  # free text only
        n_in = int(engine.encode_chat(messages).shape[1])
        max_new = req.max_tokens or (budget(grammar) if grammar else _default_max(engine, n_in))
        if grammar is not None:
            opts["logits_processor"] = json_processor(engine, grammar)
        elif guard and opts["logits_processor"] is None:
            opts["logits_processor"] = penalty_processor(n_in)
        kw = dict(max_tokens=max_new, temperature=req.temperature, **opts)
        if req.tools:
            g = engine.generate(messages, **kw)
            response.usage = Usage(g.input_tokens, g.output_tokens)
            choice, complete = read_choice(g.text)
            if choice["tool"] != "none":
                n = sum(len(m.get("tool_calls") or []) for m in req.messages)
                response.tool_calls = [ToolCall(f"call_{n}", choice["tool"], choice["arguments"])]
                response.finish_reason = "tool_calls"
            else:
                response.finish_reason = "stop" if complete else "length"
                if choice.get("answer"):
                    yield choice["answer"]
            return
        response.usage = Usage(n_in, 0)
        if req.stream or guard:  # guarded: streamed inside too, so generation stops at a repeated line
            inner: dict = {}
            chunks = engine.stream(messages, usage=inner, **kw)
        else:
            g = engine.generate(messages, **kw)
            inner, chunks = {"output_tokens": g.output_tokens}, iter([g.text] if g.text else [])
        if guard:
            chunks = without_repeats(chunks)
        sent: list[str] = []
        stopped = yield from _until_stop(chunks, stop, sent)
        response.usage.output_tokens = inner.get("output_tokens") or engine.count_tokens("".join(sent))
        if not stopped and response.usage.output_tokens >= max_new:
            response.finish_reason = "length"

    def prompt(self, req: Request) -> tuple[list[dict], dict | None]:
        """The chat messages the model reads for `req`, and the JSON schema its reply is held to."""
        messages = ([{"role": "system", "content": req.system}] if req.system else []) + local_messages(req.messages)
        if req.tools:
            must = req.options.get("tool_choice") == "required"
            return (with_hint(messages, local_tool_prompt(req.tools, required=must)),
                    local_tool_schema(req.tools, required=must))
        if req.schema is not None:
            js = local_schema(req.schema.json_schema)
            return with_hint(messages, schema_hint(js)), js
        return messages, None

    def count_input_tokens(self, req: Request) -> int:
        """Prompt tokens of `req` exactly as `execute` would send them."""
        from .engine import get_engine

        return int(get_engine().encode_chat(self.prompt(req)[0]).shape[1])

    def _retry(self, fn):
        return fn()  # nothing transient to retry in process


def _options(options: dict) -> dict:
    extra = sorted(set(options) - set(OPTIONS))
    if extra:
        raise TypeError(f"The local model does not take option(s) {extra}; it takes max_tokens, "
                        f"temperature, {', '.join(OPTIONS)}.")
    opts = {k: options.get(k) for k in OPTIONS}
    opts["stop"] = [opts["stop"]] if isinstance(opts["stop"], str) else list(opts["stop"] or [])
    if opts["tool_choice"] not in (None, "auto", "required"):
        raise TypeError(f"tool_choice={opts['tool_choice']!r}: the local model takes 'auto' or 'required' "
                        f"(to force one tool, pass only that tool).")
    return opts


def _default_max(engine, n_in: int) -> int:
    room = engine.context_window - n_in
    if room < 1:
        raise ContextWindowError(
            f"[local/{engine.model_name}] The prompt is {n_in} tokens: the model's context window holds "
            f"{engine.context_window}. Shorten the conversation (llmcourse.trim_history).",
            prompt_tokens=n_in, window=engine.context_window)
    return max(1, min(DEFAULT_MAX_TOKENS, engine.max_output, room))


def _until_stop(chunks, stop: list[str], sent: list[str]):
    """Pass `chunks` on, ending before the first stop sequence (text that may begin one is held
    back). Returns whether a stop sequence ended the text."""
    held = ""
    keep = max((len(s) - 1 for s in stop if s), default=0)
    try:
        for chunk in chunks:
            held += chunk
            cuts = [held.find(s) for s in stop if s and s in held]
            if cuts:
                if held[:min(cuts)]:
                    sent.append(held[:min(cuts)])
                    yield sent[-1]
                return True
            if len(held) > keep:
                out, held = held[:len(held) - keep], held[len(held) - keep:]
                sent.append(out)
                yield out
        if held:
            sent.append(held)
            yield held
        return False
    finally:
        close = getattr(chunks, "close", None)
        if close:
            close()
