"""OpenAI's speech endpoints through the official SDK: transcription and text-to-speech.

Needs OPENAI_API_KEY (in `.env` or the environment). Pass `client=` to use your own `openai.OpenAI`
(tests pass one whose HTTP is replayed).
"""

from __future__ import annotations

import io
import time

from .transcript import Segment, Transcript

STT_MODEL = "gpt-4o-mini-transcribe"   # whisper-1 also returns timed segments (verbose_json)
TTS_MODEL = "gpt-4o-mini-tts"
TTS_VOICE = "alloy"


def client_for(client=None):
    """`client`, else an `openai.OpenAI` with the key from settings (a clear KeyProblem without one)."""
    if client is not None:
        return client
    import openai

    from .. import settings

    return openai.OpenAI(api_key=settings.api_key("openai"), max_retries=2, timeout=120.0)


def _wav_bytes(audio) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, audio.samples, audio.sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def transcribe_openai(audio, *, model: str | None = None, language: str | None = None, client=None) -> Transcript:
    """Send `audio` (an `Audio`) to OpenAI's transcription endpoint as a WAV file."""
    model = model or STT_MODEL
    api = client_for(client)
    verbose = model == "whisper-1"
    kwargs = {"language": language} if language else {}
    t0 = time.perf_counter()
    result = api.audio.transcriptions.create(
        model=model, file=("audio.wav", _wav_bytes(audio), "audio/wav"),
        response_format="verbose_json" if verbose else "json", **kwargs)
    wall = time.perf_counter() - t0
    text = (getattr(result, "text", "") or "").strip()
    segments = [Segment(float(s.start), float(s.end), s.text.strip()) for s in (getattr(result, "segments", None) or [])]
    if not segments and text:
        segments = [Segment(0.0, round(audio.seconds, 2), text)]  # the json format has no timestamps
    return Transcript(text=text, segments=segments, language=getattr(result, "language", None) or language or "en",
                      audio_seconds=audio.seconds, wall_seconds=wall, engine="openai", model=model)


def speak_openai(text: str, path, *, voice: str | None = None, model: str | None = None, client=None,
                 speed: float = 1.0) -> bytes:
    """OpenAI text-to-speech as WAV bytes written to `path`."""
    api = client_for(client)
    response = api.audio.speech.create(model=model or TTS_MODEL, voice=voice or TTS_VOICE, input=text,
                                       response_format="wav", speed=speed)
    data = response.read() if hasattr(response, "read") else response.content
    with open(path, "wb") as f:
        f.write(data)
    return data
