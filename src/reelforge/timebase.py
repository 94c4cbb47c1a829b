"""Rational time: frames at a rate. Seconds appear only at the edges (JSON in, ffmpeg arguments out)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Union

Number = Union[int, float, Fraction, str]


def to_fraction(value: Number) -> Fraction:
    """Exact fraction of a JSON number: 0.1 becomes 1/10, not 3602879701896397/36028797018963968."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


@dataclass(frozen=True, order=True)
class Rate:
    """A frame rate as an exact fraction (30, 25, 30000/1001...)."""

    value: Fraction

    @classmethod
    def of(cls, fps: Number) -> "Rate":
        rate = to_fraction(fps)
        if rate <= 0:
            raise ValueError(f"frame rate must be positive, got {fps}")
        return cls(rate)

    def frames(self, seconds: Number, rounding: str = "nearest") -> int:
        """Whole frames in `seconds`: 'nearest' (half up), 'floor' or 'ceil'."""
        exact = to_fraction(seconds) * self.value
        if rounding == "floor":
            return exact.numerator // exact.denominator
        if rounding == "ceil":
            return -((-exact.numerator) // exact.denominator)
        return int((exact + Fraction(1, 2)).__floor__())

    def seconds(self, frames: int) -> Fraction:
        return Fraction(frames) / self.value

    def ffmpeg(self) -> str:
        """The rate as ffmpeg writes it: '30' or '30000/1001'."""
        v = self.value
        return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"


@dataclass(frozen=True, order=True)
class FrameRange:
    """A half-open range of frames [start, start + duration) at one rate."""

    start: int
    duration: int

    @property
    def end(self) -> int:
        return self.start + self.duration

    def overlaps(self, other: "FrameRange") -> bool:
        return self.start < other.end and other.start < self.end


def seconds_str(seconds: Fraction) -> str:
    """Seconds for an ffmpeg argument: exact to the microsecond, no exponent."""
    return f"{float(seconds):.6f}"
