"""The root document (version 1) and the AVS request body that wraps a template with output settings."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import ConfigDict, Discriminator, Field, Tag, model_validator

from reelforge.model.audio import Music, Voice
from reelforge.model.base import PositiveSeconds, StrictModel
from reelforge.model.blocks import Block
from reelforge.model.captions import Captions
from reelforge.model.output import Output
from reelforge.model.scene import Scene
from reelforge.model.theme import Theme

CURRENT_VERSION = "1"
MAX_SCENES = 50
MAX_BLOCKS = 200
MIN_TOTAL_SECONDS = 1.0
MAX_TOTAL_SECONDS = 600.0


SchemaReference = Annotated[str, Field(min_length=1, max_length=2000)] | None
SCHEMA_REFERENCE_HELP = ("The JSON Schema this file follows, for editors' completion and checks "
                         "(schema/template.v1.schema.json); reelforge itself ignores it.")


class Document(StrictModel):
    """A reelforge video: narrated `scenes`, timed `blocks` (AVS Template JSON v1), or both."""

    model_config = ConfigDict(
        json_schema_extra={
            # What `_has_content` checks: at least one scene or one block.
            "anyOf": [
                {"required": ["scenes"], "properties": {"scenes": {"minItems": 1}}},
                {"required": ["blocks"], "properties": {"blocks": {"minItems": 1}}},
            ]
        }
    )

    json_schema: SchemaReference = Field(default=None, alias="$schema", description=SCHEMA_REFERENCE_HELP)
    version: Literal["1"] = Field(description="Format version of this document.")
    name: Annotated[str, Field(min_length=1, max_length=200)] = Field(description="The video's name.")
    description: Annotated[str, Field(max_length=2000)] | None = Field(default=None, description="Notes about the video.")
    language: Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")] = Field(
        default="en", description="Language of the narration, as a BCP 47 tag (en, en-US, de)."
    )
    output: Output = Field(default_factory=Output, description="Frame shape, size, quality and rate.")
    voice: Voice = Field(default_factory=Voice, description="The voice that speaks narration text.")
    captions: Captions = Field(default_factory=Captions, description="Captions made from the narration.")
    music: Music | None = Field(default=None, description="Background music; none when unset.")
    theme: Theme = Field(default_factory=Theme, description="Colors and font of cards and text.")
    assets_dir: Annotated[str, Field(min_length=1, max_length=1024, pattern=r"^[^\x00-\x1f]+$")] | None = Field(
        default=None, description="Folder searched for `uploadName` files, relative to the document; 'assets' when unset."
    )
    duration: PositiveSeconds | None = Field(
        default=None, description="Fixed total length in seconds; by default the scenes' and blocks' extent."
    )
    scenes: list[Scene] = Field(default_factory=list, max_length=MAX_SCENES, description="Narrated scenes, played in order.")
    blocks: list[Block] = Field(
        default_factory=list,
        max_length=MAX_BLOCKS,
        description="Timed blocks (AVS Template JSON v1), placed by start time over the scenes; later blocks draw on top.",
    )

    @model_validator(mode="after")
    def _has_content(self) -> "Document":
        if not self.scenes and not self.blocks:
            raise ValueError("a document needs at least one scene or one block")
        return self

    def scene_index(self, scene_id: str) -> int:
        for index, scene in enumerate(self.scenes):
            if scene.id == scene_id:
                return index
        raise KeyError(scene_id)


class RenderRequest(StrictModel):
    """The JSON-to-video API's request body: a template plus output settings, which override the template's."""

    json_schema: SchemaReference = Field(default=None, alias="$schema", description=SCHEMA_REFERENCE_HELP)
    template: Document = Field(description="The template to render.")
    output: Output | None = Field(default=None, description="Output settings for this render.")

    def to_document(self) -> Document:
        if self.output is None:
            return self.template
        merged = {**self.template.output.to_json_dict(), **self.output.to_json_dict()}
        return self.template.model_copy(update={"output": Output.model_validate(merged)})


def _root_kind(value: Any) -> str:
    if isinstance(value, dict) and "template" in value and "version" not in value:
        return "request"
    if isinstance(value, RenderRequest):
        return "request"
    return "document"


DocumentFile = Annotated[
    Union[Annotated[Document, Tag("document")], Annotated[RenderRequest, Tag("request")]],
    Discriminator(_root_kind),
]
"""What a reelforge JSON file holds: a document, or an AVS request body wrapping one."""
