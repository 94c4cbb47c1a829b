"""The synthesized instruments: pads, plucks, mallets, electric piano, bass and drums, each a function of its notes."""

from __future__ import annotations

import numpy as np


def midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


def times(sample_rate: int, seconds: float) -> np.ndarray:
    return np.arange(int(seconds * sample_rate)) / sample_rate


def edges(t: np.ndarray, attack: float, release: float) -> np.ndarray:
    """A linear rise over `attack` seconds and a cosine fall over the last `release`: notes start and end at zero."""
    rise = np.minimum(1.0, t / attack)
    remaining = t[-1] - t if len(t) else t
    fall = np.where(remaining < release, 0.5 - 0.5 * np.cos(np.pi * np.clip(remaining / release, 0, 1)), 1.0)
    return rise * fall


def shaped_noise(sample_rate: int, seconds: float, seed: int, low: float, high: float) -> np.ndarray:
    """Seeded white noise, band-limited between `low` and `high` Hz with soft edges, at unit RMS."""
    n = int(seconds * sample_rate)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    spectrum *= 1 / np.sqrt(1 + (low / np.maximum(freqs, 1.0)) ** 4) / np.sqrt(1 + (freqs / high) ** 4)
    noise = np.fft.irfft(spectrum, n)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def wavetable(harmonic_amps: np.ndarray, size: int = 4096) -> np.ndarray:
    """One cycle of a sum of sine harmonics (harmonic k has amplitude harmonic_amps[k-1])."""
    spectrum = np.zeros(size // 2 + 1, dtype=complex)
    spectrum[1 : len(harmonic_amps) + 1] = -0.5j * size * harmonic_amps
    return np.fft.irfft(spectrum, size)


def play_table(table: np.ndarray, cycles: np.ndarray) -> np.ndarray:
    """Read a wavetable at the given phases (in cycles), with linear interpolation."""
    position = (cycles % 1.0) * len(table)
    index = position.astype(np.intp)
    frac = position - index
    return table[index] + (table[(index + 1) % len(table)] - table[index]) * frac


def pad(sample_rate: int, note: float, seconds: float, *, cutoff: float, attack: float, release: float,
         detune_cents: float = 0.0, brightness: float = 1.0, vibrato: float = 0.0) -> np.ndarray:
    """A held string or synth voice: saw-like harmonics rolled off above `cutoff` (alias-free), slow envelope."""
    freq = midi_hz(note) * 2 ** (detune_cents / 1200)
    k = np.arange(1, max(1, int(min(cutoff * 4, 12000) / freq)) + 1)
    table = wavetable((1.0 / k**brightness) / (1.0 + (k * freq / cutoff) ** 2))
    t = times(sample_rate, seconds + release)
    phase = (note * 0.618 + detune_cents * 0.0137) % 1.0  # fixed, different for every voice
    cycles = phase + freq * t
    if vibrato:  # a slow pitch wobble, integrated into the phase
        cycles += vibrato * freq * np.sin(2 * np.pi * 5.1 * t) / (2 * np.pi * 5.1)
    hold = max(seconds, attack + 0.3)
    envelope = np.interp(t, [0.0, attack, attack + 0.3, hold, hold + release], [0.0, 1.0, 0.85, 0.85, 0.0])
    return play_table(table, cycles) * envelope


def pluck(sample_rate: int, note: float, seconds: float, *, velocity: float = 1.0, harmonics: int = 14,
           decay: float = 0.6, damping: float = 3.0) -> np.ndarray:
    """A plucked string, additively: higher harmonics die faster, like a closing filter; harder plucks ring brighter."""
    freq = midi_hz(note)
    t = times(sample_rate, seconds)
    k = np.arange(1, min(harmonics, int(8000 / freq)) + 1)[:, None]
    rates = 1.0 / decay + damping * k / (0.6 + 0.4 * velocity)
    partials = (1.0 / k) * np.exp(-rates * t) * np.sin(2 * np.pi * freq * k * t)
    return velocity * partials.sum(axis=0) * edges(t, 0.003, 0.03)


def mallet(sample_rate: int, note: float, seconds: float, *, velocity: float = 1.0) -> np.ndarray:
    """A soft marimba: a sine plus the bar's inharmonic partial (3.93x), which dies first."""
    freq = midi_hz(note)
    t = times(sample_rate, seconds)
    tone = np.sin(2 * np.pi * freq * t) * np.exp(-t / 0.35)
    tone += 0.25 * velocity * np.sin(2 * np.pi * freq * 3.93 * t) * np.exp(-t / 0.05)
    return velocity * tone * edges(t, 0.002, 0.02)


def electric_piano(sample_rate: int, note: float, seconds: float, *, velocity: float = 1.0) -> np.ndarray:
    """A Rhodes-like tone by FM: a 1:1 modulator whose depth falls after the strike, plus a faint tine."""
    freq = midi_hz(note)
    t = times(sample_rate, seconds)
    index = (0.4 + 1.4 * velocity) * np.exp(-t / 0.25) + 0.15
    body = np.sin(2 * np.pi * freq * t + index * np.sin(2 * np.pi * freq * t))
    tine = 0.08 * velocity * np.sin(2 * np.pi * freq * 7.0 * t) * np.exp(-t / 0.04)
    decay = np.exp(-t / (1.6 * (262.0 / freq) ** 0.35))  # low notes ring longer
    return velocity * (body + tine) * decay * edges(t, 0.003, 0.15)


def round_bass(sample_rate: int, note: float, seconds: float, *, velocity: float = 1.0) -> np.ndarray:
    """A soft, round bass: a sine with a little second and third harmonic so small speakers still hear it."""
    freq = midi_hz(note)
    t = times(sample_rate, seconds)
    tone = np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(4 * np.pi * freq * t) + 0.1 * np.sin(6 * np.pi * freq * t)
    return velocity * tone * np.exp(-t / 2.0) * edges(t, 0.02, 0.12)


def kick(sample_rate: int, seed: int) -> np.ndarray:
    """A soft kick: a sine sweeping from about 125 Hz down to 46 Hz, with a faint click."""
    t = times(sample_rate, 0.45)
    freq = 46.0 + 80.0 * np.exp(-t / 0.035)
    body = np.sin(2 * np.pi * np.cumsum(freq) / sample_rate) * np.exp(-t / 0.22)
    click = 0.15 * shaped_noise(sample_rate, 0.45, seed, 800, 3000) * np.exp(-t / 0.004)
    return (body + click) * edges(t, 0.001, 0.02)


def snare(sample_rate: int, seed: int) -> np.ndarray:
    """A low, soft snare: a 185 Hz body under a short burst of band-limited noise."""
    t = times(sample_rate, 0.3)
    rattle = 0.5 * shaped_noise(sample_rate, 0.3, seed, 250, 2200) * np.exp(-t / 0.08)
    body = np.sin(2 * np.pi * 185.0 * t) * np.exp(-t / 0.05)
    return (rattle + body) * edges(t, 0.001, 0.02)


def hat(sample_rate: int, seed: int, seconds: float = 0.09, decay: float = 0.025) -> np.ndarray:
    """A hi-hat: noise above 7 kHz (well above the voice), closed or, with a longer decay, open."""
    t = times(sample_rate, seconds)
    return shaped_noise(sample_rate, seconds, seed, 7000, 13000) * np.exp(-t / decay) * edges(t, 0.0005, 0.01)


def shaker(sample_rate: int, seed: int) -> np.ndarray:
    t = times(sample_rate, 0.12)
    return shaped_noise(sample_rate, 0.12, seed, 5500, 11000) * np.exp(-t / 0.035) * edges(t, 0.012, 0.01)


def timpani(sample_rate: int, note: float, seed: int, *, velocity: float = 1.0) -> np.ndarray:
    """A kettle drum: its tuned membrane modes with a small downward pitch glide, and a felt-mallet thump."""
    freq = midi_hz(note)
    t = times(sample_rate, 2.2)
    cycles = np.cumsum(freq * (1 + 0.025 * np.exp(-t / 0.08))) / sample_rate
    ratios = np.array([1.0, 1.5, 1.98, 2.44])[:, None]  # principal, fifth, octave, tenth
    amps = np.array([1.0, 0.45, 0.3, 0.12])[:, None]
    decays = np.array([1.6, 0.8, 0.5, 0.35])[:, None]
    modes = (amps * np.sin(2 * np.pi * ratios * cycles) * np.exp(-t / decays)).sum(axis=0)
    thump = 0.3 * shaped_noise(sample_rate, 2.2, seed, 40, 400) * np.exp(-t / 0.015)
    return velocity * (modes + thump) * edges(t, 0.003, 0.2)

