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
>>> app = chat_app(model="local", title="Ask me")  # doctest: +SKIP
>>> served = serve(app)          # doctest: +SKIP
>>> served.url                   # doctest: +SKIP
'http://127.0.0.1:53817/'
>>> served.close()               # doctest: +SKIP

`python weekN/app.py` ends with `ui.launch(app)`: loopback on your machine, and on a Hugging Face Space (which
sets GRADIO_SERVER_NAME) whatever the Space asks for.

Retrieved passages are shown as text, never as Markdown, with the question's words marked:

>>> print(highlight("# Leave: 25 days of <b>paid</b> leave", "How many days of leave?"))
# <mark>Leave</mark>: 25 <mark>days</mark> of &lt;b&gt;paid&lt;/b&gt; <mark>leave</mark>
>>> html = sources_html(kb_hits, question)        # the panel: number, source, similarity, marked text  # doctest: +SKIP
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


def _registry_name(model: str) -> str:
    """`model`'s registry name ("local" -> "smollm2-135m"), or `model` itself if the registry does not know it."""
    from .registry import get_model

    try:
        return get_model(model).name
    except Exception:
        return model


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


def answering_line(model: str | None) -> str:
    """The status line while an answer streams: which model is answering."""
    return f"answering with `{model or default_choice()}`…"


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
        value = _registry_name(self._model) if self._model else default_choice()
        if value not in choices:
            choices = [value] + choices
        self.model = gr.Dropdown(choices, value=value, label="Model", visible=self._picker,
                                 elem_id="frame-model", interactive=True,
                                 allow_custom_value=True)  # API callers may pass an alias ("local")
        self.banner = gr.Markdown(banner_for(value), elem_id="frame-banner")
        self.model.change(banner_for, self.model, self.banner, api_visibility="private")
        return self

    def __exit__(self, *exc) -> None:
        self.blocks.__exit__(*exc)

    def status_box(self, value: str = ""):
        """A status-line component (Markdown) to fill with `status_line(reply)` or `error_line(exc)`."""
        import gradio as gr

        return gr.Markdown(value, elem_id="frame-status", elem_classes=["frame-status"])

    def launch(self, **kw) -> None:
        """Run the app in the foreground (see `launch`)."""
        launch(self.blocks, **kw)


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
    """The week 1 chat app in the course frame: model picker, streamed answers that keep the conversation, a
    status line under each answer (model, tokens, cost, seconds) and one-line errors.

    API: /chat (message, model=the picker's default) -> the answer, streamed; one turn, no history.
    """
    import gradio as gr

    from .chat import chat

    def turn(message: str, history: list, picked: str):
        """The UI's event: append the question, stream the answer into the chatbot, then the status line."""
        history = list(history or [])
        if not (message or "").strip():
            yield history, "Type a message first.", message
            return
        messages = history_to_messages(history) + [{"role": "user", "content": message}]
        history += [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        yield history, answering_line(picked), ""
        try:
            reply = chat(messages, model=picked, system=system, max_tokens=max_tokens, stream=True)
            for chunk in reply:
                history[-1]["content"] += chunk
                yield history, answering_line(picked), ""
            yield history, status_line(reply), ""
        except Exception as exc:  # one readable line, never a stack trace
            if not history[-1]["content"]:
                history.pop()
            yield history, error_line(exc), ""

    default = model or default_choice()

    def answer(message: str, model: str = default) -> Iterator[str]:
        """One question -> the growing answer (the API the notebooks and tests call)."""
        text = ""
        for chunk in chat(message, model=model, system=system, max_tokens=max_tokens, stream=True):
            text += chunk
            yield text

    with frame(title, description=description or "", model=model) as f:
        chatbot = gr.Chatbot(label="Conversation", height=380, elem_id="chat")
        status = f.status_box()
        box = gr.Textbox(label="Message", placeholder="Ask anything, then press Enter", elem_id="message",
                         autofocus=True)
        if examples:
            gr.Examples(examples, inputs=box)
        box.submit(turn, [box, chatbot, f.model], [chatbot, status, box], api_visibility="private")
        gr.Button("Clear", size="sm").click(lambda: ([], ""), None, [chatbot, status],
                                            api_visibility="private")
        gr.api(answer, api_name="chat")
    return f.blocks


# -- sources: retrieved passages as escaped text, the question's words marked ----------------------------

_STOP = set("""a an and are as at be but by can could did do does for from had has have how i if in into is it
its me my of on or our so than that the their them then there these they this to was we were what when where
which who whom why will with would you your about after any all also been before between both each get got
many much more most no not only other over same should some such up very am go he us""".split())


def query_words(query: str) -> set[str]:
    """The words of `query` worth marking in a passage: lowercase, not stop words, 2+ characters ("kg")."""
    import re

    words = {w.lower() for w in re.findall(r"\w+", query or "")}
    return {w for w in words if w not in _STOP and (len(w) >= 2 or w.isdigit())}


def highlight(text: str, query: str) -> str:
    """`text` as HTML-escaped plain text, with the words of `query` wrapped in <mark> (a word matches when
    it equals a query word or starts with one of 4+ letters: "robot" marks "robots")."""
    import html
    import re

    words = query_words(query)
    out = []
    for piece in re.split(r"(\w+)", text):
        low = piece.lower()
        hit = piece and (low in words or any(len(w) >= 4 and low.startswith(w) for w in words))
        out.append(f"<mark>{html.escape(piece)}</mark>" if hit else html.escape(piece))
    return "".join(out)


SOURCES_STYLE = "font-size: var(--body-text-size, 14px); line-height: 1.5;"
PATH_STYLE = "font-family: var(--font-mono, monospace); font-size: inherit;"
QUOTE_STYLE = ("white-space: pre-wrap; font-size: inherit; margin: 4px 0 12px; padding-left: 10px; "
               "border-left: 3px solid #ccc;")


def sources_html(hits, query: str = "", *, max_chars: int = 700) -> str:
    """Retrieved passages (objects with .text, .source, .score) as an HTML panel: number, source and
    similarity, then the passage as escaped plain text (a heading, list or table in a document stays text
    at body size) with the question's words marked. Passages longer than `max_chars` are shortened around
    their first marked word."""
    import html
    import re

    if not hits:
        return f'<div class="llmc-sources" style="{SOURCES_STYLE}">No relevant passages found.</div>'
    parts = [f'<div class="llmc-sources" style="{SOURCES_STYLE}">']
    for i, h in enumerate(hits, 1):
        text = _window(re.sub(r"\n\s*\n+", "\n", h.text.strip()), query, max_chars)  # no blank lines
        path = f'<span style="{PATH_STYLE}">{html.escape(str(h.source))}</span>'
        head = f"<b>[{i}]</b> {path} · similarity {h.score:.2f}"
        parts.append(f'<div class="llmc-source"><div>{head}</div>\n'
                     f'<blockquote style="{QUOTE_STYLE}">{highlight(text, query)}</blockquote></div>')
    return "\n".join(parts) + "\n</div>"


def _window(text: str, query: str, max_chars: int) -> str:
    """`text`, or `max_chars` of it starting a little before the first query word, with … where cut."""
    import re

    if len(text) <= max_chars:
        return text
    words = query_words(query)
    first = next((m.start() for m in re.finditer(r"\w+", text) if m.group(0).lower() in words), 0)
    start = max(0, min(first - max_chars // 4, len(text) - max_chars))
    return ("…" if start else "") + text[start:start + max_chars] + ("…" if start + max_chars < len(text) else "")


# -- running an app ---------------------------------------------------------------------------------------

@dataclass
class Served:
    """A running Gradio app: its `url` (from the socket it is bound to), and `close()` to stop it."""

    app: object
    url: str

    @property
    def port(self) -> int:
        return int(self.app.server_port)

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
    app.launch(server_name=host, server_port=port or free_port(), prevent_thread_lock=True, quiet=True,
               inline=False, inbrowser=False, ssr_mode=False, show_error=True)
    return Served(app=app, url=app.local_url)


def launch(app, *, port: int | None = None) -> None:
    """Run `app` in the foreground, for `python weekN/app.py`: on 127.0.0.1 unless GRADIO_SERVER_NAME says
    otherwise (a Hugging Face Space sets it to 0.0.0.0), on PORT/GRADIO_SERVER_PORT or a free port."""
    host = os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = port or int(os.environ.get("PORT") or os.environ.get("GRADIO_SERVER_PORT") or free_port())
    print(f"Open http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}/ (Ctrl+C to stop)", flush=True)
    app.launch(server_name=host, server_port=port, inbrowser=False, show_error=True, quiet=True)
