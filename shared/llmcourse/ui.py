"""Gradio helpers shared by every week: the app frame every week's app is built in, a streaming chat
app over `chat()`, and launching on a free loopback port from a notebook or a test.

The frame (one look for every week: title, model picker, small-model banner, status line, one-line errors):

>>> import gradio as gr
>>> from llmcourse import ui
>>> with ui.frame("Week 3 · Dataset generator", description="Make a dataset.") as f:  # doctest: +SKIP
...     out, status = gr.Markdown(), f.status_box()
...     def run(model):
...         try:
...             reply = chat("Hi", model=model)
...             return reply.text, ui.status_line(reply)
...         except Exception as exc:
...             return "", ui.error_line(exc)
...     gr.Button("Go").click(run, [f.model], [out, status])
>>> app = f.blocks                                                                 # doctest: +SKIP

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


LOCAL_BANNER = ("**Small offline model** (SmolLM2-135M): expect mistakes. Add a key to `.env` for GPT, "
                "Claude or Gemini.")


def model_choices() -> list[str]:
    """Registry names of the chat models that can answer now: the local model, then one row per model
    of every provider with a usable key (frontier first). Never lists a model that would fail for lack of
    a key."""
    from .registry import models
    from .settings import available_providers, has_key

    keyed = [p for p in available_providers() if p != "local"]
    rows = [m for m in models().values() if m.kind == "chat"]
    out = [m.name for p in keyed for m in rows if m.provider == p]
    local = [m.name for m in rows if m.provider == "local"]
    return local + out if not keyed else out + local


def default_choice() -> str:
    """The model `chat()` would pick by itself, as a registry name."""
    from .chat import default_model
    from .registry import get_model

    return get_model(default_model()).name


def is_local(model: str | None) -> bool:
    """True when `model` (a name or alias; None: the default) is answered by the bundled local model."""
    from .registry import get_model

    try:
        return get_model(model or default_choice()).provider == "local"
    except Exception:
        return False


def banner_for(model: str | None) -> str:
    """The banner text for `model`: the small-model warning for the local model, else empty."""
    return LOCAL_BANNER if is_local(model) else ""


def status_line(reply) -> str:
    """One line under an answer: which model answered, tokens, cost and seconds."""
    u = reply.usage
    return (f"`{reply.provider}/{reply.model}` · {u.input_tokens} in / {u.output_tokens} out tokens · "
            f"${reply.cost:.6f} · {reply.latency:.2f} s")


def error_line(exc: BaseException) -> str:
    """An exception as one readable line (type and first line of the message, keys masked), for an app."""
    from .settings import scrub

    first = (str(exc).strip().splitlines() or [""])[0]
    return f"⚠️ {type(exc).__name__}: {scrub(first)[:300]}"


class Frame:
    """The shared look of every week's app, as a context manager around a `gr.Blocks`.

    Inside the `with`, the header is already rendered (title, description, a model picker and the
    small-model banner); add the week's own components after it. `f.model` is the picker (a
    `gr.Dropdown` whose value is a registry name: pass it as an input), `f.status_box()` adds a
    status line, and `f.blocks` is the app to launch or serve.
    """

    def __init__(self, title: str, *, description: str = "", model: str | None = None,
                 show_model_picker: bool = True):
        import gradio as gr

        self.title, self.description = title, description
        self.blocks = gr.Blocks(title=title)
        self._model, self._picker = model, show_model_picker
        self.model = self.banner = None

    def __enter__(self) -> "Frame":
        import gradio as gr

        self.blocks.__enter__()
        gr.Markdown(f"# {self.title}" + (f"\n{self.description}" if self.description else ""),
                    elem_id="frame-title")
        choices = model_choices()
        value = self._model or default_choice()
        if value not in choices:
            choices = [value] + choices
        self.model = gr.Dropdown(choices, value=value, label="Model", visible=self._picker,
                                 elem_id="frame-model", interactive=True)
        self.banner = gr.Markdown(banner_for(value), elem_id="frame-banner")
        self.model.change(banner_for, self.model, self.banner, api_visibility="private")
        return self

    def __exit__(self, *exc) -> None:
        self.blocks.__exit__(*exc)

    def status_box(self, value: str = ""):
        """A status-line component (Markdown) to fill with `status_line(reply)` or `error_line(exc)`."""
        import gradio as gr

        return gr.Markdown(value, elem_id="frame-status", elem_classes=["frame-status"])


def frame(title: str, *, description: str = "", model: str | None = None,
          show_model_picker: bool = True) -> Frame:
    """The app frame every week's app is built in (see `Frame`)."""
    return Frame(title, description=description, model=model, show_model_picker=show_model_picker)


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
