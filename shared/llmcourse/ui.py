"""Gradio helpers shared by every week: a streaming chat app over `chat()`, and launching on a free
loopback port from a notebook or a test.

>>> from llmcourse.ui import chat_app, serve
>>> app = chat_app(model="local", title="Ask me")
>>> served = serve(app)          # doctest: +SKIP
>>> served.url                   # doctest: +SKIP
'http://127.0.0.1:53817/'
>>> served.close()               # doctest: +SKIP
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Callable, Iterator

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def history_to_messages(history) -> list[dict]:
    """Gradio's chat history (messages, possibly with content parts) -> plain chat messages."""
    out = []
    for m in history or []:
        if isinstance(m, dict):
            role, content = m.get("role"), m.get("content")
        else:  # (user, assistant) pairs
            user, bot = m
            out += [{"role": "user", "content": str(user)}] + ([{"role": "assistant", "content": str(bot)}] if bot else [])
            continue
        if isinstance(content, list):
            content = " ".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
        if role in ("user", "assistant") and content:
            out.append({"role": role, "content": str(content)})
    return out


def chat_fn(*, model: str | None = None, system: str | None = None, max_tokens: int = 256,
            temperature: float | None = None) -> Callable[[str, list], Iterator[str]]:
    """A Gradio chat function that streams `chat()`'s reply: yields the growing answer."""
    from .chat import chat

    def respond(message: str, history: list) -> Iterator[str]:
        messages = history_to_messages(history) + [{"role": "user", "content": message}]
        text = ""
        for chunk in chat(messages, model=model, system=system, max_tokens=max_tokens,
                          temperature=temperature, stream=True):
            text += chunk
            yield text

    return respond


def chat_app(*, model: str | None = None, system: str | None = None, title: str = "Chat",
             description: str | None = None, max_tokens: int = 256, examples: list[str] | None = None):
    """A streaming Gradio ChatInterface over any model (API name: /chat)."""
    import gradio as gr

    return gr.ChatInterface(chat_fn(model=model, system=system, max_tokens=max_tokens),
                            title=title, description=description, examples=examples,
                            api_name="chat", flagging_mode="never")


@dataclass
class Served:
    """A running Gradio app: its `url`, and `close()` to stop it."""

    app: object
    url: str

    def close(self) -> None:
        self.app.close()

    def __enter__(self) -> "Served":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _repr_html_(self) -> str:
        return f'<a href="{self.url}" target="_blank">{self.url}</a> (stop it with <code>.close()</code>)'


def serve(app, *, port: int | None = None, host: str = "127.0.0.1") -> Served:
    """Launch `app` in the background on `host` (loopback by default) and a free port."""
    port = port or free_port()
    app.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True,
               inline=False, inbrowser=False, ssr_mode=False, show_error=True)
    return Served(app=app, url=f"http://{host}:{port}/")
