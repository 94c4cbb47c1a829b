"""Reading recordings for the speech model: streamed 16 kHz mono blocks (a 1-hour file is never held whole),
a recording's exact length at its own rate, and the frame energy the aligner uses to find pauses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000  # what Whisper listens at
HOP = 160  # one energy frame: 10 ms at SAMPLE_RATE
FRAME_SECONDS = HOP / SAMPLE_RATE


@dataclass(frozen=True)
class RecordingLength:
    """A recording's length exactly: its first audio track's decoded samples at that track's own rate."""

    sample_rate: int
    samples: int

    @property
    def seconds(self) -> float:
        return self.samples / self.sample_rate


def _open(path: Path):
    """The container and its first audio stream; AudioError for anything that is not a readable recording."""
    import av

    from reelforge.speech.asr.errors import AudioError

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: file is empty (0 bytes)")
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        if _looks_like_text(path):
            raise AudioError(f"{path}: is a text file, not audio or video") from None
        raise AudioError(f"{path}: not a readable audio or video file ({_reason(exc)})") from None
    if not container.streams.audio:
        container.close()
        raise AudioError(f"{path}: has no audio track")
    return container, container.streams.audio[0]


def _reason(exc: Exception) -> str:
    """FFmpeg's words for a failure, without the errno and the file name PyAV adds."""
    import re

    text = str(exc).split(": '", 1)[0]
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text).strip()
    return text[:1].lower() + text[1:] if text else type(exc).__name__


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4096)
    try:
        decoded = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(decoded.strip()) and all(c.isprintable() or c in "\r\n\t" for c in decoded)


def stream_pcm(path: Path, block_seconds: float = 10.0) -> Iterator[np.ndarray]:
    """The first audio track of `path` as float32 mono 16 kHz blocks of about `block_seconds` each.

    Raises AudioError (naming the file) when it cannot be opened or decoded, including part way through."""
    import av

    from reelforge.speech.asr.errors import AudioError

    container, stream = _open(path)
    resampler = av.audio.resampler.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    wanted = max(int(block_seconds * SAMPLE_RATE), 1)
    pieces: list[np.ndarray] = []
    held = 0
    decoded_any = False
    try:
        try:
            for frame in container.decode(stream):
                decoded_any = True
                for out in resampler.resample(frame):
                    pieces.append(out.to_ndarray().reshape(-1))
                    held += pieces[-1].size
                if held >= wanted:
                    yield np.concatenate(pieces).astype(np.float32, copy=False)
                    pieces, held = [], 0
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1))
        except (av.error.FFmpegError, ValueError) as exc:
            raise AudioError(f"{path}: audio cannot be decoded ({_reason(exc)})") from None
    finally:
        container.close()
    if not decoded_any:
        raise AudioError(f"{path}: audio track holds no sound that can be decoded")
    if pieces:
        block = np.concatenate(pieces).astype(np.float32, copy=False)
        if block.size:
            yield block


def read_pcm(path: Path) -> np.ndarray:
    """The whole first audio track as float32 mono 16 kHz (for narration-length recordings; see stream_pcm)."""
    blocks = list(stream_pcm(path, block_seconds=60.0))
    return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)


def recording_length(path: Path) -> RecordingLength:
    """The exact length of the first audio track, counted by decoding it (container headers can be rounded or,
    for some formats, estimated). AudioError when there is no decodable audio."""
    import av

    from reelforge.speech.asr.errors import AudioError

    container, stream = _open(path)
    samples, rate = 0, stream.codec_context.sample_rate or stream.rate or 0
    try:
        for frame in container.decode(stream):
            samples += frame.samples
            rate = frame.sample_rate or rate
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioError(f"{path}: audio cannot be decoded ({_reason(exc)})") from None
    finally:
        container.close()
    if samples == 0 or not rate:
        raise AudioError(f"{path}: audio track holds no sound that can be decoded")
    return RecordingLength(int(rate), samples)


# --- energy --------------------------------------------------------------------------------------------------

def frame_db(pcm: np.ndarray) -> np.ndarray:
    """Energy of every 10 ms frame in dB (full scale = 0)."""
    count = len(pcm) // HOP
    if count == 0:
        return np.full(1, -100.0)
    frames = pcm[: count * HOP].reshape(count, HOP).astype(np.float64)
    return 10 * np.log10(np.mean(frames * frames, axis=1) + 1e-10)


def speech_threshold(db: np.ndarray) -> float:
    """The energy above which a frame counts as sound: well over the noise floor (but under the peaks, for a
    recording without pauses), within 45 dB of the peaks."""
    floor, peak = float(np.percentile(db, 5)), float(np.percentile(db, 99))
    return max(min(floor + 12.0, peak - 6.0), peak - 45.0)


def has_sound(db: np.ndarray) -> bool:
    """Whether anything louder than near-silence (-60 dBFS at the loud end) is there at all."""
    return bool(len(db)) and float(np.percentile(db, 99)) >= -60.0


def speech_islands(db: np.ndarray, threshold: float, min_gap: float) -> list[tuple[float, float]]:
    """(start, end) seconds of sound separated by quiet of at least `min_gap` seconds."""
    loud = np.flatnonzero(db > threshold)
    if len(loud) == 0:
        return []
    islands, first, previous = [], loud[0], loud[0]
    for frame in loud[1:]:
        if (frame - previous - 1) * FRAME_SECONDS >= min_gap:
            islands.append((first * FRAME_SECONDS, (previous + 1) * FRAME_SECONDS))
            first = frame
        previous = frame
    islands.append((first * FRAME_SECONDS, (previous + 1) * FRAME_SECONDS))
    return islands


def quietest_frame(db: np.ndarray) -> int:
    """Index of the centre of the quietest stretch of `db` (smoothed over 50 ms)."""
    if len(db) >= 5:
        db = np.convolve(db, np.ones(5) / 5, mode="same")
    low = np.flatnonzero(db <= db.min() + 1.0)
    return int(low[len(low) // 2])


def read_native_mono(path: Path) -> tuple[np.ndarray, int]:
    """The first audio track as 16-bit mono samples at its own rate (to cut a recording into pieces exactly)."""
    import av

    from reelforge.speech.asr.errors import AudioError

    container, stream = _open(path)
    rate = stream.codec_context.sample_rate or stream.rate
    resampler = av.audio.resampler.AudioResampler(format="s16", layout="mono", rate=rate)
    pieces: list[np.ndarray] = []
    try:
        for frame in container.decode(stream):
            pieces += [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
        pieces += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioError(f"{path}: audio cannot be decoded ({_reason(exc)})") from None
    finally:
        container.close()
    return (np.concatenate(pieces) if pieces else np.zeros(0, np.int16)).astype(np.int16, copy=False), int(rate)
