"""The generated mood loops: deterministic, well-formed, seamless, rhythmic, harmonic, and quiet enough for a voice."""

from __future__ import annotations

import wave
from pathlib import Path
from typing import get_args

import numpy as np
import pytest

from reelforge.model.audio import Mood
from reelforge.resolve import music

RATE = 48000
HOP = 480  # onset envelope: 100 frames a second
FRAME = 2048


def read_wav(path: Path) -> tuple[np.ndarray, wave._wave_params]:
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        frames = wav.readframes(params.nframes)
    pcm = np.frombuffer(frames, dtype="<i2").reshape(-1, params.nchannels).T
    return pcm / 32768.0, params


def db(value: float) -> float:
    return float(20 * np.log10(value))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples**2)))


def onset_envelope(samples: np.ndarray) -> np.ndarray:
    """Spectral flux of the mono mix (log magnitudes, rises only), read circularly, mean removed."""
    mono = samples.mean(axis=0)
    padded = np.concatenate([mono[-FRAME:], mono, mono[:FRAME]])
    starts = FRAME // 2 + np.arange(len(mono) // HOP) * HOP
    frames = padded[starts[:, None] + np.arange(FRAME)] * np.hanning(FRAME)
    magnitude = np.log1p(1000 * np.abs(np.fft.rfft(frames, axis=1)))
    flux = np.maximum(0.0, magnitude - np.roll(magnitude, 1, axis=0)).sum(axis=1)
    return flux - flux.mean()


def autocorrelation(envelope: np.ndarray) -> np.ndarray:
    spectrum = np.fft.rfft(envelope)
    result = np.fft.irfft(np.abs(spectrum) ** 2, len(envelope))
    return result / result[0]


def estimate_tempo(samples: np.ndarray, slowest: float = 70.0, fastest: float = 170.0) -> tuple[float, float]:
    """The tempo (BPM) whose beat period best repeats the onset envelope, and how strongly (autocorrelation, 0..1)."""
    correlation = autocorrelation(onset_envelope(samples))
    frames_per_second = RATE / HOP
    lags = np.arange(int(np.ceil(frames_per_second * 60 / fastest)), int(frames_per_second * 60 / slowest) + 1)
    best = lags[np.argmax(correlation[lags])]
    return 60 * frames_per_second / best, float(correlation[best])


def chroma(samples: np.ndarray) -> np.ndarray:
    """Energy per pitch class (C=0) between 100 Hz and 2 kHz (above the kick's pitch sweep), unit length."""
    power = np.abs(np.fft.rfft(samples.mean(axis=0))) ** 2
    freqs = np.fft.rfftfreq(samples.shape[-1], 1 / RATE)
    band = (freqs > 100) & (freqs < 2000)
    pitch_class = np.round(12 * np.log2(freqs[band] / 440) + 69).astype(int) % 12
    energy = np.bincount(pitch_class, weights=power[band], minlength=12)
    return energy / np.linalg.norm(energy)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def loops(cache: Path) -> dict[str, tuple[np.ndarray, wave._wave_params]]:
    return {mood: read_wav(music.mood_loop(mood, cache)) for mood in music.MOODS}


def test_every_mood_of_the_model_but_none_is_generated():
    assert set(get_args(Mood)) == {*music.MOODS, "none"}


@pytest.mark.parametrize("mood", ["none", "jazzy", "Upbeat", ""])
def test_none_and_unknown_moods_are_refused(mood: str, tmp_path: Path):
    with pytest.raises(ValueError, match="mood"):
        music.mood_loop(mood, tmp_path / "music")
    assert not (tmp_path / "music").exists()


@pytest.mark.slow  # synthesizes every mood's loop
@pytest.mark.parametrize("mood", list(music.MOODS))
def test_same_bytes_every_time(mood: str, cache: Path, loops, tmp_path: Path):
    again = music.mood_loop(mood, tmp_path)
    assert again != music.mood_loop(mood, cache)
    assert again.read_bytes() == music.mood_loop(mood, cache).read_bytes()


@pytest.mark.slow  # synthesizes every mood's loop
@pytest.mark.parametrize("mood", list(music.MOODS))
def test_format_is_48k_stereo_16bit_whole_bars(mood: str, loops):
    samples, params = loops[mood]
    preset = music.MOODS[mood]
    assert (params.framerate, params.nchannels, params.sampwidth) == (RATE, 2, 2)
    bars_in_samples = preset.bars * music.BEATS_PER_BAR * 60 / preset.bpm * RATE
    assert abs(params.nframes - bars_in_samples) <= 1
    assert params.nframes == preset.loop_samples(RATE)


@pytest.mark.slow  # synthesizes every mood's loop
@pytest.mark.parametrize("mood", list(music.MOODS))
def test_the_seam_is_as_smooth_as_any_other_step(mood: str, loops):
    samples, _ = loops[mood]
    for channel in samples:
        seam = abs(channel[0] - channel[-1])
        assert seam <= np.percentile(np.abs(np.diff(channel)), 99)


@pytest.mark.slow  # synthesizes every mood's loop
@pytest.mark.parametrize("mood", list(music.MOODS))
def test_the_seam_sounds_like_the_phrase_boundary_inside_the_loop(mood: str, loops):
    """The loop is two four-bar phrases: its end flowing into its start must look like phrase 1 flowing into phrase 2.

    A downbeat sits at sample 0, so the first 50 ms are louder than the last ones, exactly as across any bar line;
    what must not happen is a faded end, a silent start (reverb tails that do not wrap) or a louder, clipped seam.
    """
    samples, _ = loops[mood]
    preset = music.MOODS[mood]
    middle = preset.bar_samples(RATE) * len(preset.progression)
    window = RATE // 20
    assert abs(db(rms(samples[:, -window:])) - db(rms(samples[:, middle - window : middle]))) < 3
    assert abs(db(rms(samples[:, :window])) - db(rms(samples[:, middle : middle + window]))) < 3
    first_ms = samples[:, : RATE // 1000]
    assert db(rms(first_ms)) > -40, "the start is silent: decaying sound from the end did not wrap around"


@pytest.mark.slow  # synthesizes every mood's loop
@pytest.mark.parametrize("mood", list(music.MOODS))
def test_onsets_repeat_at_the_beat(mood: str, loops):
    samples, _ = loops[mood]
    tempo, strength = estimate_tempo(samples)
    assert tempo == pytest.approx(music.MOODS[mood].bpm, rel=0.03)
    assert strength > 0.5


def test_a_drone_has_no_beat():
    """The tempo test above can fail: a held chord with a slow swell shows no periodic onsets."""
    t = np.arange(RATE * 8) / RATE
    swell = 0.8 + 0.2 * np.sin(2 * np.pi * t / 8)
    chord = sum(np.sin(2 * np.pi * f * t) for f in (146.8, 220.0, 293.7, 349.2)) * swell
    drone = 0.1 * np.stack([chord, chord]) + 1e-4 * np.random.default_rng(0).standard_normal((2, len(t)))
    _, strength = estimate_tempo(drone)
    assert strength < 0.3


@pytest.mark.slow  # synthesizes every mood's loop
@pytest.mark.parametrize("mood", list(music.MOODS))
def test_the_harmony_follows_the_chords(mood: str, loops):
    samples, _ = loops[mood]
    preset = music.MOODS[mood]
    bar = preset.bar_samples(RATE)
    bars = [chroma(samples[:, index * bar : (index + 1) * bar]) for index in range(len(preset.progression))]
    assert bars[0] @ bars[1] < 0.8, "bar 2 sounds like bar 1"
    for index, energy in enumerate(bars):
        chord = preset.chord_at(index)
        assert int(np.argmax(energy)) in chord.pitch_classes, f"bar {index + 1} is not mostly {chord.name}"
        assert energy[sorted(chord.pitch_classes)].sum() / energy.sum() > 0.6


@pytest.mark.slow  # synthesizes every mood's loop
def test_moods_differ(loops):
    tempos = {mood: estimate_tempo(samples)[0] for mood, (samples, _) in loops.items()}
    assert tempos["upbeat"] > tempos["dramatic"] > tempos["calm"]
    upbeat, calm, dramatic = (chroma(loops[mood][0]) for mood in ("upbeat", "calm", "dramatic"))
    assert max(upbeat @ calm, upbeat @ dramatic, calm @ dramatic) < 0.9


@pytest.mark.slow  # synthesizes every mood's loop
@pytest.mark.parametrize("mood", list(music.MOODS))
def test_levels_leave_room_for_a_voice(mood: str, loops):
    samples, _ = loops[mood]
    assert db(np.abs(samples).max()) < -1.0
    assert -24 < db(rms(samples)) < -14
    assert -18 < music.integrated_loudness(samples, RATE) < -16
    power = np.abs(np.fft.rfft(samples.mean(axis=0))) ** 2
    freqs = np.fft.rfftfreq(samples.shape[-1], 1 / RATE)
    speech_band = power[(freqs >= 1000) & (freqs < 4000)].sum() / power.sum()
    assert speech_band < 0.1


def test_loudness_meter_reads_a_full_scale_sine_as_minus_3_lufs():
    """BS.1770's calibration: a 0 dBFS 997 Hz sine in one channel reads -3.01 LKFS."""
    t = np.arange(RATE * 4) / RATE
    tone = np.stack([np.sin(2 * np.pi * 997 * t), np.zeros_like(t)])
    assert music.integrated_loudness(tone, RATE) == pytest.approx(-3.01, abs=0.05)


@pytest.mark.slow  # synthesizes every mood's loop
def test_a_cache_hit_returns_the_file_without_regenerating(cache: Path, loops):
    path = music.mood_loop("calm", cache)
    before = path.stat()
    assert music.mood_loop("calm", cache) == path
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert path.parent == cache
    assert path.name == f"calm-g{music.GENERATOR_VERSION}-{RATE}.wav"
    assert not [name for name in path.parent.iterdir() if name.suffix != ".wav"], "a temp file was left behind"


def test_a_cached_loop_is_found_without_loading_numpy(tmp_path: Path):
    """A render whose loop is in the cache pays for neither numpy nor the instruments (0.1 s before its first run)."""
    import subprocess
    import sys

    made = music.mood_loop("calm", tmp_path)
    code = ("import sys; from pathlib import Path; from reelforge.resolve.music import mood_loop; "
            "print(mood_loop('calm', Path(sys.argv[1])), 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(made), "False"]
