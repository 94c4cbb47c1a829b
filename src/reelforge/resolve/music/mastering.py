"""Mastering a mix: reverb, tone, level and a soft limiter, and the BS.1770 loudness meter that sets the level."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reelforge.resolve.music import instruments
from reelforge.resolve.music.arrangement import Mixer
from reelforge.resolve.music.presets import PEAK_CEILING_DBFS, TARGET_LOUDNESS_LUFS


@dataclass(frozen=True)
class Mastering:
    reverb_seconds: float
    reverb_level: float
    lowpass_hz: float


MASTERING = {
    "upbeat": Mastering(reverb_seconds=1.2, reverb_level=0.5, lowpass_hz=3000),
    "calm": Mastering(reverb_seconds=2.4, reverb_level=0.6, lowpass_hz=2500),
    "dramatic": Mastering(reverb_seconds=2.8, reverb_level=0.6, lowpass_hz=2800),
}


def master(mix: Mixer, sample_rate: int, settings: Mastering, seed: int) -> np.ndarray:
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
    t = instruments.times(sample_rate, seconds)
    bright = np.stack([instruments.shaped_noise(sample_rate, seconds, seed + 10 + side, 150, 6000) for side in range(2)])
    dark = np.stack([instruments.shaped_noise(sample_rate, seconds, seed + 20 + side, 150, 1200) for side in range(2)])
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
