"""Spoken narration as the rest of the pipeline sees it: an audio file and the timing of every word."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path


@dataclass(frozen=True)
class WordTiming:
    """One word of the narration and when it is spoken, in exact seconds from the start of the audio."""

    text: str  # as written in the narration, punctuation attached ("ocean,")
    start: Fraction
    end: Fraction

    @property
    def ends_sentence(self) -> bool:
        return self.text.rstrip("\"'”’)]").endswith((".", "!", "?", "…"))


@dataclass(frozen=True)
class Speech:
    """A narration's audio (WAV) and word timings."""

    audio_path: Path
    sample_rate: int
    samples: int
    words: tuple[WordTiming, ...]

    @property
    def duration(self) -> Fraction:
        return Fraction(self.samples, self.sample_rate)
