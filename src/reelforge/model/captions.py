"""Captions burned into the video from the narration's words, and their look."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from reelforge.model.base import INTEGRAL_FLOAT_AS_INT, StrictModel

CaptionStyle = Literal["bold_pop", "minimal_white", "karaoke_neon"]
CaptionPosition = Literal["bottom", "center", "top"]

WORDS_PER_LINE: dict[str, int] = {"bold_pop": 3, "minimal_white": 4, "karaoke_neon": 2}


class Captions(StrictModel):
    """Word-timed captions made from the narration."""

    enabled: bool = Field(default=True, description="Burn captions into the video (and add a subtitle track).")
    style: CaptionStyle = Field(
        default="bold_pop",
        description="bold_pop: 3 words a line, big and bold; minimal_white: 4 words, plain; "
        "karaoke_neon: 2 words, the spoken word highlighted.",
    )
    position: CaptionPosition = Field(default="bottom", description="Where captions sit, inside the platform safe area.")
    words_per_line: Annotated[int, Field(ge=1, le=12), INTEGRAL_FLOAT_AS_INT] | None = Field(
        default=None, description="Override the style's words per line."
    )

    def line_words(self) -> int:
        return self.words_per_line or WORDS_PER_LINE[self.style]
