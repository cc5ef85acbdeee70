"""Anthropic Claude, through the official `anthropic` SDK (Messages API)."""

from __future__ import annotations

from typing import Iterator

from .. import settings
from .base import Completion, Provider, Request


class AnthropicProvider(Provider):
    name = "anthropic"
    key_help = ("Check ANTHROPIC_API_KEY in .env (https://console.anthropic.com/settings/keys); "
                "run `python -m llmcourse doctor` to see what is set.")

    def client(self):
        import anthropic

        return anthropic.Anthropic(api_key=settings.api_key("anthropic"),
                                   base_url=settings.env("ANTHROPIC_BASE_URL"), max_retries=0,
                                   timeout=60.0, http_client=self.http_client)

    def _params(self, req: Request) -> dict:
        params = {"model": req.model.api_id, "messages": req.messages,
                  "max_tokens": req.max_tokens or min(1024, req.model.max_output or 1024)}
        if req.system:
            params["system"] = req.system
        if req.temperature is not None:
            params["temperature"] = req.temperature
        params.update(req.options)
        return params

    def _complete(self, req: Request) -> Completion:
        r = self.client().messages.create(**self._params(req))
        text = "".join(b.text for b in r.content if b.type == "text")
        return Completion(text=text, input_tokens=r.usage.input_tokens,
                          output_tokens=r.usage.output_tokens, raw=r,
                          tool_calls=[b for b in r.content if b.type == "tool_use"])

    def _stream(self, req: Request, usage: dict) -> Iterator[str]:
        for event in self.client().messages.create(**self._params(req), stream=True):
            if event.type == "message_start":
                usage["input_tokens"] = event.message.usage.input_tokens
            elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                yield event.delta.text
            elif event.type == "message_delta" and event.usage:
                usage["output_tokens"] = event.usage.output_tokens
