"""What a scene shows: a video clip, a still with camera motion, a color, a gradient or a card."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from reelforge.model.base import Color, Seconds, StrictModel
from reelforge.model.blocks import Fit
from reelforge.model.cards import Card
from reelforge.model.sources import Source

Motion = Literal["none", "zoom_in", "zoom_out", "pan_left", "pan_right", "pan_up", "pan_down"]


class VideoVisual(StrictModel):
    """A video clip, trimmed, looped when shorter than the scene."""

    type: Literal["video"] = Field(description="Visual kind.")
    source: Source = Field(description="The clip.")
    trim_start: Seconds = Field(default=0.0, description="Seconds skipped at the start of the clip.")
    trim_end: Seconds | None = Field(default=None, description="Where in the clip to stop (seconds); the clip's end when unset.")
    fit: Fit = Field(default="cover", description="cover: fill the frame, cropping; contain: whole clip over a blurred fill.")
    loop: bool = Field(default=True, description="Loop the clip when it is shorter than the scene.")
    volume: float = Field(default=0.0, ge=0, le=2, description="Volume of the clip's own sound (0 mutes it).")

    @model_validator(mode="after")
    def _trim_order(self) -> "VideoVisual":
        if self.trim_end is not None and self.trim_end <= self.trim_start:
            raise ValueError("trimEnd must be after trimStart")
        return self


class ImageVisual(StrictModel):
    """A still image with an optional smooth camera motion."""

    type: Literal["image"] = Field(description="Visual kind.")
    source: Source = Field(description="The image.")
    motion: Motion = Field(default="zoom_in", description="Camera motion over the scene (Ken Burns).")
    motion_amount: float = Field(default=0.15, ge=0, le=1, description="How far the camera moves: 0.15 zooms by 15%.")
    fit: Fit = Field(default="cover", description="cover: fill the frame, cropping; contain: whole image over a blurred fill.")


class ColorVisual(StrictModel):
    """A solid color."""

    type: Literal["color"] = Field(description="Visual kind.")
    color: Color = Field(description="The color.")


class GradientVisual(StrictModel):
    """A linear gradient between two to four colors."""

    type: Literal["gradient"] = Field(description="Visual kind.")
    colors: list[Color] = Field(min_length=2, max_length=4, description="Colors from the start to the end of the gradient.")
    angle: float = Field(default=180.0, ge=0, lt=360, description="Direction in degrees: 0 runs up, 90 right, 180 down.")


class CardVisual(StrictModel):
    """An animated motion-graphics card."""

    type: Literal["card"] = Field(description="Visual kind.")
    card: Card = Field(description="Which card and its fields.")
    background: Color | None = Field(default=None, description="Background color; the document theme's when unset.")


Visual = Annotated[
    Union[VideoVisual, ImageVisual, ColorVisual, GradientVisual, CardVisual],
    Field(discriminator="type"),
]


def visual_label(visual: "VideoVisual | ImageVisual | ColorVisual | GradientVisual | CardVisual") -> str:
    """A short name for lists: the file name, the color, or the card kind."""
    if isinstance(visual, (VideoVisual, ImageVisual)):
        return visual.source.label()
    if isinstance(visual, ColorVisual):
        return visual.color
    if isinstance(visual, GradientVisual):
        return "→".join(visual.colors)
    return f"card:{visual.card.card}"
