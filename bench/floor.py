"""The encode-only floor: ffmpeg encoding 30 s of 1080×1920 testsrc2 with W's encoder settings (no filters, no audio).

Run: .venv/bin/python -m bench.floor OUT.mp4 [--seconds 30]

Also `content_floor_command`: re-encoding a finished video's own frames with the same settings, the cost of
encoding exactly W's pixels (testsrc2 is flat and regular, so it encodes faster than W's detailed footage).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

SIZE = (1080, 1920)
FPS = 30
ENCODER = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "21", "-pix_fmt", "yuv420p"]


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def floor_command(out: Path, seconds: float = 30.0) -> list[str]:
    source = f"testsrc2=s={SIZE[0]}x{SIZE[1]}:r={FPS}:d={seconds:g}"
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", source,
            *ENCODER, "-an", str(out)]


def content_floor_command(video: Path, out: Path) -> list[str]:
    """Decode `video` and encode its frames again with W's settings (video only)."""
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(video), "-map", "0:v:0",
            *ENCODER, "-an", str(out)]


def run(command: list[str]) -> float:
    """Run an ffmpeg command; its wall time in seconds."""
    clock = time.monotonic()
    subprocess.run(command, check=True)
    return time.monotonic() - clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    command = floor_command(args.out, args.seconds)
    print(" ".join(command), file=sys.stderr)
    print(f"{run(command):.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
