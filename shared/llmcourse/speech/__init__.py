"""Speech for week 2: speech-to-text, text-to-speech, and the measurements between them.

>>> from llmcourse.speech import transcribe, speak, wer
>>> said = speak("Dr. Patel paid $42.50 on March 3rd.")        # doctest: +SKIP  (hibari-tts, offline)
>>> heard = transcribe(said.path)                              # doctest: +SKIP  (Whisper tiny.en, offline)
>>> wer("Dr. Patel paid $42.50 on March 3rd.", heard.text)     # doctest: +SKIP
0.0

Engines: transcribe(engine="local" | "openai" | "google" | "amazon" | "azure"),
speak(engine="local" | "espeak" | "openai"). Names load lazily: importing this package loads no
audio library and no model.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "transcribe": "stt", "ENGINES": "stt",
    "Transcript": "transcript", "Segment": "transcript",
    "speak": "tts", "Speech": "tts", "VOICES": "tts",
    "load_audio": "audio", "Audio": "audio", "AudioError": "audio", "write_wav": "audio",
    "SpeechEngineError": "whisper_local",
    "wer": "metrics", "normalize": "metrics", "error_counts": "metrics",
    "clip_set": "clips", "Clip": "clips", "meeting_audio": "clips", "Meeting": "clips", "read_script": "clips",
    "Minutes": "minutes", "meeting_minutes": "minutes", "action_item_recall": "minutes",
    "label_speakers": "speakers", "as_script": "speakers", "median_pitch": "speakers", "Turn": "speakers",
}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
