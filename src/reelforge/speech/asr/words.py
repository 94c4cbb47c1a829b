"""A word heard in a recording: its text and when it is said, in seconds, with the model's confidence."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimedWord:
    text: str  # as written in the transcript (punctuation attached), or as recognized
    start: float  # seconds from the start of the recording
    end: float
    probability: float  # the model's mean token probability for the word (0..1); ~0: not heard

    def shifted(self, seconds: float) -> "TimedWord":
        return TimedWord(self.text, self.start + seconds, self.end + seconds, self.probability)
