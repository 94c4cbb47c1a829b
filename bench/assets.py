"""Workload W's input media, made deterministically: three 1920×1080 clips with motion and two 3000×2000 stills.

Run: .venv/bin/python -m bench.assets FOLDER   (skips files that already exist with this generator version)

Two sets, chosen by $REELFORGE_BENCH_ASSETS (the files keep the same names, clip-1..3 and still-1..2):
- `footage` (default): content that encodes like stock footage —
  clip-1 `testsrc2` (moving test pattern); clip-2 a slow camera pan across a painted landscape with light film
  grain; clip-3 an animated gradient sky with grain; still-1 a landscape; still-2 rings and stripes, no noise.
- `stress`: content built to be expensive for the encoder —
  clip-1 `testsrc2`; clip-2 a deep `mandelbrot` zoom (fine detail changing every frame); clip-3 Conway's `life`
  (4-pixel cells); still-1 a deep `mandelbrot` region; still-2 rings and stripes with per-pixel noise (zoomed,
  the noise changes every frame).
All clips: 8 s, 30 fps, libx264 crf 20, yuv420p, no audio.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

GENERATOR_VERSION = 3
ASSET_SET = os.environ.get("REELFORGE_BENCH_ASSETS", "footage")
CLIP_SECONDS = 8
CLIP_SIZE = (1920, 1080)
STILL_SIZE = (3000, 2000)

W, H = CLIP_SIZE
SOURCES = {
    "stress": {
        "clip-1.mp4": f"testsrc2=s={W}x{H}:r=30",
        "clip-2.mp4": f"mandelbrot=s={W}x{H}:r=30:start_scale=1.5:end_scale=0.02:end_pts=400",
        "clip-3.mp4": (f"life=s={W // 4}x{H // 4}:r=30:seed=7:ratio=0.25:mold=8:"
                       f"life_color=#ffcc33:death_color=#203060:mold_color=#802040,scale={W}:{H}:flags=neighbor"),
    },
    "footage": {
        "clip-1.mp4": f"testsrc2=s={W}x{H}:r=30",
        # clip-2 is a pan over a painted panorama (made below); clip-3 a drifting gradient sky with grain
        "clip-3.mp4": (f"gradients=s={W}x{H}:r=30:c0=0x1d3b6e:c1=0x5b8fd6:c2=0xf0b27a:c3=0x27496d:nb_colors=4:"
                       f"speed=0.01:seed=3,noise=alls=3"),
    },
}
CLIPS = SOURCES[ASSET_SET]
STILLS = ("still-1.png", "still-2.png")
MANIFEST = "manifest.json"


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _ffmpeg(args: list[str]) -> None:
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def _write_clip(path: Path, source: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp.mp4")
    _ffmpeg(["-f", "lavfi", "-i", source, "-t", str(CLIP_SECONDS), "-c:v", "libx264", "-preset", "veryfast",
             "-crf", "20", "-pix_fmt", "yuv420p", "-g", "60", "-map_metadata", "-1", "-fflags", "+bitexact",
             "-flags:v", "+bitexact", "-movflags", "+faststart", "-an", str(tmp)])
    os.replace(tmp, path)


def _mandelbrot_still(path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp.png")
    _ffmpeg(["-f", "lavfi", "-i", f"mandelbrot=s={STILL_SIZE[0]}x{STILL_SIZE[1]}:start_scale=0.02:"
             "start_x=-0.743643887037151:start_y=0.131825904205330:maxiter=1500",
             "-frames:v", "1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-f", "image2", str(tmp)])
    os.replace(tmp, path)


def landscape_image(width: int, height: int, seed: int = 7) -> np.ndarray:
    """RGB uint8: a painted landscape — sky gradient, a sun's glow, three layers of hills, light grain."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = x / width, y / height
    sky = np.stack([0.35 + 0.5 * v, 0.55 + 0.3 * v, 0.95 - 0.35 * v], axis=-1)
    glow = np.exp(-((u - 0.7) ** 2 + (v - 0.35) ** 2) / 0.01)[..., None] * np.array([1.0, 0.8, 0.5])
    image = np.clip(sky + 0.6 * glow, 0, 1)
    for layer, (base, color) in enumerate(((0.55, (0.30, 0.45, 0.35)), (0.68, (0.20, 0.35, 0.25)), (0.8, (0.12, 0.22, 0.15)))):
        phase = rng.uniform(0, 6.28, 3)
        ridge = base + 0.05 * np.sin(u * 7 + phase[0]) + 0.03 * np.sin(u * 19 + phase[1]) + 0.01 * np.sin(u * 61 + phase[2])
        shade = np.array(color) * (1 - 0.3 * (v - ridge).clip(0, 1)[..., None])
        image = np.where((v > ridge)[..., None], shade, image)
    image = image + rng.normal(0, 0.012, size=image.shape)
    return (np.clip(image, 0, 1) * 255).astype(np.uint8)


def _pan_clip(path: Path) -> None:
    """A slow camera pan across a panorama twice the clip's width."""
    panorama = path.with_name(".panorama.png")
    Image.fromarray(landscape_image(W * 2, H, seed=11)).save(panorama, format="PNG", compress_level=1)
    tmp = path.with_name(f".{path.name}.tmp.mp4")
    _ffmpeg(["-loop", "1", "-framerate", "30", "-i", str(panorama), "-vf", f"crop={W}:{H}:x='(iw-{W})*t/{CLIP_SECONDS}':y=0",
             "-t", str(CLIP_SECONDS), "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
             "-g", "60", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-movflags", "+faststart",
             "-an", str(tmp)])
    os.replace(tmp, path)
    panorama.unlink()


def _landscape_still(path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp.png")
    Image.fromarray(landscape_image(*STILL_SIZE)).save(tmp, format="PNG", compress_level=6)
    os.replace(tmp, path)


def pattern_image(width: int, height: int, seed: int = 2024, grain: float = 1.0) -> np.ndarray:
    """RGB uint8: concentric rings and diagonal stripes over smooth color fields, with fine seeded noise."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = width * 0.42, height * 0.55
    r = np.hypot(x - cx, y - cy)
    rings = 0.5 + 0.5 * np.sin(r / 9.0 + 0.002 * r * r / 40.0)
    stripes = 0.5 + 0.5 * np.sin((x + 2 * y) / 23.0)
    field_r = x / width
    field_b = y / height
    noise = np.random.default_rng(seed).random((height, width), dtype=np.float32) * grain
    red = 0.55 * field_r + 0.35 * rings + 0.10 * noise
    green = 0.45 * rings * stripes + 0.35 * (1 - field_b) + 0.20 * noise
    blue = 0.50 * field_b + 0.30 * stripes + 0.20 * (1 - rings)
    rgb = np.stack([red, green, blue], axis=-1)
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def _pattern_still(path: Path, grain: float = 1.0) -> None:
    tmp = path.with_name(f".{path.name}.tmp.png")
    Image.fromarray(pattern_image(*STILL_SIZE, grain=grain)).save(tmp, format="PNG", compress_level=6)
    os.replace(tmp, path)


def generate(folder: Path, *, verbose: bool = True) -> Path:
    """Make every input of W in `folder` (kept when present and made by this generator version)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    version = f"{GENERATOR_VERSION}-{ASSET_SET}"
    if manifest.get("version") != version:
        manifest = {"version": version, "files": []}
    makers = {name: (lambda p, s=source: _write_clip(p, s)) for name, source in CLIPS.items()}
    if ASSET_SET == "stress":
        makers["still-1.png"] = _mandelbrot_still
        makers["still-2.png"] = _pattern_still
    else:
        makers["clip-2.mp4"] = _pan_clip
        makers["still-1.png"] = _landscape_still
        makers["still-2.png"] = lambda p: _pattern_still(p, grain=0.0)
    for name, make in makers.items():
        path = folder / name
        if name in manifest["files"] and path.is_file():
            continue
        if verbose:
            print(f"  making {path}", file=sys.stderr, flush=True)
        make(path)
        manifest["files"] = sorted({*manifest["files"], name})
        tmp = manifest_path.with_name(".manifest.tmp")
        tmp.write_text(json.dumps(manifest, indent=1))
        os.replace(tmp, manifest_path)
    return folder


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python -m bench.assets FOLDER")
    print(generate(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
