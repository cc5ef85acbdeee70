"""`transcribe()`: one call for every speech-to-text engine.

>>> t = transcribe("clip.wav")                  # doctest: +SKIP  (local Whisper tiny.en, offline)
>>> t.text, t.segments[0].start, round(t.rtf, 2)  # doctest: +SKIP
('On March 3, Dr. Patel paid $42.50.', 0.0, 0.08)
"""

from __future__ import annotations

from .audio import MAX_SECONDS, WHISPER_RATE, load_audio
from .transcript import Transcript
from .whisper_local import SpeechEngineError

ENGINES = {
    "local": "Whisper on this machine (faster-whisper; tiny.en bundled; model=\"base\" or a CTranslate2 folder)",
    "openai": "OpenAI transcription API (OPENAI_API_KEY)",
    "google": "Google Cloud Speech-to-Text (extra cloud-speech; GOOGLE_APPLICATION_CREDENTIALS)",
    "amazon": "Amazon Transcribe (extra cloud-speech + boto3; AWS credentials, TRANSCRIBE_BUCKET)",
    "azure": "Azure Speech (extra cloud-speech; AZURE_SPEECH_KEY, AZURE_SPEECH_REGION)",
}


def transcribe(audio, *, engine: str = "local", model: str | None = None, language: str | None = None,
               compute_type: str = "int8", max_seconds: float | None = MAX_SECONDS, client=None,
               **options) -> Transcript:
    """Speech to text. `audio`: a file path (WAV, MP3, FLAC, OGG, ...), bytes, an `Audio`, or Gradio's
    `(rate, array)`; any sample rate (resampled to 16 kHz). Returns a `Transcript` (text, segments with
    times, language, audio seconds, wall seconds, rtf).

    Silent audio returns an empty transcript with `silent=True` (no engine is called: nothing to pay for).
    Missing, empty, corrupt, non-audio or over-long input raises `AudioError` naming the problem.
    """
    if engine not in ENGINES:
        raise SpeechEngineError(f"Unknown speech engine {engine!r}: use one of {', '.join(ENGINES)}.")
    clip = load_audio(audio, sample_rate=WHISPER_RATE, max_seconds=max_seconds)
    if clip.silent:
        return Transcript(text="", language=language or "en", audio_seconds=clip.seconds, engine=engine,
                          model=model or "", silent=True)
    if engine == "local":
        from .whisper_local import transcribe_local

        return transcribe_local(clip, model=model, compute_type=compute_type, language=language, **options)
    if engine == "openai":
        from .openai_speech import transcribe_openai

        return transcribe_openai(clip, model=model, language=language, client=client)
    from . import cloud

    if engine == "google":
        return cloud.transcribe_google(clip, language=language, model=model, client=client)
    if engine == "amazon":
        return cloud.transcribe_amazon(clip, language=language, clients=client, **options)
    return cloud.transcribe_azure(clip, language=language, **options)
