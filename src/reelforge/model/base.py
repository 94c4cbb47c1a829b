"""The strict base model every document type derives from, and shared field types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class StrictModel(BaseModel):
    """Unknown keys rejected, camelCase on the wire, snake_case in Python, checked on assignment."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        validate_assignment=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        str_strip_whitespace=False,
        use_attribute_docstrings=False,
    )

    def to_json_dict(self) -> dict:
        """The wire form: camelCase keys, defaults left out so documents stay as the user wrote them."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


Seconds = Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)]
PositiveSeconds = Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)]
Fraction01 = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Color = Annotated[
    str,
    Field(
        pattern=r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$",
        description="A color as #rgb, #rgba, #rrggbb or #rrggbbaa.",
        examples=["#ffffff", "#000000cc"],
    ),
]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
