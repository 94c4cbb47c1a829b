"""Background music that reelforge composes itself: one seamless, deterministic loop per mood, cached as WAV."""

from __future__ import annotations

import io
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reelforge.errors import ReelforgeError
from reelforge.fileio import write_atomic

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


def loop_file_name(mood: str, sample_rate: int = SAMPLE_RATE) -> str:
    return f"{mood}-g{GENERATOR_VERSION}-{sample_rate}.wav"


def mood_loop(mood: str, folder: Path, sample_rate: int = SAMPLE_RATE) -> Path:
    """A 16-bit stereo WAV of `mood` that loops without a seam, a whole number of bars long; made once, then cached.

    The file is `<folder>/<mood>-g<version>-<rate>.wav` (a workspace's `folder("music")`). Raises `MoodError`
    (a `ValueError`) for "none" and unknown moods.
    """
    mood_preset = preset(mood)
    _check_sample_rate(sample_rate)
    folder = Path(folder)
    path = folder / loop_file_name(mood, sample_rate)
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(path, wav_bytes(render_mood(mood_preset.name, sample_rate), sample_rate))
    return path


def render_mood(mood: str, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The loop of `mood` as float samples, shape (2, n), mastered to about -17 LUFS with peaks below -1.5 dBFS."""
    mood_preset = preset(mood)
    _check_sample_rate(sample_rate)
    grid = _Grid(sample_rate, mood_preset.step_samples(sample_rate), mood_preset.bars)
    mixer = _Mixer(grid.length)
    seed = _SEEDS[mood_preset.name]
    _COMPOSERS[mood_preset.name](mood_preset, grid, mixer, seed)
    return _master(mixer, sample_rate, _MASTERING[mood_preset.name], seed)


def _check_sample_rate(sample_rate: int) -> None:
    if int(sample_rate) != sample_rate or sample_rate < MIN_SAMPLE_RATE:
        raise ValueError(f"music needs a whole sample rate of at least {MIN_SAMPLE_RATE} Hz, not {sample_rate}")


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM WAV bytes of float samples shaped (channels, n) in [-1, 1]."""
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(samples.shape[0])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.T.tobytes())
    return buffer.getvalue()


# --- the grid and the circular mixer -------------------------------------------------------------


@dataclass(frozen=True)
class _Grid:
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


class _Mixer:
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


class _Notes:
    """Synthesizes each distinct note once per loop: the same note at the same velocity is the same array."""

    def __init__(self, sample_rate: int):
        self.sample_rate = sample_rate
        self._made: dict[tuple, np.ndarray] = {}

    def __call__(self, instrument: Callable[..., np.ndarray], *args: float, **params: float) -> np.ndarray:
        key = (instrument, args, tuple(sorted(params.items())))
        if key not in self._made:
            self._made[key] = instrument(self.sample_rate, *args, **params)
        return self._made[key]


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


def _times(sample_rate: int, seconds: float) -> np.ndarray:
    return np.arange(int(seconds * sample_rate)) / sample_rate


def _edges(t: np.ndarray, attack: float, release: float) -> np.ndarray:
    """A linear rise over `attack` seconds and a cosine fall over the last `release`: notes start and end at zero."""
    rise = np.minimum(1.0, t / attack)
    remaining = t[-1] - t if len(t) else t
    fall = np.where(remaining < release, 0.5 - 0.5 * np.cos(np.pi * np.clip(remaining / release, 0, 1)), 1.0)
    return rise * fall


def _shaped_noise(sample_rate: int, seconds: float, seed: int, low: float, high: float) -> np.ndarray:
    """Seeded white noise, band-limited between `low` and `high` Hz with soft edges, at unit RMS."""
    n = int(seconds * sample_rate)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    spectrum *= 1 / np.sqrt(1 + (low / np.maximum(freqs, 1.0)) ** 4) / np.sqrt(1 + (freqs / high) ** 4)
    noise = np.fft.irfft(spectrum, n)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def _wavetable(harmonic_amps: np.ndarray, size: int = 4096) -> np.ndarray:
    """One cycle of a sum of sine harmonics (harmonic k has amplitude harmonic_amps[k-1])."""
    spectrum = np.zeros(size // 2 + 1, dtype=complex)
    spectrum[1 : len(harmonic_amps) + 1] = -0.5j * size * harmonic_amps
    return np.fft.irfft(spectrum, size)


def _play_table(table: np.ndarray, cycles: np.ndarray) -> np.ndarray:
    """Read a wavetable at the given phases (in cycles), with linear interpolation."""
    position = (cycles % 1.0) * len(table)
    index = position.astype(np.intp)
    frac = position - index
    return table[index] + (table[(index + 1) % len(table)] - table[index]) * frac


def _pad(sample_rate: int, note: float, seconds: float, *, cutoff: float, attack: float, release: float,
         detune_cents: float = 0.0, brightness: float = 1.0, vibrato: float = 0.0) -> np.ndarray:
    """A held string or synth voice: saw-like harmonics rolled off above `cutoff` (alias-free), slow envelope."""
    freq = _midi_hz(note) * 2 ** (detune_cents / 1200)
    k = np.arange(1, max(1, int(min(cutoff * 4, 12000) / freq)) + 1)
    table = _wavetable((1.0 / k**brightness) / (1.0 + (k * freq / cutoff) ** 2))
    t = _times(sample_rate, seconds + release)
    phase = (note * 0.618 + detune_cents * 0.0137) % 1.0  # fixed, different for every voice
    cycles = phase + freq * t
    if vibrato:  # a slow pitch wobble, integrated into the phase
        cycles += vibrato * freq * np.sin(2 * np.pi * 5.1 * t) / (2 * np.pi * 5.1)
    hold = max(seconds, attack + 0.3)
    envelope = np.interp(t, [0.0, attack, attack + 0.3, hold, hold + release], [0.0, 1.0, 0.85, 0.85, 0.0])
    return _play_table(table, cycles) * envelope


def _pluck(sample_rate: int, note: float, seconds: float, *, velocity: float = 1.0, harmonics: int = 14,
           decay: float = 0.6, damping: float = 3.0) -> np.ndarray:
    """A plucked string, additively: higher harmonics die faster, like a closing filter; harder plucks ring brighter."""
    freq = _midi_hz(note)
    t = _times(sample_rate, seconds)
    k = np.arange(1, min(harmonics, int(8000 / freq)) + 1)[:, None]
    rates = 1.0 / decay + damping * k / (0.6 + 0.4 * velocity)
    partials = (1.0 / k) * np.exp(-rates * t) * np.sin(2 * np.pi * freq * k * t)
    return velocity * partials.sum(axis=0) * _edges(t, 0.003, 0.03)


def _mallet(sample_rate: int, note: float, seconds: float, *, velocity: float = 1.0) -> np.ndarray:
    """A soft marimba: a sine plus the bar's inharmonic partial (3.93x), which dies first."""
    freq = _midi_hz(note)
    t = _times(sample_rate, seconds)
    tone = np.sin(2 * np.pi * freq * t) * np.exp(-t / 0.35)
    tone += 0.25 * velocity * np.sin(2 * np.pi * freq * 3.93 * t) * np.exp(-t / 0.05)
    return velocity * tone * _edges(t, 0.002, 0.02)


def _electric_piano(sample_rate: int, note: float, seconds: float, *, velocity: float = 1.0) -> np.ndarray:
    """A Rhodes-like tone by FM: a 1:1 modulator whose depth falls after the strike, plus a faint tine."""
    freq = _midi_hz(note)
    t = _times(sample_rate, seconds)
    index = (0.4 + 1.4 * velocity) * np.exp(-t / 0.25) + 0.15
    body = np.sin(2 * np.pi * freq * t + index * np.sin(2 * np.pi * freq * t))
    tine = 0.08 * velocity * np.sin(2 * np.pi * freq * 7.0 * t) * np.exp(-t / 0.04)
    decay = np.exp(-t / (1.6 * (262.0 / freq) ** 0.35))  # low notes ring longer
    return velocity * (body + tine) * decay * _edges(t, 0.003, 0.15)


def _round_bass(sample_rate: int, note: float, seconds: float, *, velocity: float = 1.0) -> np.ndarray:
    """A soft, round bass: a sine with a little second and third harmonic so small speakers still hear it."""
    freq = _midi_hz(note)
    t = _times(sample_rate, seconds)
    tone = np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(4 * np.pi * freq * t) + 0.1 * np.sin(6 * np.pi * freq * t)
    return velocity * tone * np.exp(-t / 2.0) * _edges(t, 0.02, 0.12)


def _kick(sample_rate: int, seed: int) -> np.ndarray:
    """A soft kick: a sine sweeping from about 125 Hz down to 46 Hz, with a faint click."""
    t = _times(sample_rate, 0.45)
    freq = 46.0 + 80.0 * np.exp(-t / 0.035)
    body = np.sin(2 * np.pi * np.cumsum(freq) / sample_rate) * np.exp(-t / 0.22)
    click = 0.15 * _shaped_noise(sample_rate, 0.45, seed, 800, 3000) * np.exp(-t / 0.004)
    return (body + click) * _edges(t, 0.001, 0.02)


def _snare(sample_rate: int, seed: int) -> np.ndarray:
    """A low, soft snare: a 185 Hz body under a short burst of band-limited noise."""
    t = _times(sample_rate, 0.3)
    rattle = 0.5 * _shaped_noise(sample_rate, 0.3, seed, 250, 2200) * np.exp(-t / 0.08)
    body = np.sin(2 * np.pi * 185.0 * t) * np.exp(-t / 0.05)
    return (rattle + body) * _edges(t, 0.001, 0.02)


def _hat(sample_rate: int, seed: int, seconds: float = 0.09, decay: float = 0.025) -> np.ndarray:
    """A hi-hat: noise above 7 kHz (well above the voice), closed or, with a longer decay, open."""
    t = _times(sample_rate, seconds)
    return _shaped_noise(sample_rate, seconds, seed, 7000, 13000) * np.exp(-t / decay) * _edges(t, 0.0005, 0.01)


def _shaker(sample_rate: int, seed: int) -> np.ndarray:
    t = _times(sample_rate, 0.12)
    return _shaped_noise(sample_rate, 0.12, seed, 5500, 11000) * np.exp(-t / 0.035) * _edges(t, 0.012, 0.01)


def _timpani(sample_rate: int, note: float, seed: int, *, velocity: float = 1.0) -> np.ndarray:
    """A kettle drum: its tuned membrane modes with a small downward pitch glide, and a felt-mallet thump."""
    freq = _midi_hz(note)
    t = _times(sample_rate, 2.2)
    cycles = np.cumsum(freq * (1 + 0.025 * np.exp(-t / 0.08))) / sample_rate
    ratios = np.array([1.0, 1.5, 1.98, 2.44])[:, None]  # principal, fifth, octave, tenth
    amps = np.array([1.0, 0.45, 0.3, 0.12])[:, None]
    decays = np.array([1.6, 0.8, 0.5, 0.35])[:, None]
    modes = (amps * np.sin(2 * np.pi * ratios * cycles) * np.exp(-t / decays)).sum(axis=0)
    thump = 0.3 * _shaped_noise(sample_rate, 2.2, seed, 40, 400) * np.exp(-t / 0.015)
    return velocity * (modes + thump) * _edges(t, 0.003, 0.2)


# --- the three moods ----------------------------------------------------------------------------


def _compose_upbeat(mood: MoodPreset, grid: _Grid, mix: _Mixer, seed: int) -> None:
    """D major, 120 BPM, I–V–vi–IV: four-on-the-floor kick, offbeat hats, bouncy bass, marimba, pumping pad."""
    play = _Notes(grid.sample_rate)
    sixteenth_seconds = grid.step / grid.sample_rate
    kick, snare = play(_kick, seed), play(_snare, seed + 1)
    hat, open_hat = play(_hat, seed + 2), play(_hat, seed + 3, 0.3, 0.09)
    pad = _Mixer(grid.length)
    # (sixteenth, interval above the root, length in sixteenths)
    bass_line = ((0, 0, 2), (3, 0, 1), (6, 12, 1), (8, 0, 2), (10, 7, 1), (11, 0, 1), (14, 12, 2))
    # (sixteenth, chord tone, velocity)
    arp_line = (
        (0, 0, 1.0), (2, 1, 0.6), (3, 2, 0.8), (6, 1, 0.7), (8, 3, 0.9), (10, 2, 0.6), (11, 1, 0.7), (14, 2, 0.7)
    )
    for bar in range(grid.bars):
        chord = mood.chord_at(bar)
        for beat in range(BEATS_PER_BAR):
            mix.add(grid.at(bar, beat * 4), kick, gain=0.4 if beat == 0 else 0.34)
            mix.add(grid.at(bar, beat * 4 + 2), hat, gain=0.08, pan=0.3, air=True, reverb=0.1)
            if beat % 2:
                mix.add(grid.at(bar, beat * 4), snare, gain=0.16, pan=-0.1, reverb=0.35)
        if bar == grid.bars - 1:  # a small fill that leads back to the top
            for step in (13, 15):
                mix.add(grid.at(bar, step), snare, gain=0.07, pan=-0.1, reverb=0.35)
            mix.add(grid.at(bar, 14), open_hat, gain=0.06, pan=0.3, air=True, reverb=0.2)
        for step, interval, length in bass_line:
            velocity = 1.0 if step % 4 == 0 else 0.8
            note = play(_pluck, chord.bass + interval, length * sixteenth_seconds + 0.05, velocity=velocity,
                        harmonics=12, decay=0.5, damping=2.5)
            mix.add(grid.at(bar, step), note, gain=0.3)
        tones = (*chord.voicing, chord.voicing[0] + 12)
        for step, index, velocity in arp_line:
            note = play(_mallet, tones[index] + 12, 0.6, velocity=velocity)
            mix.add(grid.at(bar, step), note, gain=0.1, pan=0.35 - 0.2 * index, reverb=0.3)
        for note in chord.voicing:
            for detune, pan in ((-6, -1.0), (6, 1.0)):
                sound = play(_pad, note, grid.bar / grid.sample_rate, cutoff=1200, attack=0.05, release=0.25,
                             detune_cents=detune)
                pad.add(grid.at(bar), sound, pan=pan)
    pumping = 1 - 0.45 * _duck_shape(grid)  # the pad dips on every kick
    for channel, pan in ((0, -1.0), (1, 1.0)):
        mix.add(0, pad.dry[channel] * pumping, gain=0.045, pan=pan, reverb=0.4)


def _duck_shape(grid: _Grid) -> np.ndarray:
    """0 to 1 over every beat of the loop: a 10 ms dip, then a recovery that reaches 0 exactly at the next beat."""
    beat = grid.step * STEPS_PER_BEAT
    seconds = (np.arange(grid.length) % beat) / grid.sample_rate
    beat_seconds, recovery = beat / grid.sample_rate, 0.12
    floor = np.exp(-beat_seconds / recovery)
    return np.minimum(1.0, seconds / 0.01) * (np.exp(-seconds / recovery) - floor) / (1 - floor)


def _compose_calm(mood: MoodPreset, grid: _Grid, mix: _Mixer, seed: int) -> None:
    """F major at 75 BPM, Imaj7–vi7–IVmaj7–V: warm pad, arpeggiated electric piano, round bass, a faint shaker."""
    play = _Notes(grid.sample_rate)
    shaker = play(_shaker, seed)
    arp_orders = ((0, 1, 2, 3, 4, 3, 2, 1), (4, 3, 2, 1, 0, 1, 2, 3))  # eighths up and down the chord, then down and up
    for bar in range(grid.bars):
        chord = mood.chord_at(bar)
        arp_order = arp_orders[bar // len(mood.progression) % 2]
        tones = (*chord.voicing, chord.voicing[1] + 12)
        mix.add(grid.at(bar), play(_electric_piano, chord.bass + 12, 3.0, velocity=0.8), gain=0.12, reverb=0.4)
        for eighth, index in enumerate(arp_order):
            velocity = (1.0 if eighth == 0 else 0.85) if eighth % 2 == 0 else 0.4
            note = play(_electric_piano, tones[index] + 12, 1.6, velocity=velocity)
            mix.add(grid.at(bar, eighth * 2), note, gain=0.1, pan=-0.4 + 0.2 * index, reverb=0.45)
        for note in chord.voicing:
            for detune, pan in ((-5, -0.7), (5, 0.7)):
                sound = play(_pad, note, grid.bar / grid.sample_rate, cutoff=700, attack=0.9, release=1.0,
                             detune_cents=detune, brightness=1.6)
                mix.add(grid.at(bar), sound, gain=0.025, pan=pan, reverb=0.5)
        mix.add(grid.at(bar), play(_round_bass, chord.bass, 2.3), gain=0.18)
        mix.add(grid.at(bar, 10), play(_round_bass, chord.bass + 7, 0.9, velocity=0.6), gain=0.18)
        for beat in range(BEATS_PER_BAR):
            gain = 0.08 if beat % 2 else 0.06
            mix.add(grid.at(bar, beat * 4), shaker, gain=gain, pan=0.25, air=True, reverb=0.2)
            mix.add(grid.at(bar, beat * 4 + 2), shaker, gain=0.025, pan=0.25, air=True, reverb=0.2)


def _compose_dramatic(mood: MoodPreset, grid: _Grid, mix: _Mixer, seed: int) -> None:
    """C minor, 90 BPM, i–VI–III–VII: low string pad, galloping cello ostinato, timpani that build to the top."""
    play = _Notes(grid.sample_rate)
    bar_seconds = grid.bar / grid.sample_rate
    # timpani in each bar of a four-bar phrase, as (sixteenth, velocity): more hits every bar, then a roll into the next
    timpani_phrase = (
        ((0, 1.0),),
        ((0, 0.8), (8, 0.6)),
        ((0, 0.8), (8, 0.6), (14, 0.5)),
        ((0, 0.8), (4, 0.5), (8, 0.6), (10, 0.45), (12, 0.5), (13, 0.5), (14, 0.6), (15, 0.7)),
    )
    gallop = ((0, 0, 1.0), (2, 12, 0.45), (3, 12, 0.55))  # "dum da-da" on every beat: sixteenth, interval, velocity
    violin_line = (75, 72, 70, 74)  # Eb5 C5 Bb4 D5: a chord tone of each chord, for the second phrase
    for bar in range(grid.bars):
        chord = mood.chord_at(bar)
        second_phrase = bar >= len(mood.progression)
        for voice, note in enumerate(chord.voicing):
            for detune, pan in ((-8, -0.5), (0, 0.0), (8, 0.5)):
                sound = play(_pad, note, bar_seconds, cutoff=900, attack=0.35, release=0.6, detune_cents=detune,
                             vibrato=0.003)
                mix.add(grid.at(bar), sound, gain=0.025, pan=pan * (0.5 + 0.15 * voice), reverb=0.45)
        if second_phrase:  # violins join for the build
            for detune, pan in ((-6, -0.4), (6, 0.4)):
                sound = play(_pad, violin_line[bar % len(violin_line)], bar_seconds, cutoff=1500, attack=0.6,
                             release=0.6, detune_cents=detune, vibrato=0.004)
                mix.add(grid.at(bar), sound, gain=0.012, pan=pan, reverb=0.6)
        for beat in range(BEATS_PER_BAR):
            for step, interval, velocity in gallop:
                note = play(_pluck, chord.bass + interval, 0.25, velocity=velocity, harmonics=20, decay=0.2,
                            damping=1.2)
                gain = 0.26 if second_phrase else 0.2
                mix.add(grid.at(bar, beat * 4 + step), note, gain=gain, pan=-0.15, reverb=0.3)
        for step, velocity in timpani_phrase[bar % len(timpani_phrase)]:
            # the roll at the end of a phrase is already on the root it leads to
            rolling = step >= 12 and bar % len(timpani_phrase) == len(timpani_phrase) - 1
            root = (mood.chord_at(bar + 1) if rolling else chord).bass
            hit = play(_timpani, root + (12 if root < 36 else 0), seed, velocity=velocity)
            mix.add(grid.at(bar, step), hit, gain=0.2 if second_phrase else 0.16, pan=0.1, reverb=0.5)


_COMPOSERS = {"upbeat": _compose_upbeat, "calm": _compose_calm, "dramatic": _compose_dramatic}
_SEEDS = {"upbeat": 1101, "calm": 2202, "dramatic": 3303}


# --- mastering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mastering:
    reverb_seconds: float
    reverb_level: float
    lowpass_hz: float


_MASTERING = {
    "upbeat": _Mastering(reverb_seconds=1.2, reverb_level=0.5, lowpass_hz=3000),
    "calm": _Mastering(reverb_seconds=2.4, reverb_level=0.6, lowpass_hz=2500),
    "dramatic": _Mastering(reverb_seconds=2.8, reverb_level=0.6, lowpass_hz=2800),
}


def _master(mix: _Mixer, sample_rate: int, settings: _Mastering, seed: int) -> np.ndarray:
    """Reverb, tone and level, all done as circular operations so the loop's end flows into its start."""
    n = mix.length
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    impulse = _reverb_impulse(sample_rate, settings.reverb_seconds, seed)
    reverb = np.fft.rfft(impulse, n=n) * settings.reverb_level
    tone = _highpass(freqs, 35.0) * _lowpass(freqs, settings.lowpass_hz)
    spectrum = (np.fft.rfft(mix.dry) + np.fft.rfft(mix.reverb) * reverb) * tone + np.fft.rfft(mix.air)
    loudness = _gated_loudness(np.fft.irfft(spectrum * _k_weighting(freqs), n), sample_rate)
    out = np.fft.irfft(spectrum, n)
    out *= 10 ** ((TARGET_LOUDNESS_LUFS - loudness) / 20)
    return _soft_limit(out, 10 ** (PEAK_CEILING_DBFS / 20))


def _reverb_impulse(sample_rate: int, seconds: float, seed: int) -> np.ndarray:
    """A stereo room: decorrelated noise, -60 dB after `seconds`, darker as it decays, after a 20 ms pre-delay."""
    t = _times(sample_rate, seconds)
    bright = np.stack([_shaped_noise(sample_rate, seconds, seed + 10 + side, 150, 6000) for side in range(2)])
    dark = np.stack([_shaped_noise(sample_rate, seconds, seed + 20 + side, 150, 1200) for side in range(2)])
    fade = np.exp(-t / (seconds * 0.25))
    tail = (bright * fade + dark * (1 - fade)) * np.exp(-6.9 * t / seconds) * np.minimum(1.0, t / 0.01)
    impulse = np.concatenate([np.zeros((2, int(0.02 * sample_rate))), tail], axis=1)
    return impulse / np.sqrt(np.sum(impulse**2) / 2)


def _lowpass(freqs: np.ndarray, cutoff: float, order: int = 2) -> np.ndarray:
    return 1 / np.sqrt(1 + (freqs / cutoff) ** (2 * order))


def _highpass(freqs: np.ndarray, cutoff: float, order: int = 2) -> np.ndarray:
    return 1 / np.sqrt(1 + (cutoff / np.maximum(freqs, 1e-3)) ** (2 * order))


def _soft_limit(samples: np.ndarray, ceiling: float, knee: float = 0.7) -> np.ndarray:
    """Leave samples below `knee * ceiling` alone and bend the rest smoothly under `ceiling`."""
    threshold = knee * ceiling
    magnitude = np.abs(samples)
    over = magnitude > threshold
    room = ceiling - threshold
    bent = threshold + room * np.tanh((magnitude[over] - threshold) / room)
    out = samples.copy()
    out[over] = np.sign(samples[over]) * bent
    return out


def integrated_loudness(samples: np.ndarray, sample_rate: int) -> float:
    """Integrated loudness in LUFS (ITU-R BS.1770: K-weighting, 400 ms blocks, gated) of a loop, read circularly."""
    n = samples.shape[-1]
    weighting = _k_weighting(np.fft.rfftfreq(n, 1 / sample_rate))
    return _gated_loudness(np.fft.irfft(np.fft.rfft(samples) * weighting, n), sample_rate)


def _k_weighting(freqs: np.ndarray) -> np.ndarray:
    """The magnitude of BS.1770's K filter (its 48 kHz biquads: a high shelf, then a highpass) at `freqs`."""
    z = np.exp(-2j * np.pi * freqs / 48000.0)  # z^-1 on the unit circle; polyval takes the highest power first
    shelf = np.polyval([1.19839281085285, -2.69169618940638, 1.53512485958697], z) / np.polyval(
        [0.73248077421585, -1.69065929318241, 1.0], z
    )
    highpass = np.polyval([1.0, -2.0, 1.0], z) / np.polyval([0.99007225036621, -1.99004745483398, 1.0], z)
    return np.abs(shelf * highpass)


def _gated_loudness(weighted: np.ndarray, sample_rate: int) -> float:
    """BS.1770 gating of K-weighted samples shaped (channels, n): 400 ms blocks every 100 ms, wrapping at the end."""
    n = weighted.shape[-1]
    block, hop = int(0.4 * sample_rate), int(0.1 * sample_rate)
    power = np.tile(weighted, (1, -(-(n + block) // n)))[:, : n + block] ** 2  # the loop, then its start again
    cumulative = np.concatenate([np.zeros((power.shape[0], 1)), np.cumsum(power, axis=1)], axis=1)
    starts = np.arange(0, n, hop)
    blocks = ((cumulative[:, starts + block] - cumulative[:, starts]) / block).sum(axis=0)
    loud = blocks[blocks > 10 ** ((-70 + 0.691) / 10)]  # absolute gate: -70 LUFS
    if loud.size == 0:
        return -70.0
    gated = loud[loud > loud.mean() / 10]  # relative gate: 10 LU below the loudness of the loud blocks
    return float(-0.691 + 10 * np.log10(gated.mean()))
