"""The strict base model every document type derives from, and shared field types."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo


def _field_title(name: str, _info: FieldInfo) -> str:
    return name.replace("_", " ").capitalize()


class StrictModel(BaseModel):
    """Unknown keys rejected, camelCase on the wire, snake_case in Python, checked on assignment.

    Validation from JSON goes through `reelforge.document.loader`, which accepts camelCase keys only (as the schema does);
    Python code may construct models with snake_case names.
    """

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        allow_inf_nan=False,
        validate_assignment=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        str_strip_whitespace=False,
        use_attribute_docstrings=False,
        field_title_generator=_field_title,
    )

    def to_json_dict(self) -> dict:
        """The wire form: camelCase keys, defaults left out so documents stay as the user wrote them."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


def _integral_float_to_int(value: Any) -> Any:
    # JSON has one number type: 3.0 is the integer 3 (as JSON Schema's "integer" says), 3.5 is not.
    if type(value) is float and value.is_integer():
        return int(value)
    return value


INTEGRAL_FLOAT_AS_INT = BeforeValidator(_integral_float_to_int)
Integer = Annotated[int, INTEGRAL_FLOAT_AS_INT]
"""A whole number; 3.0 in JSON counts as 3, as it does for JSON Schema's "integer".

Constraints go on the field (`number: Integer = Field(ge=0)`); inside a union put them before the validator
(`Annotated[int, Field(ge=1), INTEGRAL_FLOAT_AS_INT] | None`), or pydantic writes them to the schema as
unknown keywords ("ge") that JSON Schema ignores.
"""


def exactly_one_of(*keys: str) -> dict:
    """JSON Schema for what `_exactly_one` validators check: exactly one of `keys` is present and not null."""
    return {"oneOf": [{"required": [key], "properties": {key: {"not": {"type": "null"}}}} for key in keys]}


Seconds = Annotated[float, Field(ge=0, le=3600, allow_inf_nan=False)]
PositiveSeconds = Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)]
FadeSeconds = Annotated[float, Field(ge=0, le=30, allow_inf_nan=False)]
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
