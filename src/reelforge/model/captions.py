"""Captions burned into the video from the narration's words, and their look."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from reelforge.model.base import INTEGRAL_FLOAT_AS_INT, StrictModel

CaptionStyle = Literal["bold_pop", "minimal_white", "karaoke_neon"]
CaptionPosition = Literal["bottom", "center", "top"]

WORDS_PER_LINE: dict[str, int] = {"bold_pop": 3, "minimal_white": 4, "karaoke_neon": 2}

# The shortest a caption line stays on screen, per style, in seconds, for the style's words per line. A reader
# fixates about once a word, 200-250 ms on average (Rayner 1998, "Eye movements in reading and information
# processing"): 1/4 s a word, so 0.5 s for karaoke_neon's 2 words (whose 0.27 s lines flashed by) and 0.75 s for
# bold_pop's 3; minimal_white, the subtitle-like style, 1 s for 4 words, above Netflix's 5/6 s minimum subtitle
# event (Timed Text Style Guide: General Requirements). A line spoken faster merges with a neighbour of its sentence
# (`reelforge.timeline.captions.group_words`).
MIN_CUE_SECONDS: dict[str, float] = {"bold_pop": 0.75, "minimal_white": 1.0, "karaoke_neon": 0.5}


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

    def min_cue_seconds(self) -> float:
        """The shortest a line may show: the style's minimum, scaled to its words per line."""
        return MIN_CUE_SECONDS[self.style] * self.line_words() / WORDS_PER_LINE[self.style]
