"""How smoothly a still zooms: the zoom centre's path and the per-frame zoom step, measured on the frames reelforge's
graph makes for a zooming image (its chain into raw video, no encode), and what that chain costs.

    .venv/bin/python -m bench.zoom [--motion zoom_in] [--amount 0.15] [--seconds 6] [--rounds 3] [--quality studio]

The still (3000x2000, cover-fitted into 1080x1920 as in W) is black with four small Gaussian dots around its centre.
In every frame each dot's position is its intensity-weighted centroid (sub-pixel); the zoom centre is the dots' mean,
the zoom is their spread against the first frame's. Reported at the output's 1080p: the centre's largest distance
from where it starts and its largest move between frames (px), the per-frame zoom step (min, median, max, x10^-4)
and the largest change of the step between frames relative to its median (0 = perfectly even).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

DOTS = ((-280, -520), (280, -520), (-280, 520), (280, 520))  # source pixels from the centre
SIGMA = 5.0


def dot_still(path: Path, size: tuple[int, int] = (3000, 2000)) -> None:
    from PIL import Image

    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    image = np.zeros((h, w), np.float32)
    for dx, dy in DOTS:
        image += np.exp(-((x - w / 2 - dx) ** 2 + (y - h / 2 - dy) ** 2) / (2 * SIGMA ** 2))
    Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8)).convert("RGB").save(path)


def frames_of(still: Path, motion: str, amount: float, seconds: float, workdir: Path,
              quality: str = "web") -> tuple[np.ndarray, float]:
    """The zooming layer's frames (luma) as the renderer's graph makes them, and the chain's CPU seconds."""
    from bench.filters import ffmpeg_cpu
    from reelforge.job import RenderJob, prepare
    from reelforge.process import ffmpeg_exe
    from reelforge.renderers.ffmpeg.video import GraphBuilder
    from reelforge.workspace import Workspace

    document = {"version": "1", "name": "zoom", "output": {"aspectRatio": "9:16", "resolution": "1080p",
                                                           "quality": quality, "fps": 30},
                "scenes": [{"id": "s", "duration": seconds, "visual": {"type": "image", "source": {"path": str(still)},
                                                                       "motion": motion, "motionAmount": amount,
                                                                       "fit": "cover"}}]}
    workspace = Workspace(workdir / "cache")
    timeline = prepare(RenderJob.of(document, assets=workdir), workspace).timeline
    layer = timeline.scenes[0]
    builder = GraphBuilder(timeline, workspace.folder("stills"))
    out = builder.visual(layer, 0, layer.range.duration)
    inputs = [arg for part in builder.inputs for arg in part]
    graph = ";".join(builder.chains)
    cpu = statistics.median(ffmpeg_cpu([*inputs, "-filter_complex", graph, "-map", f"[{out}]", "-f", "null", "-"],
                                       workdir)[0] for _ in range(ROUNDS))
    raw = subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", *inputs, "-filter_complex",
                          f"{graph};[{out}]format=gray[g]", "-map", "[g]", "-f", "rawvideo", "-"],
                         capture_output=True, check=True).stdout
    w, h = timeline.width, timeline.height
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w).astype(np.float64), cpu


def dot_positions(frame: np.ndarray, guesses: list[tuple[float, float]], radius: int = 24) -> list[tuple[float, float]]:
    found = []
    for gx, gy in guesses:
        x0, y0 = int(round(gx)) - radius, int(round(gy)) - radius
        patch = frame[y0:y0 + 2 * radius + 1, x0:x0 + 2 * radius + 1]
        patch = np.clip(patch - 16.0, 0, None)  # limited-range black
        ys, xs = np.mgrid[0:patch.shape[0], 0:patch.shape[1]]
        total = patch.sum()
        found.append((x0 + float((xs * patch).sum() / total), y0 + float((ys * patch).sum() / total)))
    return found


def measure(frames: np.ndarray) -> dict[str, Any]:
    h, w = frames.shape[1:]
    first = frames[0]
    # Initial guesses: the brightest spot in each quadrant.
    guesses = []
    for qx, qy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        quadrant = first[qy * h // 2:(qy + 1) * h // 2, qx * w // 2:(qx + 1) * w // 2]
        y, x = np.unravel_index(np.argmax(quadrant), quadrant.shape)
        guesses.append((x + qx * w // 2, y + qy * h // 2))
    centres, spreads = [], []
    for frame in frames:
        dots = dot_positions(frame, guesses)
        guesses = dots
        xs, ys = np.array([d[0] for d in dots]), np.array([d[1] for d in dots])
        centres.append((xs.mean(), ys.mean()))
        spreads.append(np.hypot(xs - xs.mean(), ys - ys.mean()).mean())
    centres_a = np.array(centres)
    zoom = np.array(spreads) / spreads[0]
    steps = np.diff(zoom)
    median = float(np.median(steps))
    return {
        "frames": len(frames),
        "centre_drift_px": float(np.abs(centres_a - centres_a[0]).max()),
        "centre_move_px": float(np.abs(np.diff(centres_a, axis=0)).max()),
        "step_min_e4": float(steps.min() * 1e4), "step_median_e4": median * 1e4, "step_max_e4": float(steps.max() * 1e4),
        "step_unevenness": float(np.abs(np.diff(steps)).max() / abs(median)) if median else float("inf"),
        "zoom_end": float(zoom[-1]),
    }


ROUNDS = 3


def main() -> None:
    global ROUNDS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--motion", default="zoom_in")
    parser.add_argument("--amount", type=float, default=0.15)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quality", default="web", help="web: zoompan on a 2x fit; studio: perspective, sub-pixel")
    args = parser.parse_args()
    ROUNDS = args.rounds
    with tempfile.TemporaryDirectory(prefix="bench-zoom-") as folder:
        workdir = Path(folder)
        still = workdir / "dots.png"
        dot_still(still)
        frames, cpu = frames_of(still, args.motion, args.amount, args.seconds, workdir, args.quality)
        result = {**measure(frames), "chain_cpu_s": cpu}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
