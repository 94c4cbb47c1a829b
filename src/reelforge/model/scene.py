"""A scene: narration, a visual, text overlays, a duration and the transition into the next scene."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from reelforge.model.audio import Narration
from reelforge.model.base import PositiveSeconds, Seconds, StrictModel
from reelforge.model.cards import Card
from reelforge.model.text import OnScreenText, Placement, TextStyle
from reelforge.model.visuals import Visual

SCENE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
SceneId = Annotated[str, Field(pattern=SCENE_ID_PATTERN, description="Stable id: letters, digits, '-' and '_'.")]
TransitionKind = Literal[
    "cut", "crossfade", "fade_black",
    "slide_left", "slide_right", "slide_up", "slide_down",
    "wipe_left", "wipe_right", "wipe_up", "wipe_down",
]


class TextOverlay(StrictModel):
    """Text shown over a scene's visual, for all of the scene or part of it."""

    text: OnScreenText = Field(description="The text; '\\n' breaks a line.")
    start: Seconds = Field(default=0.0, description="Seconds after the scene starts.")
    duration: PositiveSeconds | None = Field(default=None, description="Seconds shown; to the scene's end when unset.")
    placement: Placement = Field(default_factory=lambda: Placement(anchor="top", y=0.12), description="Where the text sits.")
    style: TextStyle = Field(default_factory=TextStyle, description="How the text looks.")


class CardOverlay(StrictModel):
    """An animated card drawn over the scene's visual, transparent around its text and shapes."""

    card: Card = Field(description="Which card and its fields.")
    start: Seconds = Field(default=0.0, description="Seconds after the scene starts.")
    duration: PositiveSeconds | None = Field(default=None, description="Seconds shown; to the scene's end when unset.")


class Transition(StrictModel):
    """How this scene hands over to the next one. Narration and captions stay in sync across it."""

    type: TransitionKind = Field(default="cut", description="The transition effect.")
    duration: float = Field(default=0.5, ge=0.1, le=2.0, description="Seconds the two scenes overlap (ignored for cut).")


class Scene(StrictModel):
    """One narrated scene."""

    model_config = ConfigDict(
        json_schema_extra={
            # What `_silent_scene_needs_duration` checks: without narration, `duration` is a number.
            "if": {"properties": {"narration": {"type": "null"}}},
            "then": {"required": ["duration"], "properties": {"duration": {"type": "number"}}},
        }
    )

    id: SceneId
    title: Annotated[str, Field(max_length=200)] | None = Field(default=None, description="A name for the scene, for editors and chapter lists.")
    narration: Narration | None = Field(default=None, description="What is said; a silent scene when unset.")
    visual: Visual = Field(description="What is shown.")
    overlays: list[TextOverlay] = Field(default_factory=list, max_length=10, description="Text over the visual.")
    card_overlay: CardOverlay | None = Field(default=None, description="An animated card over the visual.")
    duration: PositiveSeconds | Literal["auto"] = Field(
        default="auto",
        validate_default=True,  # "auto" by default must still be checked against a missing narration
        description="'auto': the narration's length plus padding; or fixed seconds.",
    )
    padding: float = Field(default=0.4, ge=0, le=5, description="With duration 'auto': seconds of quiet after the narration.")
    transition: Transition | None = Field(default=None, description="Transition into the next scene; a cut when unset.")

    @field_validator("duration")
    @classmethod
    def _silent_scene_needs_duration(cls, duration: float | str, info: ValidationInfo) -> float | str:
        if duration == "auto" and "narration" in info.data and info.data["narration"] is None:
            raise ValueError("a scene without narration needs a fixed 'duration' in seconds")
        return duration
