"""Text to speech: offline with hibari-tts (Apache-2.0, voice bundled, 24 kHz) or espeak-ng (Debian
package), and OpenAI's TTS with a key. Every engine writes a WAV and returns its path and duration.

Voices for the local engine: "heart" (hibari's bundled American English voice) and "heart-low", the same
voice spoken faster and then slowed back down by resampling, which lowers its pitch and formants by a
quarter (like a larger speaker) at the original tempo: a teaching trick, not a second trained voice.
hibari's other voices download on first use, which this course does not do offline.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .whisper_local import SpeechEngineError

VOICES = {"heart": 1.0, "heart-low": 0.75}   # voice -> factor on pitch and formants
MAX_CHARS = 5_000


@dataclass
class Speech:
    """A synthesised WAV: where it is, how long, at what rate, and who made it how fast."""

    path: Path
    seconds: float
    sample_rate: int
    engine: str
    voice: str
    wall_seconds: float = 0.0

    def __fspath__(self) -> str:
        return str(self.path)

    def _repr_html_(self) -> str:  # plays in a notebook
        import base64

        data = base64.b64encode(Path(self.path).read_bytes()).decode()
        return f'<audio controls src="data:audio/wav;base64,{data}"></audio> {self.seconds:.1f} s ({self.engine}/{self.voice})'


@lru_cache(maxsize=1)
def _hibari():
    try:
        from hibari import Hibari
    except ImportError:
        raise SpeechEngineError("Offline text-to-speech needs hibari-tts: pip install hibari-tts==0.2.1") from None
    return Hibari(threads=1)


def synthesize_local(text: str, *, voice: str = "heart", speed: float = 1.0, seed: int = 0):
    """hibari's float32 samples at 24 kHz for `text`, with the voice's pitch factor applied."""
    import numpy as np
    from hibari import SAMPLE_RATE, dsp

    from .audio import resample

    if voice not in VOICES:
        raise SpeechEngineError(f"Unknown local voice {voice!r}: use one of {', '.join(VOICES)}.")
    tts, factor, rng = _hibari(), VOICES[voice], np.random.default_rng(seed)
    parts = []
    for phonemes in tts.phonemize(text):
        ids = tts.ids(phonemes)
        if len(ids) < 3:
            continue
        fast = np.asarray([speed / factor], np.float32)          # say it faster by 1/factor ...
        lh, th, ln, lr, phi, f0 = (o[0] for o in tts.sess.run(None, {"ids": np.asarray([ids], np.int64), "speed": fast}))
        wav = dsp.synth(lh, th, ln, lr, phi, f0, rng)
        if factor != 1.0:                                        # ... then stretch it back: lower by factor
            wav = resample(wav, int(SAMPLE_RATE * factor), SAMPLE_RATE)
        parts.append(wav)
        parts.append(np.zeros(int(0.15 * SAMPLE_RATE), np.float32))   # a breath between sentences
    return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), SAMPLE_RATE


def _espeak(text: str, path: Path, voice: str | None, speed: float) -> None:
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if not exe:
        raise SpeechEngineError("espeak-ng is not installed: sudo apt-get install -y espeak-ng "
                                "(macOS: brew install espeak-ng), or use engine='local'.")
    subprocess.run([exe, "-v", voice or "en-us", "-s", str(int(175 * speed)), "-w", str(path), text],
                   check=True, capture_output=True, timeout=120)


def default_path(text: str, engine: str, voice: str) -> Path:
    from ..settings import cache_dir

    digest = hashlib.sha1(f"{engine}|{voice}|{text}".encode()).hexdigest()[:16]
    return Path(cache_dir("speech", "tts")) / f"{digest}.wav"


def speak(text: str, *, engine: str = "local", voice: str | None = None, path=None, speed: float = 1.0,
          seed: int = 0, model: str | None = None, client=None) -> Speech:
    """Say `text` into a WAV file and return a `Speech` (path, seconds, rate, engine, voice).

    engine: "local" (hibari-tts, offline; voices "heart", "heart-low"), "espeak" (espeak-ng, offline) or
    "openai" (needs OPENAI_API_KEY; `model`, `voice` as OpenAI names them). path: where to write the WAV
    (default: the course cache, named by a hash of the text).
    """
    import soundfile as sf

    from .audio import write_wav

    text = (text or "").strip()
    if not text:
        raise ValueError("Nothing to say: speak() needs non-empty text.")
    if len(text) > MAX_CHARS:
        raise ValueError(f"The text is {len(text)} characters; speak() takes at most {MAX_CHARS}. Split it into parts.")
    voice = voice or {"local": "heart", "espeak": "en-us", "openai": "alloy"}.get(engine, "")
    path = Path(path) if path else default_path(text, engine, voice)
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if engine == "local":
        samples, rate = synthesize_local(text, voice=voice, speed=speed, seed=seed)
        if not len(samples):
            raise ValueError(f"Nothing pronounceable in {text[:60]!r}: use words, not only symbols.")
        write_wav(path, samples, rate)
    elif engine == "espeak":
        _espeak(text, path, voice, speed)
    elif engine == "openai":
        from .openai_speech import speak_openai

        speak_openai(text, path, voice=voice, model=model, client=client, speed=speed)
    else:
        raise SpeechEngineError(f"Unknown text-to-speech engine {engine!r}: use 'local', 'espeak' or 'openai'.")
    wall = time.perf_counter() - t0
    info = sf.info(str(path))
    return Speech(path=path, seconds=info.frames / info.samplerate, sample_rate=info.samplerate, engine=engine,
                  voice=voice, wall_seconds=wall)
