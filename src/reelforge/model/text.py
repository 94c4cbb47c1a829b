"""How text on screen looks and where it sits: shared by text blocks, overlays and cards."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from reelforge.model.base import Color, Fraction01, StrictModel

Anchor = Literal[
    "top_left", "top", "top_right",
    "left", "center", "right",
    "bottom_left", "bottom", "bottom_right",
]
TextAlign = Literal["left", "center", "right"]
OnScreenText = Annotated[str, Field(min_length=1, max_length=500)]

TITLE_FONT_SIZE = 0.08
"""The line height of a title overlay (what `new --from-script` and the editor's "add overlay" make), as a fraction of
the frame's shorter side: 86 px in a 1080x1920 short, 58 px at 720p. TikTok, Instagram and CapCut publish no pixel
sizes for their text tools (CapCut's size unit is its own), so the figures are creators' guides for 1080x1920:
60-75 px for standard text, 75-95 px for bold text, 100 px as the most before text hides the picture
(blitzcutai.com, "Best caption size for Instagram Reels"); 5-8% of the width, 54-86 px (bakecut.com, "Shorts
captions guide"). Our bold_pop captions are 0.085 (92 px). The former 0.055 (59 px) sat at the guides' "minimum
readable, secondary text only" and well under the captions, too small for the line that names a scene."""


class Placement(StrictModel):
    """Where a box sits in the frame: an anchor, nudged by an offset, with a maximum width."""

    anchor: Anchor = Field(default="center", description="The point of the frame the text is attached to.")
    x: float = Field(default=0.0, ge=-1, le=1, description="Horizontal offset as a fraction of the frame width.")
    y: float = Field(default=0.0, ge=-1, le=1, description="Vertical offset as a fraction of the frame height.")
    max_width: Fraction01 = Field(
        default=0.86, gt=0, description="Widest the text may be, as a fraction of the frame width; longer text wraps."
    )


class TextStyle(StrictModel):
    """Font size, colors, outline and background box of on-screen text."""

    font_size: float = Field(
        default=0.06, gt=0, le=0.5, description="Height of a line as a fraction of the frame's shorter side."
    )
    color: Color = Field(default="#ffffff", description="Text fill color.")
    bold: bool = Field(default=True, description="Use the bold weight of the font.")
    align: TextAlign = Field(default="center", description="Alignment of wrapped lines.")
    outline_color: Color = Field(default="#000000", description="Color of the outline around the glyphs.")
    outline_width: float = Field(
        default=0.0, ge=0, le=0.05, description="Outline thickness as a fraction of the font size times ten."
    )
    box_color: Color | None = Field(default=None, description="Color of a box drawn behind the text; none when unset.")
    box_padding: float = Field(default=0.3, ge=0, le=2, description="Padding of the box, as a fraction of the font size.")
