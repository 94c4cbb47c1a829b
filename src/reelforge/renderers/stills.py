"""Still pictures the renderer generates itself (gradients), written once into the cache as PNG."""

from __future__ import annotations

import math
from pathlib import Path

from reelforge.colors import rgb
from reelforge.fileio import atomic_output
from reelforge.workspace import content_key


def gradient_png(colors: tuple[str, ...], angle: float, width: int, height: int, folder: Path) -> Path:
    """A linear gradient through `colors` along `angle` (0° up, 90° right, 180° down), dithered against banding,
    written once into `folder` (a workspace's `folder("stills")`) under a name made of its content."""
    import numpy as np
    from PIL import Image

    target = Path(folder) / f"gradient-{content_key(colors, angle, width, height)[:24]}.png"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    radians = math.radians(angle)
    dx, dy = math.sin(radians), -math.cos(radians)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    projection = (xs - width / 2) * dx + (ys - height / 2) * dy
    half = abs(dx) * width / 2 + abs(dy) * height / 2
    position = np.clip((projection / max(half, 1e-6) + 1) / 2, 0, 1) * (len(colors) - 1)
    stops = np.array([rgb(c) for c in colors], dtype=np.float32)
    low = np.floor(position).astype(np.int32).clip(0, len(colors) - 2)
    frac = (position - low)[..., None]
    pixels = stops[low] * (1 - frac) + stops[low + 1] * frac
    rng = np.random.default_rng(0)
    pixels += rng.uniform(-0.5, 0.5, size=pixels.shape).astype(np.float32)
    image = Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8))
    with atomic_output(target, suffix=".png") as temp:
        image.save(temp, format="PNG")
    return target
