"""The course's test audio, made offline: one clip per sentence of a text file, and a two-voice
meeting from a script. Files are cached (by a hash of text and voice), so a second run is instant.

Sentence files hold one sentence per line; `#` lines are comments. Meeting scripts hold
`Speaker: what they say` lines; the first two speakers get the voices "heart" and "heart-low".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Clip:
    """One synthesised sentence: the WAV, the text it says (the reference transcript) and its voice."""

    path: Path
    text: str
    voice: str
    seconds: float


def read_lines(path) -> list[str]:
    """Non-empty, non-comment lines of a UTF-8 text file (a clear error naming the file if absent)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No sentence file at {path.resolve()}: the week 2 clips live in "
                                "week2_speech/clips/ (one sentence per line).")
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def clip_set(sentences_file, *, voices=("heart", "heart-low"), limit: int | None = None,
             progress: bool = False) -> list[Clip]:
    """One WAV per sentence (voices alternate), synthesised offline with hibari and cached."""
    from .tts import speak

    sentences = read_lines(sentences_file)[:limit]
    items = enumerate(sentences)
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(items, total=len(sentences), desc="synthesising clips")
    out = []
    for i, text in items:
        voice = voices[i % len(voices)]
        s = speak(text, voice=voice)
        out.append(Clip(path=s.path, text=text, voice=voice, seconds=s.seconds))
    return out


@dataclass
class Meeting:
    """A synthesised meeting: the WAV, the script's turns (speaker, text) and each turn's start time."""

    path: Path
    turns: list[tuple[str, str]]
    starts: list[float]
    seconds: float

    @property
    def script(self) -> str:
        """The reference transcript, one `Speaker: text` line per turn."""
        return "\n".join(f"{who}: {text}" for who, text in self.turns)

    @property
    def words(self) -> str:
        """Just the words said, in order (what a transcript without speaker labels should match)."""
        return " ".join(text for _, text in self.turns)


def read_script(path) -> list[tuple[str, str]]:
    """`Speaker: text` lines -> [(speaker, text)], with the file and line named on a malformed line."""
    turns = []
    for n, line in enumerate(read_lines(path), 1):
        who, sep, text = line.partition(":")
        if not sep or not who.strip() or not text.strip() or len(who) > 30:
            raise ValueError(f"{path}, line {n}: expected 'Speaker: text', got {line[:60]!r}.")
        turns.append((who.strip(), text.strip()))
    return turns


def meeting_audio(script_file, *, path=None, pause: float = 0.4) -> Meeting:
    """Synthesise a meeting script into one WAV: each speaker a voice, `pause` seconds between turns."""
    import hashlib

    import numpy as np
    import soundfile as sf

    from ..settings import cache_dir
    from .audio import write_wav
    from .tts import VOICES, speak

    turns = read_script(script_file)
    speakers = list(dict.fromkeys(who for who, _ in turns))
    voices = {who: list(VOICES)[i % len(VOICES)] for i, who in enumerate(speakers)}
    digest = hashlib.sha1(repr(turns).encode()).hexdigest()[:16]
    path = Path(path) if path else Path(cache_dir("speech", "meetings")) / f"{digest}.wav"
    pieces, starts, t = [], [], 0.0
    for who, text in turns:
        s = speak(text, voice=voices[who])
        samples, rate = sf.read(str(s.path), dtype="float32")
        starts.append(round(t, 2))
        pieces += [samples, np.zeros(int(pause * rate), np.float32)]
        t += len(samples) / rate + pause
    write_wav(path, np.concatenate(pieces), rate)
    return Meeting(path=path, turns=turns, starts=starts, seconds=round(t, 2))
