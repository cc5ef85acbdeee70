"""What every speech-to-text engine returns: the text, timed segments, the language and the timings."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Segment:
    """A stretch of speech: start and end in seconds from the beginning of the audio, and its text."""

    start: float
    end: float
    text: str
    words: list[tuple[float, float, str]] = field(default_factory=list)  # with word_timestamps=True


@dataclass
class Transcript:
    """The result of `transcribe()`.

    `rtf` (real-time factor) is wall seconds per second of audio: 0.1 means ten times faster than
    real time. `silent` is True when the audio held no speech-level sound (then `text` is "").
    """

    text: str
    segments: list[Segment] = field(default_factory=list)
    language: str = "en"
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    engine: str = "local"
    model: str = ""
    silent: bool = False

    @property
    def rtf(self) -> float:
        return self.wall_seconds / self.audio_seconds if self.audio_seconds else 0.0

    def __str__(self) -> str:
        return self.text

    def timed(self) -> str:
        """The transcript as `[mm:ss] text` lines, one per segment."""
        return "\n".join(f"[{int(s.start // 60):02d}:{s.start % 60:04.1f}] {s.text}" for s in self.segments)

    def summary_line(self) -> str:
        """One line for an app or a table: engine, model, audio length, wall time, real-time factor."""
        return (f"`{self.engine}/{self.model}` · {self.audio_seconds:.1f} s audio in {self.wall_seconds:.2f} s "
                f"(RTF {self.rtf:.2f})")
