"""The document model: what the user wrote, validated. Split by concept, re-exported here."""

from reelforge.model.audio import Music, Narration, Voice
from reelforge.model.base import StrictModel
from reelforge.model.blocks import AudioBlock, Block, ImageBlock, TextBlock, VideoBlock
from reelforge.model.captions import Captions
from reelforge.model.cards import Card, EndCard, ListItemCard, QuizCard, QuoteCard, StatCard, TitleCard
from reelforge.model.document import CURRENT_VERSION, Document, DocumentFile, RenderRequest
from reelforge.model.output import Output
from reelforge.model.scene import Scene, TextOverlay, Transition
from reelforge.model.sources import Source
from reelforge.model.text import Placement, TextStyle
from reelforge.model.theme import Theme
from reelforge.model.visuals import CardVisual, ColorVisual, GradientVisual, ImageVisual, VideoVisual, Visual

__all__ = [
    "AudioBlock", "Block", "Captions", "Card", "CardVisual", "ColorVisual", "CURRENT_VERSION", "Document",
    "DocumentFile", "EndCard", "GradientVisual", "ImageBlock", "ImageVisual", "ListItemCard", "Music", "Narration",
    "Output", "Placement", "QuizCard", "QuoteCard", "RenderRequest", "Scene", "Source", "StatCard", "StrictModel",
    "TextBlock", "TextOverlay", "TextStyle", "Theme", "TitleCard", "Transition", "VideoBlock", "VideoVisual",
    "Visual", "Voice",
]
