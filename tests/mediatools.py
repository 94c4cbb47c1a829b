"""Measuring rendered media in tests: streams, frames, audio levels, loudness, subtitles; test media and servers."""

from __future__ import annotations

import contextlib
import http.server
import re
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
import numpy as np

AUDIO_RATE = 48000


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def run_ffmpeg(*args: str | Path) -> str:
    """Run the bundled ffmpeg; return its stderr (where filters print their reports). Fails the test on error."""
    result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *map(str, args)],
                            capture_output=True, text=True, errors="replace", timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"ffmpeg {' '.join(map(str, args))} failed:\n{result.stderr[-2000:]}")
    return result.stderr


# -- what a file holds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamInfo:
    kind: str  # video, audio, subtitle
    codec: str
    seconds: float | None  # from the stream's own duration
    width: int | None = None
    height: int | None = None
    packets: int = 0  # frames for video: every H.264 packet is one frame


@dataclass(frozen=True)
class MediaProbe:
    path: Path
    seconds: float  # the container's duration
    streams: tuple[StreamInfo, ...]

    def kinds(self) -> list[str]:
        return [s.kind for s in self.streams]

    def stream(self, kind: str) -> StreamInfo:
        found = [s for s in self.streams if s.kind == kind]
        assert len(found) == 1, f"{self.path.name}: expected one {kind} stream, found {self.kinds()}"
        return found[0]

    @property
    def video(self) -> StreamInfo:
        return self.stream("video")

    @property
    def audio(self) -> StreamInfo:
        return self.stream("audio")


def probe(path: Path) -> MediaProbe:
    """Streams, sizes, durations and the number of video frames (counted by demuxing every packet)."""
    with av.open(str(path)) as container:
        counts: dict[int, int] = {}
        for packet in container.demux():
            if packet.size:
                counts[packet.stream.index] = counts.get(packet.stream.index, 0) + 1
        streams = []
        for stream in container.streams:
            seconds = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
            context = stream.codec_context
            streams.append(StreamInfo(
                stream.type, context.name, seconds,
                getattr(context, "width", None) if stream.type == "video" else None,
                getattr(context, "height", None) if stream.type == "video" else None,
                counts.get(stream.index, 0),
            ))
        seconds = container.duration / 1_000_000 if container.duration is not None else 0.0
    return MediaProbe(path, seconds, tuple(streams))


def video_frames(path: Path, indices: list[int] | None = None, gray: bool = False) -> dict[int, np.ndarray]:
    """Decoded frames by index (all when `indices` is None): RGB uint8 (h, w, 3), or luma (h, w) with `gray`."""
    wanted = None if indices is None else set(indices)
    frames: dict[int, np.ndarray] = {}
    with av.open(str(path)) as container:
        for number, frame in enumerate(container.decode(video=0)):
            if wanted is not None and number not in wanted:
                continue
            frames[number] = frame.to_ndarray(format="gray" if gray else "rgb24")
            if wanted is not None and len(frames) == len(wanted):
                break
    if wanted is not None:
        missing = sorted(wanted - frames.keys())
        assert not missing, f"{path.name} has no frames {missing}"
    return frames


def frame_means(path: Path, rows: slice = slice(None), cols: slice = slice(None)) -> np.ndarray:
    """Mean RGB of a region of every frame, shape (frames, 3), decoding one frame at a time."""
    means = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            means.append(frame.to_ndarray(format="rgb24")[rows, cols].reshape(-1, 3).mean(axis=0))
    return np.array(means)


def audio_samples(path: Path, rate: int = AUDIO_RATE) -> np.ndarray:
    """The first audio stream as float mono at `rate`."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


# -- audio measurements ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_dbtp: float


def loudness(path: Path) -> Loudness:
    """EBU R128 integrated loudness and true peak of a file's audio, from ffmpeg's ebur128 summary."""
    stderr = run_ffmpeg("-i", path, "-map", "0:a:0", "-af", "ebur128=peak=true:framelog=quiet", "-f", "null", "-")
    summary = stderr[stderr.rfind("Summary:"):]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    assert integrated and peak, f"no ebur128 summary for {path.name}:\n{summary}"
    return Loudness(float(integrated.group(1)), float(peak.group(1)))


def rms_db(samples: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(samples, dtype=np.float64)) + 1e-20))


def band_db(samples: np.ndarray, start: float, end: float, low: float, high: float, rate: int = AUDIO_RATE) -> float:
    """Mean power (dB) between `low` and `high` Hz of the samples from `start` to `end` seconds."""
    piece = samples[int(start * rate):int(end * rate)].astype(np.float64)
    assert len(piece) > rate // 10, f"{start:.2f}-{end:.2f} s is too short to measure"
    power = np.abs(np.fft.rfft(piece * np.hanning(len(piece)))) ** 2
    freqs = np.fft.rfftfreq(len(piece), 1 / rate)
    band = (freqs >= low) & (freqs < high)
    return float(10 * np.log10(power[band].sum() / len(piece) + 1e-20))


def onsets(samples: np.ndarray, threshold_db: float, rate: int = AUDIO_RATE, window: float = 0.01) -> list[float]:
    """Times (s) where the level in `window`-long steps rises above `threshold_db` after being below it."""
    step = int(rate * window)
    frames = samples[: len(samples) // step * step].reshape(-1, step).astype(np.float64)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)
    loud = level > threshold_db
    rising = np.flatnonzero(loud & ~np.concatenate([[False], loud[:-1]]))
    return [float(index * window) for index in rising]


# -- subtitles ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def subtitle_cues(path: Path, workdir: Path) -> list[Cue]:
    """The first subtitle track of a file, converted by ffmpeg to SRT and read with pysubs2."""
    srt = workdir / f"{path.stem}.track.srt"
    run_ffmpeg("-i", path, "-map", "0:s:0", "-f", "srt", srt)
    return sidecar_cues(srt)


def sidecar_cues(path: Path) -> list[Cue]:
    import pysubs2

    subs = pysubs2.load(str(path))
    return [Cue(e.start / 1000, e.end / 1000, e.plaintext.replace("\n", " ").strip())
            for e in subs if e.type == "Dialogue" and e.plaintext.strip()]


# -- pictures -------------------------------------------------------------------------------------------


def changed(a: np.ndarray, b: np.ndarray, threshold: int = 40) -> np.ndarray:
    """Per pixel: does any channel differ by more than `threshold`?"""
    difference = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return (difference.max(axis=-1) if difference.ndim == 3 else difference) > threshold


def mean_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.float32) - b.astype(np.float32))))


def resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((width, height), Image.BICUBIC))


# -- test media -----------------------------------------------------------------------------------------


def make_test_clip(path: Path, width: int = 320, height: int = 240, seconds: float = 2.0, fps: int = 30,
                   sound: str = "sin(2*PI*440*t)") -> Path:
    """A clip of ffmpeg's moving `testsrc2` pattern (every frame differs) with a sound given as an ffmpeg
    expression of `t` (a 440 Hz tone by default); H.264 + AAC."""
    run_ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={width}x{height}:r={fps}:d={seconds}",
               "-f", "lavfi", "-i", f"aevalsrc='0.3*{sound}':s=48000:d={seconds}",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(fps),
               "-c:a", "aac", "-shortest", "-movflags", "+faststart", path)
    return path


def make_test_image(path: Path, width: int = 800, height: int = 800) -> Path:
    """A detailed still (rings and a grid over a gradient): zoom and pan show in every part of it."""
    from PIL import Image

    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    radius = np.hypot(xs - width / 2, ys - height / 2)
    rings = (np.sin(radius / 6) > 0) * 120
    grid = ((xs.astype(int) // 40 + ys.astype(int) // 40) % 2) * 80
    red = np.clip(rings + xs / width * 55, 0, 255)
    green = np.clip(grid + ys / height * 100, 0, 255)
    blue = np.clip(255 - rings - grid / 2, 0, 255)
    Image.fromarray(np.stack([red, green, blue], axis=-1).astype(np.uint8)).save(path)
    return path


def write_wav_tone(path: Path, seconds: float, frequency: float = 440.0, rate: int = AUDIO_RATE) -> Path:
    import wave

    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.3 * np.sin(2 * np.pi * frequency * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm.tobytes())
    return path


# -- local servers for URL sources ----------------------------------------------------------------------


@contextlib.contextmanager
def serving(routes: dict[str, tuple[str, bytes]]) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 in a thread, serving `routes` (path → (content type, body)); yields its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            kind, body = routes.get(self.path, ("text/plain", b"not found"))
            self.send_response(200 if self.path in routes else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def best_source_frame(frame: np.ndarray, candidates: list[np.ndarray]) -> tuple[int, float, float]:
    """Index of the candidate closest to `frame`, its error and the median error (how distinct the match is)."""
    errors = [mean_abs_diff(frame, candidate) for candidate in candidates]
    return int(np.argmin(errors)), min(errors), float(np.median(errors))
