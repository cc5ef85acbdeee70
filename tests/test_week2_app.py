"""The week 2 voice assistant for real: Whisper tiny.en hears an uploaded clip, the local model's reply
streams, hibari speaks it. Driven by gradio_client and by headless Chromium (screenshot kept in
test-artifacts/)."""

from pathlib import Path

import pytest

from browser import load_app
import soundfile as sf

from llmcourse.speech import speak, wer
from llmcourse.ui import serve

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
QUESTION = "What is the capital of France?"


def load_app_module():
    return load_app("week2_speech")


@pytest.fixture(scope="module")
def app_module():
    return load_app_module()


@pytest.fixture(scope="module")
def question_wav(tmp_path_factory):
    return speak(QUESTION, path=tmp_path_factory.mktemp("q") / "question.wav").path


@pytest.fixture(scope="module")
def served(app_module):
    with serve(app_module.build_app(model="local", max_tokens=24)) as s:
        yield s


def test_pipeline_yields_transcript_then_growing_reply_then_audio(app_module, question_wav):
    steps = list(app_module.respond(str(question_wav), "local", max_tokens=16))
    transcript, reply, audio, status = steps[-1]
    assert wer(QUESTION, transcript) == 0.0
    assert steps[0][1] == "" and len(steps) >= 4 and reply.startswith(steps[2][1])  # streamed, growing
    assert sf.info(audio).frames > 0 and "`local/" in status and "RTF" in status and "$0.000000" in status


def test_no_audio_and_bad_audio_get_one_line_messages(app_module, tmp_path):
    assert list(app_module.respond(None, "local"))[-1][3] == "Record or upload some audio first."
    fake = tmp_path / "notes.wav"
    fake.write_text("not a recording")
    status = list(app_module.respond(str(fake), "local"))[-1][3]
    assert status.startswith("⚠️ AudioError:") and "is a text file" in status and "\n" not in status


def test_silence_is_reported_not_answered(app_module, tmp_path):
    import numpy as np

    quiet = tmp_path / "quiet.wav"
    sf.write(str(quiet), np.zeros(16000, np.float32), 16000)
    assert list(app_module.respond(str(quiet), "local"))[-1][3].startswith("No speech heard in 1.0 s")


def test_gradio_client_sends_a_clip_and_gets_all_four_outputs(served, question_wav):
    from gradio_client import Client, handle_file

    assert served.url.startswith("http://127.0.0.1:")
    client = Client(served.url, verbose=False)
    transcript, reply, audio, status = client.predict(handle_file(str(question_wav)), "local", api_name="/respond")
    assert wer(QUESTION, transcript) == 0.0 and reply.strip()
    assert sf.info(audio).duration > 0.3 and "`local/" in status and "spoken:" in status


def test_upload_in_a_real_browser_shows_transcript_reply_and_audio(served, question_wav):
    from browser import browser_page

    ARTIFACTS.mkdir(exist_ok=True)
    with browser_page() as page:
        page.goto(served.url)
        page.locator("#audio-in input[type=file]").set_input_files(str(question_wav))
        page.wait_for_selector("#audio-in audio, #audio-in .waveform-container, #audio-in button[aria-label*='lay']",
                               timeout=30_000, state="attached")
        page.locator("#ask").click()
        page.wait_for_function("() => (document.querySelector('#transcript textarea')?.value || '').includes('France')",
                               timeout=120_000)
        page.wait_for_function("() => (document.querySelector('#reply textarea')?.value || '').trim().length > 0",
                               timeout=120_000)
        page.wait_for_function("() => (document.querySelector('#frame-status')?.innerText || '').includes('spoken:')",
                               timeout=120_000)
        assert page.locator("#spoken audio").count() >= 1 or page.locator("#spoken [data-testid]").count() >= 1
        assert "Traceback" not in page.content()
        page.screenshot(path=str(ARTIFACTS / "week2_voice_app.png"), full_page=True)
