"""Anthropic Claude, through the official `anthropic` SDK (Messages API)."""

from __future__ import annotations

import json
from typing import Iterator

from .. import settings
from ..types import Request, Response, ToolCall, Usage
from .base import REQUEST_TIMEOUT, Provider


class AnthropicProvider(Provider):
    name = "anthropic"
    key_help = ("Check ANTHROPIC_API_KEY in .env (https://console.anthropic.com/settings/keys); "
                "run `python -m llmcourse doctor` to see what is set.")

    def _client_config(self) -> tuple:
        return settings.api_key("anthropic"), settings.env("ANTHROPIC_BASE_URL")

    def _build_client(self, key, base_url):
        import anthropic

        return anthropic.Anthropic(api_key=key, base_url=base_url, max_retries=0, timeout=REQUEST_TIMEOUT,
                                   http_client=self.http_client)

    def _params(self, req: Request) -> dict:
        params = {"model": req.model.api_id, "messages": to_anthropic_messages(req.messages),
                  "max_tokens": req.max_tokens or min(1024, req.model.max_output or 1024)}
        if req.system:
            params["system"] = req.system
        if req.temperature is not None and not _takes_temperature():
            _warn_once("Anthropic's current Messages API takes no temperature: ignored for "
                       f"{req.model.name} (steer it with the system prompt instead).")
        elif req.temperature is not None:
            params["temperature"] = req.temperature
        if req.schema is not None:  # structured output = one forced tool whose input is the reply
            params["tools"] = [{"name": req.schema.name, "input_schema": req.schema.json_schema,
                                "description": "Write your reply as this tool's input."}]
            params["tool_choice"] = {"type": "tool", "name": req.schema.name}
        elif req.tools:
            params["tools"] = [t.to_anthropic() for t in req.tools]
        params.update(req.options)
        return params

    def execute(self, req: Request, response: Response) -> Iterator[str]:
        client = self.client()  # held while the request runs
        if not req.stream:
            r = client.messages.create(**self._params(req))
            response.raw, response.usage = r, Usage(r.usage.input_tokens, r.usage.output_tokens)
            response.finish_reason = _FINISH.get(r.stop_reason, "stop")
            text = "".join(b.text for b in r.content if b.type == "text")
            uses = [b for b in r.content if b.type == "tool_use"]
            if req.schema is not None:  # the forced tool's input is the reply
                forced = [b for b in uses if b.name == req.schema.name]
                text, uses = (json.dumps(forced[0].input) if forced else text), []
                response.finish_reason = "stop" if response.finish_reason == "tool_calls" else response.finish_reason
            response.tool_calls = [ToolCall(id=b.id, name=b.name, arguments=dict(b.input or {})) for b in uses]
            if text:
                yield text
            return
        with client.messages.create(**self._params(req), stream=True) as events:
            for event in events:
                if event.type == "message_start":
                    response.usage.input_tokens = event.message.usage.input_tokens
                elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                    yield event.delta.text
                elif event.type == "message_delta":
                    if event.usage:
                        response.usage.output_tokens = event.usage.output_tokens
                    response.finish_reason = _FINISH.get(event.delta.stop_reason, "stop")


_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


def to_anthropic_messages(messages: list[dict]) -> list[dict]:
    """llmcourse tool turns as tool_use / tool_result blocks (results of one turn in one user message)."""
    out: list[dict] = []
    for m in messages:
        if m["role"] == "assistant" and m.get("tool_calls"):
            blocks = [{"type": "text", "text": m["content"]}] if m.get("content") else []
            blocks += [{"type": "tool_use", "id": c["id"], "name": c["name"], "input": c["arguments"]}
                       for c in m["tool_calls"]]
            out.append({"role": "assistant", "content": blocks})
        elif m["role"] == "tool":
            block = {"type": "tool_result", "tool_use_id": m.get("tool_call_id"),
                     "content": m.get("content", ""), "is_error": bool(m.get("is_error"))}
            if out and out[-1]["role"] == "user" and isinstance(out[-1]["content"], list):
                out[-1]["content"].append(block)
            else:
                out.append({"role": "user", "content": [block]})
        else:
            out.append(m)
    return out


def _takes_temperature() -> bool:
    """Whether the installed SDK's messages.create still has a temperature parameter."""
    import inspect

    from anthropic.resources.messages import Messages

    return "temperature" in inspect.signature(Messages.create).parameters


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        import warnings

        warnings.warn(message, stacklevel=4)
