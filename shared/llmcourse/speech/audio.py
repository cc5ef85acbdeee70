"""Audio in: any common file (WAV, MP3, FLAC, OGG, and what PyAV can decode), bytes, or a Gradio
`(sample_rate, array)` pair -> mono float32 at the rate the engine wants. Bad input gets an
`AudioError` that says what is wrong with which file and what to do, never a stack trace from deep
inside a decoder.

>>> audio = load_audio("clip.mp3")          # doctest: +SKIP
>>> audio.sample_rate, round(audio.seconds, 1)  # doctest: +SKIP
(16000, 4.2)
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from ..errors import LLMCourseError

WHISPER_RATE = 16_000
MAX_SECONDS = 30 * 60          # longer recordings: split them, or raise max_seconds knowingly
SILENCE_RMS = 1e-3             # below this RMS (about -60 dBFS) we call a recording silent
FORMATS = "WAV, MP3, FLAC, OGG (and M4A/WEBM through PyAV)"


class AudioError(LLMCourseError, ValueError):
    """The audio cannot be used: missing, empty, corrupt, not audio, or too long. Says which and why."""


@dataclass
class Audio:
    """Mono float32 samples in [-1, 1] at `sample_rate`, with where they came from."""

    samples: "object"          # numpy.ndarray, float32, 1-D
    sample_rate: int
    source: str = "<array>"

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate

    @property
    def rms(self) -> float:
        import numpy as np

        return float(np.sqrt(np.mean(np.square(self.samples, dtype=np.float64)))) if len(self.samples) else 0.0

    @property
    def silent(self) -> bool:
        """True when nothing louder than about -60 dBFS is in it (transcribe returns empty text)."""
        return self.rms < SILENCE_RMS


def _decode_soundfile(data: bytes):
    import soundfile as sf

    samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return samples.mean(axis=1), rate


def _decode_av(data: bytes):
    import av
    import numpy as np

    with av.open(io.BytesIO(data)) as container:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=stream.rate or WHISPER_RATE)
        parts = [f.to_ndarray().reshape(-1) for frame in container.decode(stream) for f in resampler.resample(frame)]
        rate = stream.rate or WHISPER_RATE
    return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), rate


def resample(samples, rate: int, target: int):
    """`samples` at `rate` Hz -> `target` Hz (polyphase filter, as scipy does it)."""
    import numpy as np

    if rate == target:
        return np.asarray(samples, np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(rate), int(target))
    return resample_poly(samples, target // g, rate // g).astype(np.float32)


def _read_bytes(source) -> tuple[bytes, str]:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), "<bytes>"
    path = Path(source).expanduser()
    if not path.exists():
        raise AudioError(f"No audio file at {path}: check the path (relative paths start from "
                         f"{Path.cwd()}).")
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file: pass one file ({FORMATS}).")
    data = path.read_bytes()
    if not data:
        raise AudioError(f"{path} is empty (0 bytes): the recording did not save. Record or export it again.")
    return data, str(path)


def load_audio(source, *, sample_rate: int = WHISPER_RATE, max_seconds: float | None = MAX_SECONDS) -> Audio:
    """Read `source` (a path, bytes, an `Audio`, or Gradio's `(rate, array)`) as mono float32 at `sample_rate`.

    Raises AudioError for a missing, empty, corrupt or non-audio file, audio with no samples, and
    audio longer than `max_seconds` (None: no limit). Silent audio is returned (see `Audio.silent`).
    """
    import numpy as np

    if isinstance(source, Audio):
        samples, rate, name = source.samples, source.sample_rate, source.source
    elif isinstance(source, tuple) and len(source) == 2:       # gradio numpy audio: (rate, int16 array)
        rate, samples = source
        samples, name = np.asarray(samples), "<microphone>"
        if samples.dtype.kind == "i":
            samples = samples / float(np.iinfo(samples.dtype).max)
        if samples.ndim == 2:
            samples = samples.mean(axis=1)
    elif isinstance(source, np.ndarray):
        samples, rate, name = source, sample_rate, "<array>"
    else:
        data, name = _read_bytes(source)
        samples = rate = None
        for decode in (_decode_soundfile, _decode_av):
            try:
                samples, rate = decode(data)
                break
            except Exception:  # noqa: BLE001 - each decoder fails in its own way; we report once below
                continue
        if samples is None:
            kind = "a text file" if _looks_like_text(data) else "not audio we can decode (corrupt or cut short?)"
            raise AudioError(f"{name} is {kind}: expected {FORMATS}. Open it in an audio player to check, "
                             "or export it again as WAV.")
    samples = np.asarray(samples, np.float32).reshape(-1)
    if samples.size == 0:
        raise AudioError(f"{name} holds no audio samples (0 seconds): record something and try again.")
    if not np.all(np.isfinite(samples)):
        raise AudioError(f"{name} contains NaN or infinite samples: the file is damaged; export it again.")
    seconds = samples.size / rate
    if max_seconds is not None and seconds > max_seconds:
        raise AudioError(f"{name} is {seconds / 60:.1f} minutes long, over the {max_seconds / 60:.0f}-minute limit: "
                         "split it into parts, or pass max_seconds= a larger value if you mean it.")
    return Audio(resample(samples, int(rate), sample_rate), sample_rate, name)


def _looks_like_text(data: bytes) -> bool:
    head = data[:512]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def write_wav(path, samples, sample_rate: int) -> Path:
    """Write mono float samples as a 16-bit PCM WAV; returns the path."""
    import soundfile as sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, sample_rate, subtype="PCM_16")
    return path
