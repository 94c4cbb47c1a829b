"""Sound settings: the narration of a scene, the voice that speaks it, and background music."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from reelforge.model.base import Fraction01, StrictModel, exactly_one_of
from reelforge.model.sources import Source

NarrationText = Annotated[str, Field(min_length=1, max_length=5000)]
Mood = Literal["upbeat", "calm", "dramatic", "none"]


class Narration(StrictModel):
    """What is said over a scene: `text` spoken by the voice, or `audio` the user recorded."""

    model_config = ConfigDict(
        json_schema_extra={
            **exactly_one_of("text", "audio"),
            # What `_transcript_goes_with_audio` checks, reported as there at `transcript`.
            "if": {"required": ["text"], "properties": {"text": {"not": {"type": "null"}}}},
            "then": {"properties": {"transcript": {"type": "null"}}},
        }
    )

    text: NarrationText | None = Field(default=None, description="Text spoken by the document's voice.")
    audio: Source | None = Field(default=None, description="A recording used as the narration instead of a voice.")
    transcript: NarrationText | None = Field(
        default=None, description="With `audio`: the words said, aligned to the recording for word-exact captions "
        "(without it, the words are recognized from the recording)."
    )

    @field_validator("transcript")
    @classmethod
    def _transcript_goes_with_audio(cls, transcript: str | None, info: ValidationInfo) -> str | None:
        if transcript is not None and info.data.get("text") is not None:
            raise ValueError("'transcript' goes with 'audio'; with 'text' the text is the transcript")
        return transcript

    @model_validator(mode="after")
    def _one_kind(self) -> "Narration":
        if (self.text is None) == (self.audio is None):
            raise ValueError("narration needs exactly one of 'text' or 'audio'")
        return self

    @property
    def words_text(self) -> str:
        """The words spoken, when known."""
        return self.text or self.transcript or ""


class Voice(StrictModel):
    """The voice that speaks narration text."""

    engine: Literal["piper"] = Field(default="piper", description="Speech engine; piper runs offline.")
    voice_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")] = Field(
        default="en_US-joe-medium", description="The voice: a bundled voice or an .onnx voice in the voices folder."
    )
    speed: float = Field(default=1.0, ge=0.5, le=2.0, description="Speaking rate: 1 is normal, 1.2 is 20% faster.")


class Music(StrictModel):
    """Background music: a file, or a mood preset that reelforge composes offline."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("source", "mood"))

    source: Source | None = Field(default=None, description="A music file; looped or trimmed to the video's length.")
    mood: Mood | None = Field(default=None, description="A generated track: upbeat, calm, dramatic, or none for silence.")
    volume: Fraction01 = Field(default=0.25, description="Music level (0 to 1) when nobody speaks.")
    ducking: bool = Field(default=True, description="Lower the music under narration.")
    duck_amount: float = Field(default=12.0, ge=0, le=40, description="How many dB the music drops under narration.")
    fade_in: float = Field(default=1.0, ge=0, le=10, description="Seconds of fade-in at the start.")
    fade_out: float = Field(default=2.0, ge=0, le=10, description="Seconds of fade-out at the end.")

    @model_validator(mode="after")
    def _source_or_mood(self) -> "Music":
        if (self.source is None) == (self.mood is None):
            raise ValueError("music takes exactly one of 'source' (a file) or 'mood' (upbeat, calm, dramatic, none)")
        return self

    @property
    def is_silent(self) -> bool:
        return self.mood == "none"
