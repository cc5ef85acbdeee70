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

        g = get_engine().generate(self._messages(req), **self._kw(req))
        return Completion(text=g.text, input_tokens=g.input_tokens, output_tokens=g.output_tokens)

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
