"""Stage 3, the timeline: a resolved document compiled into frame-exact tracks (layers, text, audio, captions).

Renderers read only this: `Timeline` and its parts (`tracks`), made by `compile.compile_timeline`; caption
lines and text placement are worked out here (`captions`, `text_layout`), before any renderer runs.
"""

from reelforge.timeline.tracks import (
    AudioClip,
    Cue,
    Layer,
    LayerVisual,
    MusicMix,
    TextEvent,
    TextStyleSpec,
    Timeline,
    timeline_dict,
)

__all__ = ["AudioClip", "Cue", "Layer", "LayerVisual", "MusicMix", "TextEvent", "TextStyleSpec", "Timeline",
           "timeline_dict"]
