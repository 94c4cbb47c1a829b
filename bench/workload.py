"""Workload W as a reelforge document: 5 narrated scenes, ~30 s, 1080×1920 at 30 fps; and its 5/20/50-scene scalings.

W: scenes 1, 3, 5 are landscape clips cropped to fill the frame (fit cover), scenes 2 and 4 are stills with a
zoom; narration spoken from text (~6 s a scene: the bundled voice says 17-19 words in 5.5-6.3 s), bold_pop
captions, the upbeat music preset ducked under the narration, a title overlay on scene 1, crossfade and
slide transitions, output 9:16 1080p web (libx264 veryfast crf 21 yuv420p) at 30 fps.
Inputs come from `bench.assets.generate(folder)`; render with `render(document, out, assets=folder)`.
"""

from __future__ import annotations

import copy
from typing import Any

# Narration per scene of W, in order; the second half of the pool is used by scaled documents.
NARRATION_POOL: tuple[str, ...] = (
    "Deep in the Mandelbrot set, every edge hides another copy of the whole shape, and it never ends.",
    "A fractal coastline gets longer the closer you measure it, which puzzled mapmakers for a very long time.",
    "This test pattern has moved the same way on studio monitors for decades. Engineers still trust it today.",
    "Rings like these appear when two waves meet and add up. Phone screens and soap bubbles make them too.",
    "Zoom in a thousand times and the patterns keep coming. Follow for more strange and beautiful math.",
    "The same equation drawn with more iterations shows more detail, but it also takes much longer to draw.",
    "Conway's game of life needs only four simple rules, yet it can build gliders, clocks and even computers.",
    "Color bars let engineers check a signal by eye in seconds, long before any automatic tests existed.",
    "Moire patterns show up when fine grids overlap. Photographers fight them, while artists use them on purpose.",
    "Every cell looks only at its eight neighbors. Simple local rules, repeated millions of times, create order.",
)
W_SCENES = 5
# The incremental case replaces scene 3's narration with this (a one-word edit: "Broadcast" added).
EDITED_SCENE = 2  # index of scene 3
EDITED_NARRATION = ("This test pattern has moved the same way on studio monitors for decades. "
                    "Broadcast engineers still trust it today.")
TITLE = "Math you can watch"

# (visual kind, file, motion for stills) per scene position, cycled.
VISUALS: tuple[tuple[str, str, str], ...] = (
    ("video", "clip-2.mp4", ""),
    ("image", "still-1.png", "zoom_in"),
    ("video", "clip-1.mp4", ""),
    ("image", "still-2.png", "zoom_out"),
    ("video", "clip-3.mp4", ""),
)
TRANSITIONS: tuple[tuple[str, float], ...] = (("crossfade", 0.5), ("slide_left", 0.4))
ZOOM_AMOUNT = 0.15
PADDING = 0.4  # reelforge's default: quiet after each scene's narration
MUSIC = {"mood": "upbeat", "volume": 0.25, "ducking": True, "duckAmount": 12.0, "fadeIn": 1.0, "fadeOut": 2.0}
TITLE_STYLE = {"fontSize": 0.075, "color": "#ffd23f", "outlineWidth": 0.01, "outlineColor": "#000000"}
TITLE_PLACEMENT = {"anchor": "top", "y": 0.12}


def _visual(index: int) -> dict[str, Any]:
    kind, name, motion = VISUALS[index % len(VISUALS)]
    cycle = index // len(VISUALS)
    if kind == "video":
        # Later cycles start the clip elsewhere so no two scenes of a scaled document are the same picture;
        # at most 0.4 s in, so the 8 s clips never loop inside a scene (a loop point inside a transition
        # made the segment's ffmpeg fail: xfade saw mismatched time bases after concat).
        return {"type": "video", "source": {"uploadName": name}, "fit": "cover", "trimStart": 0.2 * (cycle % 3)}
    if cycle % 2:
        motion = "zoom_out" if motion == "zoom_in" else "zoom_in"
    return {"type": "image", "source": {"uploadName": name}, "motion": motion,
            "motionAmount": round(ZOOM_AMOUNT + 0.01 * (cycle % 5), 2), "fit": "cover"}


def _scene(index: int, count: int) -> dict[str, Any]:
    scene: dict[str, Any] = {
        "id": f"s{index + 1:02d}",
        "narration": {"text": NARRATION_POOL[index % len(NARRATION_POOL)]},
        "visual": _visual(index),
        "padding": PADDING,
    }
    if index == 0:
        scene["overlays"] = [{"text": TITLE, "placement": TITLE_PLACEMENT, "style": TITLE_STYLE}]
    if index + 1 < count:
        kind, seconds = TRANSITIONS[index % len(TRANSITIONS)]
        scene["transition"] = {"type": kind, "duration": seconds}
    return scene


def scaled_document(n_scenes: int) -> dict[str, Any]:
    """W's pattern over `n_scenes` scenes of ~6 s (assets and narration reused cyclically); 5 gives W itself."""
    if not 1 <= n_scenes <= 50:
        raise ValueError("n_scenes must be 1..50 (a document holds at most 50 scenes)")
    return {
        "version": "1",
        "name": f"Workload W ({n_scenes} scenes)" if n_scenes != W_SCENES else "Workload W",
        "output": {"aspectRatio": "9:16", "resolution": "1080p", "quality": "web", "fps": 30},
        "voice": {"voiceId": "en_US-joe-medium", "speed": 1.0},
        "captions": {"style": "bold_pop", "position": "bottom"},
        "music": dict(MUSIC),
        "scenes": [_scene(index, n_scenes) for index in range(n_scenes)],
    }


def w_document() -> dict[str, Any]:
    """Workload W: 5 scenes, ~30 s."""
    return scaled_document(W_SCENES)


def edited(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with scene 3's narration changed (the incremental-render case)."""
    changed = copy.deepcopy(document)
    changed["scenes"][EDITED_SCENE]["narration"]["text"] = EDITED_NARRATION
    return changed


def narration_texts(n_scenes: int) -> list[str]:
    """Every narration text of `scaled_document(n_scenes)`, without repeats, in order."""
    return list(dict.fromkeys(scene["narration"]["text"] for scene in scaled_document(n_scenes)["scenes"]))
