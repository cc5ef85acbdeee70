"""The bundled local model, in process (see llmcourse.engine)."""

from __future__ import annotations

from typing import Iterator

from .base import Completion, Provider, Request


class LocalProvider(Provider):
    name = "local"

    def _messages(self, req: Request) -> list[dict]:
        return ([{"role": "system", "content": req.system}] if req.system else []) + req.messages

    def _kw(self, req: Request) -> dict:
        opts = dict(req.options)
        return {"max_tokens": req.max_tokens or 256, "temperature": req.temperature,
                "top_p": opts.pop("top_p", None), "seed": opts.pop("seed", None),
                "logits_processor": opts.pop("logits_processor", None), **_no_extra(opts)}

    def _complete(self, req: Request) -> Completion:
        from ..engine import get_engine

        if req.tools:
            return self._tool_call(req)
        if req.schema is not None:  # constrained decoding: see llmcourse.structured
            from ..structured import local_generate, local_schema, schema_hint, with_hint

            js = local_schema(req.schema.json_schema)
            kw = self._kw(req) | {"max_tokens": req.max_tokens}  # None: sized from the schema
            kw.pop("logits_processor")
            g = local_generate(with_hint(self._messages(req), schema_hint(js)), js, **kw)
        else:
            g = get_engine().generate(self._messages(req), **self._kw(req))
        return Completion(text=g.text, input_tokens=g.input_tokens, output_tokens=g.output_tokens)

    def _tool_call(self, req: Request) -> Completion:
        """The model writes {"tool": name, "arguments": ...} or {"tool": "none", "answer": ...}."""
        from ..tools import ToolCall, _local_call

        obj, g = _local_call(self._messages(req), req.tools, max_tokens=req.max_tokens,
                             temperature=req.temperature)
        n = sum(len(m.get("tool_calls") or []) for m in req.messages)
        calls = [] if obj["tool"] == "none" else [ToolCall(f"call_{n}", obj["tool"], obj["arguments"])]
        return Completion(text=obj.get("answer", ""), input_tokens=g.input_tokens,
                          output_tokens=g.output_tokens, tool_calls=calls)

    def _stream(self, req: Request, usage: dict) -> Iterator[str]:
        from ..engine import get_engine

        yield from get_engine().stream(self._messages(req), usage=usage, **self._kw(req))

    def _retry(self, fn):
        return fn()  # nothing transient to retry in process


def _no_extra(opts: dict) -> dict:
    if opts:
        raise TypeError(f"The local model does not take option(s) {sorted(opts)}; "
                        f"it takes max_tokens, temperature, top_p and seed.")
    return {}
