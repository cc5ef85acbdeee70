"""Week 5 app: chat with the Corvane Robotics knowledge base, answers streamed, sources beside them.

    python week5_rag/app.py              # http://127.0.0.1:<free port>  (PORT=7860 to choose one)

No key: the bundled local model answers (SmolLM2-135M: fast, often wrong on details; the banner says so).
With a key in `.env`, the model picker lists the frontier models too and the same app answers well. Under
each answer a status line names the model, its tokens, cost and seconds. The knowledge base is
ingested into the course cache folder on first use; later starts only check for changed files.

Importable for tests and notebooks:

    from app import build_app            # with week5_rag/ on sys.path
    demo = build_app(kb=my_kb, model="local")
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

KB_FOLDER = Path(__file__).resolve().parent / "knowledge-base"
EXAMPLES = ["What is the payload of the Tern T1?", "How many days of paid annual leave do employees get?",
            "Who is the CFO of Corvane?", "Which robot flies along the aisles to count stock?"]


def get_kb(path: str | Path | None = None, folder: str | Path = KB_FOLDER):
    """The knowledge base in `path` (default: the course cache, `week5_kb`), in step with `folder`."""
    from llmcourse.rag import KnowledgeBase
    from llmcourse.settings import cache_dir

    kb = KnowledgeBase(path or cache_dir("week5_kb"))
    kb.ingest(folder, progress=False)  # idempotent: embeds only new or changed files
    return kb


def format_sources(hits, question: str = "") -> str:
    """The retrieved chunks as an HTML panel: number, source, similarity, and the passage as escaped text
    (a heading or table inside a document stays plain text) with the question's words marked."""
    from llmcourse.ui import sources_html

    return sources_html(hits, question)


def build_app(kb=None, model: str | None = None, *, k: int = 4, max_tokens: int = 200):
    """A Gradio Blocks app over `kb` (None: the cached course knowledge base, ingested on first question).

    model: the picker's first choice (any course model name; None: what `chat()` would pick, the local
    model without a key). API: /ask (message, history, model) -> (history, sources HTML, status line).
    """
    import gradio as gr

    from llmcourse import ui

    state = {"kb": kb}

    def knowledge_base():
        if state["kb"] is None:
            state["kb"] = get_kb()
        return state["kb"]

    def ask(message: str, history: list, picked: str | None = None):
        history = list(history or [])
        if not message or not message.strip():
            yield history, gr.skip(), "Ask a question about Corvane Robotics."
            return
        history.append({"role": "user", "content": message})
        try:
            answer = knowledge_base().answer(message, model=picked, k=k, stream=True, max_tokens=max_tokens)
            sources = format_sources(answer.hits, message)  # known before the first token
            history.append({"role": "assistant", "content": ""})
            yield history, sources, ui.answering_line(picked)
            for chunk in answer:
                history[-1]["content"] += chunk
                yield history, sources, ui.answering_line(picked)
            yield history, sources, ui.status_line(answer.reply)
        except Exception as exc:  # one readable line in the status, never a stack trace
            yield history, gr.skip(), ui.error_line(exc)

    with ui.frame("Ask the Corvane Robotics knowledge base", model=model,
                  description="Answers come from the 63 documents in `week5_rag/knowledge-base`; the passages "
                              "used are listed beside the answer, with your question's words marked.") as f:
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Answer", height=420, elem_id="answer")
                status = f.status_box()
                box = gr.Textbox(label="Question", placeholder="e.g. What is the payload of the Tern T1?",
                                 elem_id="question")
                gr.Examples(EXAMPLES, inputs=box)
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML("Sources appear here.", elem_id="sources")
        box.submit(ask, [box, chatbot, f.model], [chatbot, sources, status], api_name="ask").then(
            lambda: "", None, box, api_visibility="private")
    return f.blocks


if __name__ == "__main__":
    from llmcourse import ui

    print("Preparing the knowledge base (the first run embeds 63 documents, about 20 s)...")
    ui.launch(build_app(get_kb()))
