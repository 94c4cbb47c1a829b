"""Where media comes from: an uploaded file name, a URL, or a path relative to the document."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from reelforge.model.base import StrictModel, exactly_one_of

UPLOAD_NAME_PATTERN = r"^[^/\\.\x00-\x1f][^/\\\x00-\x1f]{0,254}$"

UploadName = Annotated[
    str,
    Field(
        pattern=UPLOAD_NAME_PATTERN,
    ),
]
Url = Annotated[
    str,
    Field(
        # Control characters are named as well as \s: Python's \s takes \x1c-\x1f, Rust's does not, ECMA's takes \ufeff.
        pattern=r"^[hH][tT][tT][pP][sS]?://[^\s\x00-\x1f\x7f\ufeff/?#]+[^\s\x00-\x1f\x7f\ufeff]*$",
        max_length=2048,
    ),
]
RelativePath = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1024,
        pattern=r"^[^\x00-\x1f]+$",
    ),
]

SourceKind = Literal["uploadName", "url", "path"]


class Source(StrictModel):
    """A media file: exactly one of `uploadName`, `url` or `path`."""

    model_config = ConfigDict(json_schema_extra=exactly_one_of("uploadName", "url", "path"))

    upload_name: UploadName | None = Field(
        default=None,
        description="A bare file name looked up in the assets folder (default: assets/ beside the document). "
        "Never a path: no '/', '\\' or leading '.'.",
        examples=["intro.mp4"],
    )
    url: Url | None = Field(
        default=None,
        description="An http:// or https:// URL, fetched once into the cache at render time.",
        examples=["https://example.com/clip.mp4"],
    )
    path: RelativePath | None = Field(
        default=None,
        description="A file path, relative to the document's folder.",
        examples=["media/clip.mp4"],
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> "Source":
        given = [name for name in ("upload_name", "url", "path") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("a source needs exactly one of 'uploadName', 'url' or 'path'")
        return self

    @property
    def kind(self) -> SourceKind:
        if self.upload_name is not None:
            return "uploadName"
        return "url" if self.url is not None else "path"

    @property
    def value(self) -> str:
        return self.upload_name or self.url or self.path or ""

    def label(self) -> str:
        """A short human name: the file name or URL."""
        return self.value
