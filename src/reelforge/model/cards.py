"""Animated cards: motion-graphics visuals built from a few typed fields (title, list item, quiz...)."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import ConfigDict, Field, model_validator

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
            # answer < len(choices), which the validator below checks, spelled out for the JSON Schema.
            "allOf": [
                {
                    "if": {"required": ["answer"], "properties": {"answer": {"minimum": answer}}},
                    "then": {"properties": {"choices": {"minItems": answer + 1}}},
                }
                for answer in range(2, MAX_CHOICES)
            ]
        }
    )

    card: Literal["quiz"] = Field(description="Card kind.")
    question: CardBody = Field(description="The question.")
    choices: list[CardLine] = Field(min_length=2, max_length=MAX_CHOICES, description="Two to four possible answers.")
    answer: Integer = Field(ge=0, le=MAX_CHOICES - 1, description="Index (from 0) of the right choice.")
    countdown: Integer = Field(default=3, ge=0, le=10, description="Seconds counted down before the answer shows.")

    @model_validator(mode="after")
    def _answer_is_a_choice(self) -> "QuizCard":
        if self.answer >= len(self.choices):
            raise ValueError(f"answer {self.answer} is not a choice: there are {len(self.choices)} choices (0 to {len(self.choices) - 1})")
        return self


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


BUILTIN_CARDS = (TitleCard, ListItemCard, QuizCard, StatCard, QuoteCard, EndCard)


def _registered_cards() -> tuple[type, ...]:
    """The built-in card models plus those of installed `reelforge.cards` plug-ins (they join the schema).

    A document only ever names a card; the registry decides what draws it."""
    from reelforge.cards.registry import card_specs  # loads without this package: no import cycle

    models = tuple(spec.model for spec in card_specs())
    return models if models else BUILTIN_CARDS


Card = Annotated[Union[_registered_cards()], Field(discriminator="card")]
