"""The output block: frame shape, size, quality and rate of the rendered video."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reelforge.model.base import Integer, StrictModel

AspectRatio = Literal["16:9", "9:16", "1:1", "4:5"]
Resolution = Literal["720p", "1080p", "4k"]
Quality = Literal["draft", "web", "studio"]

# Short side in pixels for each resolution name.
SHORT_SIDE = {"720p": 720, "1080p": 1080, "4k": 2160}
ASPECT = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1), "4:5": (4, 5)}


class Output(StrictModel):
    """What the rendered file looks like. AVS request bodies carry `aspectRatio` and `quality` only."""

    aspect_ratio: AspectRatio = Field(default="9:16", description="Frame shape: 16:9 landscape, 9:16 vertical short, 1:1, 4:5.")
    resolution: Resolution = Field(default="1080p", description="Size of the frame's shorter side: 720, 1080 or 2160 pixels.")
    quality: Quality = Field(
        default="web",
        description="draft: fast preview at reduced size; web: for upload; studio: high bitrate for further editing.",
    )
    fps: Integer = Field(default=30, ge=12, le=60, description="Frames per second.")

    def frame_size(self) -> tuple[int, int]:
        """Width and height in pixels at full quality (both even, as H.264 yuv420p needs)."""
        w_ratio, h_ratio = ASPECT[self.aspect_ratio]
        short = SHORT_SIDE[self.resolution]
        if w_ratio >= h_ratio:
            height, width = short, short * w_ratio / h_ratio
        else:
            width, height = short, short * h_ratio / w_ratio
        return int(round(width / 2)) * 2, int(round(height / 2)) * 2
