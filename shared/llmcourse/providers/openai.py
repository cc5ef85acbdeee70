"""OpenAI, through the official `openai` SDK; also every OpenAI-compatible endpoint (see compat.py).

Chat Completions by default; the Responses API with `chat(..., api="responses")` or a model's
`api = "responses"` in models.toml (openai_responses.py).
"""

from __future__ import annotations

import json
from typing import Iterator

from .. import settings
from ..types import Request, Response, ToolCall, Usage
from .base import REQUEST_TIMEOUT, Provider
from .openai_responses import api_of
from .openai_responses import execute as responses_execute


class OpenAIProvider(Provider):
    name = "openai"
    base_url: str | None = None
    key_provider: str | None = "openai"
    key_help = ("Check OPENAI_API_KEY in .env (https://platform.openai.com/api-keys); "
                "run `python -m llmcourse doctor` to see what is set.")
    max_tokens_param = "max_completion_tokens"

    def _client_config(self) -> tuple:
        key = settings.api_key(self.key_provider) if self.key_provider else "not-needed"
        return key, settings.env("OPENAI_BASE_URL") if self.name == "openai" else self.base_url

    def _build_client(self, key, base_url):
        import openai

        return openai.OpenAI(api_key=key, base_url=base_url, max_retries=0, timeout=REQUEST_TIMEOUT,
                             http_client=self.http_client)

    def _params(self, req: Request) -> dict:
        messages = ([{"role": "system", "content": req.system}] if req.system else []) + to_openai_messages(req.messages)
        params = {"model": req.model.api_id, "messages": messages}
        if req.schema is not None:
            from ..structured import strict_schema

            params["response_format"] = {"type": "json_schema", "json_schema": {
                "name": req.schema.name, "schema": strict_schema(req.schema.json_schema), "strict": True}}
        if req.tools:
            params["tools"] = [t.to_openai() for t in req.tools]
        if req.temperature is not None:
            params["temperature"] = req.temperature
        if req.max_tokens is not None:
            params[self.max_tokens_param] = req.max_tokens
        params.update({k: v for k, v in req.options.items() if k != "api"})
        return params

    def execute(self, req: Request, response: Response) -> Iterator[str]:
        client = self.client()  # held while the request runs
        if api_of(req) == "responses":   # chat(..., api="responses") or the model's registry field
            yield from responses_execute(client, req, response)
            return
        if not req.stream:
            r = client.chat.completions.create(**self._params(req))
            choice = r.choices[0]
            response.raw, response.finish_reason = r, _FINISH.get(choice.finish_reason, "stop")
            response.usage = Usage(getattr(r.usage, "prompt_tokens", 0) or 0,
                                   getattr(r.usage, "completion_tokens", 0) or 0)
            response.tool_calls = [_tool_call(c) for c in choice.message.tool_calls or []]
            if choice.message.content:
                yield choice.message.content
            return
        params = self._params(req) | {"stream": True, "stream_options": {"include_usage": True}}
        with client.chat.completions.create(**params) as events:  # closed even if the reader stops early
            for event in events:
                if event.usage:
                    response.usage = Usage(event.usage.prompt_tokens, event.usage.completion_tokens)
                if event.choices and event.choices[0].finish_reason:
                    response.finish_reason = _FINISH.get(event.choices[0].finish_reason, "stop")
                if event.choices and event.choices[0].delta.content:
                    yield event.choices[0].delta.content


    def _embed(self, model, texts: list[str], client) -> tuple[list[list[float]], int]:
        r = client.embeddings.create(model=model.api_id, input=texts)
        vectors = [d.embedding for d in sorted(r.data, key=lambda d: d.index)]
        return vectors, getattr(getattr(r, "usage", None), "prompt_tokens", 0) or 0


_FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool_calls", "function_call": "tool_calls"}


def _tool_call(c) -> ToolCall:
    try:
        args = json.loads(c.function.arguments or "{}")
    except json.JSONDecodeError:
        args = {"_invalid_json": c.function.arguments}  # fails the tool's schema check: fed back as an error
    return ToolCall(id=c.id, name=c.function.name, arguments=args if isinstance(args, dict) else {"_value": args})


def to_openai_messages(messages: list[dict]) -> list[dict]:
    """llmcourse tool turns (see tools.run_tools) in OpenAI's format; other messages unchanged."""
    out = []
    for m in messages:
        if m["role"] == "assistant" and m.get("tool_calls"):
            calls = [c if "function" in c else
                     {"id": c["id"], "type": "function",
                      "function": {"name": c["name"], "arguments": json.dumps(c["arguments"])}}
                     for c in m["tool_calls"]]
            out.append({"role": "assistant", "content": m.get("content") or None, "tool_calls": calls})
        elif m["role"] == "tool":
            out.append({"role": "tool", "tool_call_id": m.get("tool_call_id"), "content": m.get("content", "")})
        else:
            out.append(m)
    return out
