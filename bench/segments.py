"""Where reelforge's video time goes on W: each segment's ffmpeg command run alone, in four variants.

For every segment of W (scene bodies and transitions), serially, one at a time:
- `full`: the command the pipeline runs (filter graph + libx264 into MP4);
- `filters`: the same graph into `-f null` (decode + filters + captions, no encode);
- `encode`: the segment's own output decoded and encoded again with the same encoder arguments (the encode
  cost of exactly these pixels; decoding a ~10 Mb/s H.264 stream is a small part);
- `crop_first` (only while the pipeline still scales then crops): for clips fit with cover, the graph with `scale…increase,crop` replaced by `crop` to the frame's
  aspect then `scale` (same picture, fewer pixels scaled), filters only.
REELFORGE_CACHE must hold W's narration (the benchmark pre-synthesizes it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

COVER = re.compile(r"scale=(\d+):(\d+):force_original_aspect_ratio=increase:flags=bicubic,crop=\1:\2")


def _run(args: list[str], cwd: Path) -> float:
    from reelforge.render.process import ffmpeg_exe

    clock = time.monotonic()
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error", *args], cwd=cwd, check=True,
                   capture_output=True)
    return time.monotonic() - clock


def profile(document: dict[str, Any], assets: Path) -> list[dict[str, Any]]:
    from reelforge.compile import compile_timeline
    from reelforge.fonts import fonts_dir
    from reelforge.loader import load_document
    from reelforge.render.ffmpeg_video import segment_command
    from reelforge.render.segments import plan_segments
    from reelforge.resolve import resolve

    loaded = load_document(document, assets=assets)
    timeline = compile_timeline(resolve(loaded, assets=assets))
    rows = []
    root = Path(tempfile.mkdtemp(prefix="bench-segments-"))
    try:
        for number, segment in enumerate(plan_segments(timeline)):
            folder = root / f"seg{number:03d}"
            folder.mkdir()
            output = folder / "out.mp4"
            args, _ = segment_command(timeline, segment, folder, fonts_dir(), "web", output)
            encoder_at = args.index("-c:v")
            encoder = args[encoder_at:args.index("-an")]
            to_null = args[:encoder_at] + ["-f", "null", "-"]
            if segment.transition is not None:
                kind = f"transition ({segment.transition[0].layer.visual.kind}→{segment.transition[1].layer.visual.kind})"
            else:
                kind = segment.scene.layer.visual.kind if segment.scene else "tail"
            row: dict[str, Any] = {"segment": number, "kind": kind, "frames": segment.range.duration,
                                   "inputs": sum(1 for a in args if a == "-i")}
            row["full_s"] = _run(args, folder)
            row["filters_s"] = _run(to_null, folder)
            row["encode_s"] = _run(["-i", str(output), "-map", "0:v:0", *encoder, "-an", "-f", "mp4", "re.mp4"], folder)
            row["bytes"] = output.stat().st_size
            graph = (folder / "graph.txt").read_text()
            if COVER.search(graph):
                (folder / "graph.txt").write_text(COVER.sub(
                    lambda m: f"crop='min(iw,ih*{m[1]}/{m[2]})':'min(ih,iw*{m[2]}/{m[1]})',scale={m[1]}:{m[2]}:flags=bicubic",
                    graph))
                row["crop_first_filters_s"] = _run(to_null, folder)
            rows.append(row)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return rows
