"""Where notes go: the loop's grid of sixteenth notes and the mixer that lays sounds on it, wrapping at the loop's end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from reelforge.resolve.music.presets import BEATS_PER_BAR, STEPS_PER_BEAT


@dataclass(frozen=True)
class Grid:
    """Sixteenth-note positions of the loop in samples."""

    sample_rate: int
    step: int
    bars: int

    @property
    def bar(self) -> int:
        return self.step * STEPS_PER_BEAT * BEATS_PER_BAR

    @property
    def length(self) -> int:
        return self.bar * self.bars

    def at(self, bar: int, sixteenth: float = 0) -> int:
        return bar * self.bar + round(sixteenth * self.step)


class Mixer:
    """Stereo buses the length of the loop; a sound that runs past the end wraps into the start."""

    def __init__(self, length: int):
        self.length = length
        self.dry = np.zeros((2, length))
        self.reverb = np.zeros((2, length))  # send to the reverb
        self.air = np.zeros((2, length))  # above the speech band: skips the mix lowpass

    def add(self, start: int, signal: np.ndarray, *, gain: float = 1.0, pan: float = 0.0, reverb: float = 0.0,
            air: bool = False) -> None:
        """Mix `signal` in from sample `start`, panned (-1 left .. 1 right) at constant power, with a reverb send."""
        angle = (pan + 1.0) * np.pi / 4.0
        gains = np.array([[np.cos(angle)], [np.sin(angle)]]) * gain
        bus = self.air if air else self.dry
        for offset, piece in _wrapped(start, signal, self.length):
            stereo = gains * piece
            bus[:, offset : offset + len(piece)] += stereo
            if reverb:
                self.reverb[:, offset : offset + len(piece)] += reverb * stereo


def _wrapped(start: int, signal: np.ndarray, length: int) -> Iterator[tuple[int, np.ndarray]]:
    """The pieces of `signal` placed at `start` on a circle of `length` samples, as (offset, piece) pairs."""
    position, done = start % length, 0
    while done < len(signal):
        count = min(length - position, len(signal) - done)
        yield position, signal[done : done + count]
        position, done = 0, done + count


# --- instruments: pure functions of their arguments, each returning one mono note -------------------


class Notes:
    """Synthesizes each distinct note once per loop: the same note at the same velocity is the same array."""

    def __init__(self, sample_rate: int):
        self.sample_rate = sample_rate
        self._made: dict[tuple, np.ndarray] = {}

    def __call__(self, instrument: Callable[..., np.ndarray], *args: float, **params: float) -> np.ndarray:
        key = (instrument, args, tuple(sorted(params.items())))
        if key not in self._made:
            self._made[key] = instrument(self.sample_rate, *args, **params)
        return self._made[key]
