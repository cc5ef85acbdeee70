"""Google Gemini, through the official `google-genai` SDK."""

from __future__ import annotations

import base64
from typing import Iterator

from .. import settings
from ..types import Request, Response, ToolCall, Usage
from .base import REQUEST_TIMEOUT, Provider


class GeminiProvider(Provider):
    name = "gemini"
    key_help = ("Check GOOGLE_API_KEY (or GEMINI_API_KEY) in .env (https://aistudio.google.com/apikey); "
                "run `python -m llmcourse doctor` to see what is set.")

    def _client_config(self) -> tuple:
        # GOOGLE_GEMINI_BASE_URL is google-genai's own variable; GEMINI_BASE_URL the course's older name
        base = settings.env("GOOGLE_GEMINI_BASE_URL") or settings.env("GEMINI_BASE_URL")
        return settings.api_key("gemini"), base

    def _build_client(self, key, base_url):
        from google import genai
        from google.genai import types

        opts = {"base_url": base_url} if base_url else {}
        opts["timeout"] = int(REQUEST_TIMEOUT * 1000)  # milliseconds; google-genai has no timeout by default
        if self.http_client is not None:
            opts["httpx_client"] = self.http_client
        return genai.Client(api_key=key, http_options=types.HttpOptions(**opts))

    def _args(self, req: Request) -> dict:
        from google.genai import types

        contents = to_gemini_contents(req.messages)
        config = {"system_instruction": req.system, "temperature": req.temperature,
                  "max_output_tokens": req.max_tokens}
        if req.schema is not None:
            config.update(response_mime_type="application/json", response_json_schema=req.schema.json_schema)
        if req.tools:
            config["tools"] = [types.Tool(function_declarations=[
                types.FunctionDeclaration(**t.to_gemini()) for t in req.tools])]
        config.update(req.options)
        config = types.GenerateContentConfig(**{k: v for k, v in config.items() if v is not None})
        return {"model": req.model.api_id, "contents": contents, "config": config}

    @staticmethod
    def _usage(r) -> tuple[int, int]:
        u = getattr(r, "usage_metadata", None)
        if u is None:
            return 0, 0
        return (u.prompt_token_count or 0,
                (u.candidates_token_count or 0) + (getattr(u, "thoughts_token_count", 0) or 0))

    def execute(self, req: Request, response: Response) -> Iterator[str]:
        client = self.client()  # held in a local: a collected genai.Client closes its connection
        if not req.stream:
            r = client.models.generate_content(**self._args(req))
            response.raw, response.usage = r, Usage(*self._usage(r))
            cand = r.candidates[0] if r.candidates else None
            parts = (cand.content.parts or []) if cand and cand.content else []
            response.tool_calls = [_tool_call(p.function_call, p.thought_signature, n)
                                   for n, p in enumerate(x for x in parts if x.function_call)]
            response.finish_reason = _finish(cand, response.tool_calls)
            text = "".join(p.text for p in parts if p.text and not p.thought)
            if text:
                yield text
            return
        for chunk in client.models.generate_content_stream(**self._args(req)):
            i, o = self._usage(chunk)
            if i or o:
                response.usage = Usage(i, o)
            if chunk.candidates and chunk.candidates[0].finish_reason:
                response.finish_reason = _finish(chunk.candidates[0], [])
            if chunk.text:
                yield chunk.text


def _tool_call(fc, signature, n: int) -> ToolCall:
    return ToolCall(id=fc.id or f"call_{n}", name=fc.name, arguments=dict(fc.args or {}),
                    meta={"thought_signature": base64.b64encode(signature).decode()} if signature else {})


def _finish(candidate, calls) -> str:
    if calls:
        return "tool_calls"
    reason = getattr(getattr(candidate, "finish_reason", None), "name", None)
    return "length" if reason == "MAX_TOKENS" else "stop"


def to_gemini_contents(messages: list[dict]) -> list:
    """Messages as Gemini Contents; llmcourse tool turns become function_call / function_response parts."""
    from google.genai import types

    out: list = []
    for m in messages:
        if m["role"] == "assistant" and m.get("tool_calls"):
            parts = [types.Part(text=m["content"])] if m.get("content") else []
            for c in m["tool_calls"]:
                sig = (c.get("meta") or {}).get("thought_signature")  # Gemini 3 wants it sent back
                parts.append(types.Part(function_call=types.FunctionCall(
                    id=c["id"] if not c["id"].startswith("call_") else None, name=c["name"], args=c["arguments"]),
                    thought_signature=base64.b64decode(sig) if sig else None))
            out.append(types.Content(role="model", parts=parts))
        elif m["role"] == "tool":
            key = "error" if m.get("is_error") else "result"
            tid = m.get("tool_call_id") or ""
            part = types.Part(function_response=types.FunctionResponse(
                id=None if tid.startswith("call_") else tid or None, name=m.get("name"),
                response={key: m.get("content", "")}))
            if out and out[-1].role == "user" and out[-1].parts and out[-1].parts[-1].function_response:
                out[-1].parts.append(part)
            else:
                out.append(types.Content(role="user", parts=[part]))
        else:
            out.append(types.Content(role="model" if m["role"] == "assistant" else "user",
                                     parts=[types.Part(text=m["content"])]))
    return out
