"""Week 5 app: chat with the Corvane Robotics knowledge base, answers streamed, sources beside them.

    python week5_rag/app.py              # http://127.0.0.1:<free port>  (PORT=7860 to choose one)

No key: the bundled local model answers (SmolLM2-135M: fast, often wrong on details). With a key in
`.env`, `chat()` picks a frontier model and the same app answers well. The knowledge base is
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


def format_sources(hits) -> str:
    """The retrieved chunks as Markdown: number, source, similarity and the start of the text."""
    if not hits:
        return "No relevant passages found."
    lines = ["### Sources"]
    for i, h in enumerate(hits, 1):
        snippet = " ".join(h.text.split())[:160]
        lines.append(f"**[{i}]** `{h.source}` (similarity {h.score:.2f})\n\n> {snippet}...\n")
    return "\n".join(lines)


def build_app(kb=None, model: str | None = None, *, k: int = 4, max_tokens: int = 200):
    """A Gradio Blocks app over `kb` (None: the cached course knowledge base, ingested on first question).

    model: any course model name; None lets `chat()` choose (local without a key). API: /ask.
    """
    import gradio as gr

    state = {"kb": kb}

    def knowledge_base():
        if state["kb"] is None:
            state["kb"] = get_kb()
        return state["kb"]

    def ask(message: str, history: list):
        history = list(history or [])
        if not message or not message.strip():
            yield history, "Ask a question about Corvane Robotics."
            return
        history.append({"role": "user", "content": message})
        answer = knowledge_base().answer(message, model=model, k=k, stream=True, max_tokens=max_tokens)
        sources = format_sources(answer.hits)  # known before the first token
        history.append({"role": "assistant", "content": ""})
        yield history, sources
        for chunk in answer:
            history[-1]["content"] += chunk
            yield history, sources

    with gr.Blocks(title="Corvane knowledge base") as app:
        gr.Markdown("# Ask the Corvane Robotics knowledge base\nAnswers come from the 63 documents in "
                    "`week5_rag/knowledge-base`; the passages used are listed on the right.")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Answer", height=420, elem_id="answer")
                box = gr.Textbox(label="Question", placeholder="e.g. What is the payload of the Tern T1?",
                                 elem_id="question")
                gr.Examples(EXAMPLES, inputs=box)
            with gr.Column(scale=2):
                sources = gr.Markdown("Sources appear here.", elem_id="sources")
        box.submit(ask, [box, chatbot], [chatbot, sources], api_name="ask").then(
            lambda: "", None, box, api_visibility="private")
    return app


if __name__ == "__main__":
    from llmcourse.ui import free_port

    port = int(os.environ.get("PORT") or os.environ.get("GRADIO_SERVER_PORT") or free_port())
    print("Preparing the knowledge base (the first run embeds 63 documents, about 20 s)...")
    build_app(get_kb()).launch(server_name="127.0.0.1", server_port=port)
