"""Animated cards: motion-graphics visuals built from a few typed fields (title, list item, quiz...)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationInfo, field_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from reelforge.model.base import Integer, StrictModel

CardLine = Annotated[str, Field(min_length=1, max_length=160)]
CardBody = Annotated[str, Field(min_length=1, max_length=400)]
MAX_CHOICES = 4


class TitleCard(StrictModel):
    """A title that writes itself on, with an optional subtitle."""

    card: Literal["title"] = Field(description="Card kind.")
    title: CardLine = Field(description="The title.")
    subtitle: CardLine | None = Field(default=None, description="A smaller line under the title.")


class ListItemCard(StrictModel):
    """A numbered listicle item."""

    card: Literal["list_item"] = Field(description="Card kind.")
    number: Integer = Field(ge=0, le=999, description="The item's number, shown large.")
    title: CardLine = Field(description="The item's headline.")
    body: CardBody | None = Field(default=None, description="One or two lines under the headline.")


class QuizCard(StrictModel):
    """A question whose choices appear, then a countdown, then the answer revealed."""

    model_config = ConfigDict(
        json_schema_extra={
            # answer < len(choices), which the validator below checks, spelled out for the JSON Schema (and reported,
            # as there, at `answer`).
            "allOf": [
                {
                    "if": {"required": ["choices"], "properties": {"choices": {"maxItems": count}}},
                    "then": {"properties": {"answer": {"maximum": count - 1}}},
                }
                for count in range(2, MAX_CHOICES)
            ]
        }
    )

    card: Literal["quiz"] = Field(description="Card kind.")
    question: CardBody = Field(description="The question.")
    choices: list[CardLine] = Field(min_length=2, max_length=MAX_CHOICES, description="Two to four possible answers.")
    answer: Integer = Field(ge=0, le=MAX_CHOICES - 1, description="Index (from 0) of the right choice.")
    countdown: Integer = Field(default=3, ge=0, le=10, description="Seconds counted down before the answer shows.")

    @field_validator("answer")
    @classmethod
    def _answer_is_a_choice(cls, answer: int, info: ValidationInfo) -> int:
        choices = info.data.get("choices")
        if choices is not None and answer >= len(choices):
            raise ValueError(f"answer {answer} is not a choice: there are {len(choices)} choices (0 to {len(choices) - 1})")
        return answer


class StatCard(StrictModel):
    """A big number counting up, with a label."""

    card: Literal["stat"] = Field(description="Card kind.")
    value: float = Field(ge=-1e12, le=1e12, allow_inf_nan=False, description="The number counted up to.")
    decimals: Integer = Field(default=0, ge=0, le=3, description="Digits after the decimal point.")
    prefix: Annotated[str, Field(max_length=8)] = Field(default="", description="Text before the number, e.g. '$'.")
    suffix: Annotated[str, Field(max_length=8)] = Field(default="", description="Text after the number, e.g. '%'.")
    label: CardLine | None = Field(default=None, description="What the number means.")


class QuoteCard(StrictModel):
    """A quotation and who said it."""

    card: Literal["quote"] = Field(description="Card kind.")
    quote: CardBody = Field(description="The quotation, without quote marks.")
    author: CardLine | None = Field(default=None, description="Who said it.")


class EndCard(StrictModel):
    """A closing card with a call to action."""

    card: Literal["end"] = Field(description="Card kind.")
    title: CardLine = Field(description="The closing line, e.g. 'Thanks for watching'.")
    call_to_action: CardLine | None = Field(default=None, description="What the viewer should do next, e.g. 'Follow for more'.")


BUILTIN_CARDS = (TitleCard, ListItemCard, QuizCard, QuoteCard, StatCard, EndCard)


class _RegisteredCard:
    """The type of a `card` field: any card the registry knows, validated by that card's own model.

    The set of cards is not fixed when this module is imported (plug-ins add cards through the `reelforge.cards`
    entry points), and importing the document model runs no plug-in code: the registry is read the first time a
    card is validated or the schema is written, and again after `reelforge.cards.registry.refresh()`, so what the
    registry lists is exactly what documents accept. A document only ever names a card; the registry decides what
    draws it. Errors keep their JSON paths (`scenes[0].visual.card.title`)."""

    @classmethod
    def current_type(cls) -> Any:
        """The union of the cards registered now (what `reelforge.document.jsonpath` walks to locate errors)."""
        from reelforge.cards.registry import card_union

        return card_union()

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: Any, info: core_schema.ValidationInfo) -> BaseModel:
            from reelforge.cards.registry import card_models, card_union_adapter

            if isinstance(value, BaseModel) and type(value) in card_models():
                return value
            if isinstance(value, BaseModel):
                value = value.model_dump(by_alias=True)
            # the wire form (camelCase) from JSON, either spelling from Python, as the rest of the model does
            by_name = bool(info.config.get("validate_by_name", True)) if info.config else True
            return card_union_adapter().validate_python(value, by_alias=True, by_name=by_name)

        return core_schema.with_info_plain_validator_function(
            validate,
            # a card serializes as its own model does (camelCase keys, its own defaults)
            serialization=core_schema.wrap_serializer_function_ser_schema(
                lambda value, serialize: serialize(value), schema=core_schema.any_schema()),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        from reelforge.cards.registry import card_union_adapter

        return handler(card_union_adapter().core_schema)


Card = Annotated[_RegisteredCard, Field(description="Which card and its fields.")]
