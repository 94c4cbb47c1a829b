"""The moods reelforge composes: each one's key, tempo, chords and bars, and the constants every part shares."""

from __future__ import annotations

from dataclasses import dataclass

from reelforge.errors import ReelforgeError

# Bump whenever the sound changes: the cache file name carries it, so old loops are never reused.
GENERATOR_VERSION = 1

SAMPLE_RATE = 48000
MIN_SAMPLE_RATE = 32000  # the hi-hats reach 13 kHz
STEPS_PER_BEAT = 4  # the grid is sixteenth notes
BEATS_PER_BAR = 4
TARGET_LOUDNESS_LUFS = -17.0
PEAK_CEILING_DBFS = -1.5


class MoodError(ReelforgeError, ValueError):
    """A mood that reelforge cannot compose; 'none' means silence, which is the caller's business."""


@dataclass(frozen=True)
class Chord:
    """One chord of a progression: its bass note and a voice-led voicing, as MIDI note numbers."""

    name: str
    bass: int
    voicing: tuple[int, ...]

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset(note % 12 for note in (self.bass, *self.voicing))


@dataclass(frozen=True)
class MoodPreset:
    """The fixed musical facts of a mood: tempo, loop length and chord progression (one chord per bar)."""

    name: str
    bpm: int
    bars: int
    key: str
    progression: tuple[Chord, ...]

    def chord_at(self, bar: int) -> Chord:
        return self.progression[bar % len(self.progression)]

    def step_samples(self, sample_rate: int) -> int:
        """Samples per sixteenth note (exact at 48 kHz for every preset)."""
        return round(sample_rate * 60 / (self.bpm * STEPS_PER_BEAT))

    def bar_samples(self, sample_rate: int) -> int:
        return self.step_samples(sample_rate) * STEPS_PER_BEAT * BEATS_PER_BAR

    def loop_samples(self, sample_rate: int) -> int:
        return self.bar_samples(sample_rate) * self.bars


MOODS: dict[str, MoodPreset] = {
    "upbeat": MoodPreset(
        name="upbeat",
        bpm=120,
        bars=8,
        key="D major",
        progression=(
            Chord("D", 38, (57, 62, 66)),
            Chord("A", 33, (57, 61, 64)),
            Chord("Bm", 35, (59, 62, 66)),
            Chord("G", 31, (59, 62, 67)),
        ),
    ),
    "calm": MoodPreset(
        name="calm",
        bpm=75,
        bars=8,
        key="F major",
        progression=(
            Chord("Fmaj7", 41, (53, 57, 60, 64)),
            Chord("Dm7", 38, (53, 57, 60, 62)),
            Chord("Bbmaj7", 46, (53, 57, 62, 65)),
            Chord("Cadd9", 36, (52, 55, 60, 62)),
        ),
    ),
    "dramatic": MoodPreset(
        name="dramatic",
        bpm=90,
        bars=8,
        key="C minor",
        progression=(
            Chord("Cm", 36, (48, 55, 60, 63)),
            Chord("Ab", 32, (44, 56, 60, 63)),
            Chord("Eb", 39, (46, 55, 58, 63)),
            Chord("Bb", 34, (46, 53, 58, 62)),
        ),
    ),
}


def preset(mood: str) -> MoodPreset:
    """The preset of a generated mood; `MoodError` (a `ValueError`) for "none" or an unknown name."""
    if mood == "none":
        raise MoodError('mood "none" means no music: there is nothing to generate')
    try:
        return MOODS[mood]
    except KeyError:
        raise MoodError(f"unknown music mood {mood!r}: choose one of {', '.join(MOODS)} or none") from None
