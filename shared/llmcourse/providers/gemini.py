"""Google Gemini, through the official `google-genai` SDK."""

from __future__ import annotations

from typing import Iterator

from .. import settings
from .base import Completion, Provider, Request


class GeminiProvider(Provider):
    name = "gemini"
    key_help = ("Check GOOGLE_API_KEY (or GEMINI_API_KEY) in .env (https://aistudio.google.com/apikey); "
                "run `python -m llmcourse doctor` to see what is set.")

    def client(self):
        from google import genai
        from google.genai import types

        opts = {}
        if settings.env("GEMINI_BASE_URL"):
            opts["base_url"] = settings.env("GEMINI_BASE_URL")
        if self.http_client is not None:
            opts["httpx_client"] = self.http_client
        return genai.Client(api_key=settings.api_key("gemini"), http_options=types.HttpOptions(**opts))

    def _args(self, req: Request) -> dict:
        from google.genai import types

        contents = [types.Content(role="model" if m["role"] == "assistant" else "user",
                                  parts=[types.Part(text=m["content"])]) for m in req.messages]
        config = {"system_instruction": req.system, "temperature": req.temperature,
                  "max_output_tokens": req.max_tokens}
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

    def _complete(self, req: Request) -> Completion:
        r = self.client().models.generate_content(**self._args(req))
        i, o = self._usage(r)
        return Completion(text=r.text or "", input_tokens=i, output_tokens=o, raw=r)

    def _stream(self, req: Request, usage: dict) -> Iterator[str]:
        for chunk in self.client().models.generate_content_stream(**self._args(req)):
            i, o = self._usage(chunk)
            if i or o:
                usage.update(input_tokens=i, output_tokens=o)
            if chunk.text:
                yield chunk.text
