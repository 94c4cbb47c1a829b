"""Animated cards (title, list item, quiz, stat, quote, end and plug-ins) rendered with manim into cached videos.

Importing this package does not import manim; rendering runs manim in a worker process.
"""

from reelforge.cards.errors import CardError, CardPluginWarning
from reelforge.cards.registry import CardSpec, card_names, card_specs, get_spec, spec_for
from reelforge.cards.render import card_cache_path, render_card

__all__ = ["CardError", "CardPluginWarning", "CardSpec", "card_cache_path", "card_names", "card_specs", "get_spec",
           "render_card", "spec_for"]
