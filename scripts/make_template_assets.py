#!/usr/bin/env python3
"""Write the small media files the AVS templates use (templates/assets/backdrop.png and tone.wav), stdlib only.

Run: python3 scripts/make_template_assets.py [--out templates/assets] [--check]

The output is deterministic, so the files are committed and `--check` (used by the tests) verifies that the
committed files are what this script makes. backdrop.png: 1080x1920 RGB, a gradient with soft diagonal bands;
tone.wav: 4 s of a quiet two-note chord, 22 050 Hz mono 16-bit, faded in and out. Each stays under 200 KB.
"""

from __future__ import annotations

import argparse
import io
import math
import os
import struct
import sys
import tempfile
import wave
import zlib
from array import array
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "templates" / "assets"
MAX_BYTES = 200 * 1024

WIDTH, HEIGHT = 1080, 1920
TOP = (19, 99, 223)  # #1363df
BOTTOM = (6, 40, 61)  # #06283d
BAND_PERIOD = 240  # pixels between the soft diagonal light bands
BAND_STRENGTH = 10  # how much lighter a band is, in 0-255 levels

SAMPLE_RATE = 22050
SECONDS = 4.0
NOTES_HZ = (220.0, 329.63)  # A3 and E4: an open fifth
LEVEL = 0.25  # peak amplitude, of full scale
FADE_SECONDS = 0.5


def png_bytes(width: int, height: int, pixel_row) -> bytes:
    """A truecolor 8-bit PNG; `pixel_row(y)` returns the row's RGB bytes. Rows use the Sub filter."""
    raw = bytearray()
    for y in range(height):
        row = pixel_row(y)
        raw.append(1)  # filter type Sub: each byte minus the byte 3 to its left
        raw += bytes((row[i] - (row[i - 3] if i >= 3 else 0)) & 0xFF for i in range(len(row)))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")


def backdrop_row(y: int) -> bytes:
    """One row of the backdrop: a vertical blend of two blues with soft diagonal light bands across it.

    The color changes with y only and the bands repeat every BAND_PERIOD pixels, so each row is periodic
    and deflate keeps the file small.
    """
    t = y / (HEIGHT - 1)
    base = [start + (end - start) * t for start, end in zip(TOP, BOTTOM)]
    period = bytearray()
    for x in range(BAND_PERIOD):
        band = BAND_STRENGTH * (0.5 + 0.5 * math.cos(2 * math.pi * (x - y) / BAND_PERIOD))
        period += bytes(min(255, int(level + band)) for level in base)
    return bytes(period * (WIDTH // BAND_PERIOD) + period[: 3 * (WIDTH % BAND_PERIOD)])


def wav_bytes() -> bytes:
    """The tone as a 16-bit mono WAV: the chord, with a raised-cosine fade at each end."""
    total = int(SAMPLE_RATE * SECONDS)
    fade = int(SAMPLE_RATE * FADE_SECONDS)
    samples = array("h")
    for n in range(total):
        value = sum(math.sin(2 * math.pi * hz * n / SAMPLE_RATE) for hz in NOTES_HZ) / len(NOTES_HZ)
        edge = min(n, total - 1 - n)
        gain = 0.5 - 0.5 * math.cos(math.pi * edge / fade) if edge < fade else 1.0
        samples.append(int(round(value * gain * LEVEL * 32767)))
    if sys.byteorder == "big":
        samples.byteswap()  # WAV samples are little-endian
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def assets() -> dict[str, bytes]:
    return {"backdrop.png": png_bytes(WIDTH, HEIGHT, backdrop_row), "tone.wav": wav_bytes()}


def write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"Folder to write to (default: {DEFAULT_OUT}).")
    parser.add_argument("--check", action="store_true", help="Write nothing; exit 1 if a file in --out differs.")
    args = parser.parse_args(argv)
    status = 0
    for name, data in assets().items():
        if len(data) > MAX_BYTES:
            print(f"{name}: {len(data)} bytes is over the {MAX_BYTES}-byte budget", file=sys.stderr)
            return 1
        target = args.out / name
        if args.check:
            if not target.is_file() or target.read_bytes() != data:
                print(f"{target}: out of date; run: python3 scripts/make_template_assets.py", file=sys.stderr)
                status = 1
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)
        print(f"wrote {target} ({len(data)} bytes)")
    return status


if __name__ == "__main__":
    sys.exit(main())
