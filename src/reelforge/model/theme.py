"""Document-wide look: colors and font used by cards, overlays and captions."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reelforge.model.base import Color, StrictModel

FontFamily = Literal["sans", "serif", "display"]


class Theme(StrictModel):
    """Colors and font shared by cards and text."""

    background: Color = Field(default="#101828", description="Background of cards.")
    primary: Color = Field(default="#ffd23f", description="Accent color: highlights, numbers, the right answer.")
    text: Color = Field(default="#ffffff", description="Main text color.")
    font: FontFamily = Field(default="sans", description="Font family, from the fonts bundled with reelforge.")
