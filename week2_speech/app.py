"""Week 2 voice assistant: speak (or upload audio), read the transcript, watch the reply stream in, hear it.

    python week2_speech/app.py          # http://127.0.0.1:<free port>  (PORT=7860 to choose one)

Offline and keyless: Whisper tiny.en hears, SmolLM2-135M answers, hibari-tts speaks. With OPENAI_API_KEY
(or another key) in `.env`, the model picker offers frontier models for the reply. On a Hugging Face
Space this file is the app (see README.md here: front matter and the two upload commands).

Importable for tests and notebooks:

    from app import build_app            # with week2_speech/ on sys.path
    demo = build_app(model="local")
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
try:
    import llmcourse  # noqa: F401
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "shared"))

SYSTEM = "You are a helpful voice assistant. Answer in one to three short sentences, in plain words (no lists)."
TITLE = "Week 2 · Voice assistant"
DESCRIPTION = ("Speak or upload a clip, then press **Ask**. Transcribed on this machine by Whisper tiny.en; "
               "the reply is spoken by hibari-tts. Audio never leaves the machine unless you pick a cloud model.")


def respond(audio, model, *, max_tokens: int = 120, stt_engine: str = "local", tts_engine: str = "local"):
    """The pipeline, as a Gradio generator: yields (transcript, reply so far, reply audio, status line)."""
    from llmcourse import chat, ui
    from llmcourse.speech import speak, transcribe

    if not audio:
        yield "", "", None, "Record or upload some audio first."
        return
    try:
        heard = transcribe(audio, engine=stt_engine)
    except Exception as exc:  # noqa: BLE001 - shown as one line, never a traceback
        yield "", "", None, ui.error_line(exc)
        return
    if heard.silent or not heard.text:
        yield "", "", None, f"No speech heard in {heard.audio_seconds:.1f} s of audio: speak closer to the microphone."
        return
    yield heard.text, "", None, heard.summary_line()
    try:
        reply = chat(heard.text, model=model, system=SYSTEM, max_tokens=max_tokens, stream=True)
        text = ""
        for chunk in reply:
            text += chunk
            yield heard.text, text, None, heard.summary_line()
        out = Path(tempfile.mkdtemp(prefix="llmcourse-voice-")) / "reply.wav"
        said = speak(text or "I have no answer.", engine=tts_engine, path=out)
    except Exception as exc:  # noqa: BLE001
        yield heard.text, locals().get("text", ""), None, ui.error_line(exc)
        return
    status = (f"{ui.status_line(reply)} · heard: {heard.summary_line()} · "
              f"spoken: {said.seconds:.1f} s of audio in {said.wall_seconds:.2f} s")
    yield heard.text, text, str(said.path), status


def build_app(model: str | None = None, *, max_tokens: int = 120, stt_engine: str = "local",
              tts_engine: str = "local"):
    """The voice assistant in the course's shared frame. API: /respond (audio file, model name)."""
    import gradio as gr

    from llmcourse import ui

    def run(audio, chosen):
        yield from respond(audio, chosen, max_tokens=max_tokens, stt_engine=stt_engine, tts_engine=tts_engine)

    with ui.frame(TITLE, description=DESCRIPTION, model=model) as f:
        with gr.Row():
            with gr.Column():
                audio_in = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Your question",
                                    elem_id="audio-in")
                ask = gr.Button("Ask", variant="primary", elem_id="ask")
            with gr.Column():
                transcript = gr.Textbox(label="Transcript", interactive=False, elem_id="transcript")
                answer = gr.Textbox(label="Reply", interactive=False, lines=4, elem_id="reply")
                spoken = gr.Audio(label="Reply, spoken", type="filepath", interactive=False, elem_id="spoken")
        status = f.status_box()
        ask.click(run, [audio_in, f.model], [transcript, answer, spoken, status], api_name="respond")
    return f.blocks


if __name__ == "__main__":
    from llmcourse.ui import serve

    port = int(os.environ.get("PORT") or os.environ.get("GRADIO_SERVER_PORT") or 0) or None
    host = os.environ.get("HOST", "127.0.0.1")   # a Space sets 0.0.0.0 via GRADIO_SERVER_NAME
    served = serve(build_app(), port=port, host=os.environ.get("GRADIO_SERVER_NAME", host))
    print(f"Voice assistant at {served.url} (Ctrl+C to stop)")
    try:
        import time

        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        served.close()
