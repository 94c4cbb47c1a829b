"""Timed blocks: the AVS Template JSON v1 form (video, image, text, audio at a start and duration)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from reelforge.model.base import FadeSeconds, PositiveSeconds, Seconds, StrictModel
from reelforge.model.cards import Card
from reelforge.model.sources import Source
from reelforge.model.text import OnScreenText, Placement, TextStyle

Fit = Literal["cover", "contain"]


class _TimedBlock(StrictModel):
    start: Seconds = Field(description="When the block starts, in seconds from the beginning of the video.")
    duration: PositiveSeconds = Field(description="How long the block lasts, in seconds.")

    @property
    def end(self) -> float:
        return self.start + self.duration


class _MediaBlock(_TimedBlock):
    source: Source = Field(description="The media file.")


class VideoBlock(_MediaBlock):
    """A video clip placed on the timeline."""

    type: Literal["video"] = Field(description="Block kind.")
    trim_start: Seconds = Field(default=0.0, description="Seconds skipped at the start of the clip.")
    fit: Fit = Field(default="cover", description="cover: fill the frame, cropping; contain: whole clip over a blurred fill.")
    loop: bool = Field(default=True, description="Loop the clip when it is shorter than the block.")
    volume: float = Field(default=0.0, ge=0, le=2, description="Volume of the clip's own sound (0 mutes it).")


class ImageBlock(_MediaBlock):
    """A still image placed on the timeline."""

    type: Literal["image"] = Field(description="Block kind.")
    fit: Fit = Field(default="cover", description="cover: fill the frame, cropping; contain: whole image over a blurred fill.")


class TextBlock(_TimedBlock):
    """Text drawn over whatever is below it."""

    type: Literal["text"] = Field(description="Block kind.")
    text: OnScreenText = Field(description="The text to show; '\\n' breaks a line.")
    placement: Placement = Field(default_factory=Placement, description="Where the text sits.")
    style: TextStyle = Field(default_factory=TextStyle, description="How the text looks.")


class AudioBlock(_MediaBlock):
    """A sound placed on the timeline."""

    type: Literal["audio"] = Field(description="Block kind.")
    trim_start: Seconds = Field(default=0.0, description="Seconds skipped at the start of the audio file.")
    volume: float = Field(default=1.0, ge=0, le=2, description="Linear gain (1 leaves it as is).")
    fade_in: FadeSeconds = Field(default=0.0, description="Seconds of fade-in (at most 30).")
    fade_out: FadeSeconds = Field(default=0.0, description="Seconds of fade-out (at most 30).")
    loop: bool = Field(default=False, description="Loop the file when it is shorter than the block.")

    @model_validator(mode="after")
    def _fades_fit(self) -> "AudioBlock":
        if self.fade_in + self.fade_out > self.duration:
            raise ValueError("fadeIn + fadeOut is longer than the block's duration")
        return self


class CardBlock(_TimedBlock):
    """An animated card drawn over whatever is below it (transparent around its text and shapes)."""

    type: Literal["card"] = Field(description="Block kind.")
    card: Card = Field(description="Which card and its fields.")


Block = Annotated[
    Union[VideoBlock, ImageBlock, TextBlock, AudioBlock, CardBlock],
    Field(discriminator="type"),
]
