"""Background music that reelforge composes itself: one seamless, deterministic loop per mood, cached as WAV.

`presets` holds the moods, `arrangement` the grid and mixer, `instruments` the sounds, `composers` what each mood
plays, `mastering` the final level; `mood_loop` puts a mood's loop in a folder (a workspace's folder("music")).
"""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelforge.fileio import write_atomic
from reelforge.resolve.music.presets import (
    BEATS_PER_BAR,
    GENERATOR_VERSION,
    MIN_SAMPLE_RATE,
    MOODS,
    SAMPLE_RATE,
    MoodError,
    MoodPreset,
    preset,
)

if TYPE_CHECKING:
    import numpy as np

__all__ = ["BEATS_PER_BAR", "GENERATOR_VERSION", "MOODS", "SAMPLE_RATE", "MoodError", "MoodPreset", "integrated_loudness",
           "loop_file_name", "mood_loop", "preset", "render_mood", "wav_bytes"]


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


def __getattr__(name: str) -> Any:
    # numpy and the instruments load only to make a loop: a render whose loop is cached never imports them.
    if name == "integrated_loudness":
        from reelforge.resolve.music.mastering import integrated_loudness

        return integrated_loudness
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def render_mood(mood: str, sample_rate: int = SAMPLE_RATE) -> "np.ndarray":
    """The loop of `mood` as float samples, shape (2, n), mastered to about -17 LUFS with peaks below -1.5 dBFS."""
    from reelforge.resolve.music.arrangement import Grid, Mixer
    from reelforge.resolve.music.composers import COMPOSERS, SEEDS
    from reelforge.resolve.music.mastering import MASTERING, master

    mood_preset = preset(mood)
    _check_sample_rate(sample_rate)
    grid = Grid(sample_rate, mood_preset.step_samples(sample_rate), mood_preset.bars)
    mixer = Mixer(grid.length)
    seed = SEEDS[mood_preset.name]
    COMPOSERS[mood_preset.name](mood_preset, grid, mixer, seed)
    return master(mixer, sample_rate, MASTERING[mood_preset.name], seed)


def _check_sample_rate(sample_rate: int) -> None:
    if int(sample_rate) != sample_rate or sample_rate < MIN_SAMPLE_RATE:
        raise ValueError(f"music needs a whole sample rate of at least {MIN_SAMPLE_RATE} Hz, not {sample_rate}")


def wav_bytes(samples: "np.ndarray", sample_rate: int) -> bytes:
    """16-bit PCM WAV bytes of float samples shaped (channels, n) in [-1, 1]."""
    import numpy as np

    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(samples.shape[0])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.T.tobytes())
    return buffer.getvalue()

