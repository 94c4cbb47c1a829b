"""Cards, single frames and backend parity: the figures of the cards/moviepy issue.

Run from the repository root: `.venv/bin/python -m bench.cards_frames` (about 5 minutes on 2 cores).
- card render time per second of output, each built-in card at 1080x1920, 30 fps, 5 s (fresh cache, wall
  and CPU seconds of the worker process tree), median of 3;
- single-frame latency: `Compositor.frame` for 1080x1920 frames of templates/demo.json once assets and cards
  are resolved (median of 5 frames x 3 rounds), and the `reelforge frame` command end to end;
- parity: every template rendered by both backends at draft quality; PSNR of 8 sampled frames (min and
  median) and the frame counts.
Prints Markdown; nothing is written unless --out is given.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CARDS = {
    "title": {"card": "title", "title": "Five facts about the ocean", "subtitle": "Number three is wild"},
    "list_item": {"card": "list_item", "number": 3, "title": "Move for five minutes", "body": "Stretch, walk, dance"},
    "quiz": {"card": "quiz", "question": "Which planet has the most moons?", "choices": ["Jupiter", "Saturn", "Mars"],
             "answer": 1, "countdown": 3},
    "stat": {"card": "stat", "value": 71, "suffix": "%", "label": "of Earth is ocean"},
    "quote": {"card": "quote", "quote": "Every second breath you take comes from the ocean.", "author": "Sylvia Earle"},
    "end": {"card": "end", "title": "Thanks for watching", "callToAction": "Follow for more"},
}


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def card_times(rounds: int) -> list[tuple[str, float, float]]:
    from reelforge.cards import get_spec, render_card
    from reelforge.model.theme import Theme
    from reelforge.workspace import Workspace

    rows = []
    for name, fields in CARDS.items():
        model = get_spec(name).model.model_validate(fields)
        walls, cpus = [], []
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as cache:
                cpu, start = cpu_children(), time.perf_counter()
                render_card(model, Theme(), workspace=Workspace(Path(cache)), width=1080, height=1920, fps=30,
                            frames=150)
                walls.append(time.perf_counter() - start)
                cpus.append(cpu_children() - cpu)
        rows.append((name, statistics.median(walls) / 5, statistics.median(cpus) / 5))
    return rows


def frame_latency(rounds: int) -> tuple[float, float, float]:
    from reelforge.job import RenderJob, prepare
    from reelforge.renderers.compose import Compositor
    from reelforge.workspace import Workspace

    demo = ROOT / "templates" / "demo.json"
    workspace = Workspace.from_environment()
    timeline = prepare(RenderJob.of(demo), workspace).timeline
    times = []
    for _ in range(rounds):
        for at in (2.0, 9.0, 12.0, 18.0, 23.0):
            with tempfile.TemporaryDirectory() as work:
                compositor = Compositor(timeline, Path(work), workspace)  # cards already rendered: in the cache
                start = time.perf_counter()
                compositor.frame(timeline.rate.frames(at))
                times.append(time.perf_counter() - start)
                compositor.close()
    commands = []
    for at in (3.0, 12.0, 20.0):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "reelforge", "frame", str(demo), "--at", str(at), "-o", f"{out}/f.png"],
                           check=True, capture_output=True)
            commands.append(time.perf_counter() - start)
    return statistics.median(times), max(times), statistics.median(commands)


def parity() -> list[tuple[str, int, int, float, float]]:
    import av

    from reelforge import render

    rows = []
    with tempfile.TemporaryDirectory() as out:
        for template in sorted((ROOT / "templates").glob("*.json")):
            fast = render(template, f"{out}/{template.stem}-f.mp4", quality="draft").path
            slow = render(template, f"{out}/{template.stem}-m.mp4", quality="draft", backend="moviepy").path
            decoded = []
            for path in (fast, slow):
                with av.open(str(path)) as container:
                    decoded.append([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
            count = min(len(decoded[0]), len(decoded[1]))
            scores = []
            for index in np.linspace(0, count - 1, 8).astype(int):
                a, b = (d[index].astype(np.float64) for d in decoded)
                mse = float(np.mean((a - b) ** 2))
                scores.append(99.0 if mse == 0 else 10 * np.log10(255**2 / mse))
            rows.append((template.stem, len(decoded[0]), len(decoded[1]), min(scores), statistics.median(scores)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    lines = [f"- Command: `.venv/bin/python -m bench.cards_frames` · machine: `nproc` = {os.cpu_count()}, "
             f"`uname -m` = {os.uname().machine}", ""]
    lines += ["| card (1080×1920, 30 fps, 5 s) | wall s per output s | CPU s per output s |", "|---|--:|--:|"]
    for name, wall, cpu in card_times(args.rounds):
        lines.append(f"| {name} | {wall:.2f} | {cpu:.2f} |")
    median, worst, command = frame_latency(args.rounds)
    lines += ["", f"Single 1080×1920 frame of templates/demo.json, assets resolved: median **{median * 1000:.0f} ms**, "
              f"worst {worst * 1000:.0f} ms; `reelforge frame` end to end (process start, load, resolve from cache, "
              f"compose, PNG): median {command:.2f} s.", ""]
    lines += ["| template | frames ffmpeg | frames moviepy | PSNR min dB | PSNR median dB |", "|---|--:|--:|--:|--:|"]
    for name, a, b, low, mid in parity():
        lines.append(f"| {name} | {a} | {b} | {low:.1f} | {mid:.1f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
