"""Cards in a timeline: where each card's video lives in the cache, and rendering the missing ones.

A card layer's file is content-addressed (card, theme, size, fps, frames), so a backend can name it in
its commands before it exists and render it alongside everything else.
"""

from __future__ import annotations

from concurrent.futures import Executor, Future
from dataclasses import replace
from pathlib import Path

from reelforge.timeline import Layer, LayerVisual, Timeline
from reelforge.workspace import Workspace


def _request(visual: LayerVisual, timeline: Timeline, frames: int) -> dict:
    return dict(width=timeline.width, height=timeline.height, fps=int(timeline.rate.value), frames=frames,
                transparent=visual.transparent, background=visual.colors[0] if visual.colors else None)


def with_card_files(timeline: Timeline, workspace: Workspace) -> Timeline:
    """The timeline with every card layer's `path` set to its (possibly not yet rendered) cache file."""
    from reelforge.cards import card_cache_path

    def attach(layer: Layer) -> Layer:
        visual = layer.visual
        if visual.kind != "card" or visual.path is not None:
            return layer
        path = card_cache_path(visual.card, visual.theme, workspace=workspace,
                               **_request(visual, timeline, layer.range.duration))
        return replace(layer, visual=replace(visual, path=path))

    return replace(timeline, scenes=[attach(l) for l in timeline.scenes], overlays=[attach(l) for l in timeline.overlays])


def card_layers(timeline: Timeline) -> list[Layer]:
    return [l for l in [*timeline.scenes, *timeline.overlays] if l.visual.kind == "card"]


def render_missing_cards(timeline: Timeline, pool: Executor, workspace: Workspace, cancel=None) -> dict[Path, Future]:
    """Submit every card whose file is not in the cache yet; futures by file (one per distinct card)."""
    from reelforge.cards import render_card

    futures: dict[Path, Future] = {}
    for layer in card_layers(timeline):
        visual = layer.visual
        if visual.path is None or visual.path.is_file() or visual.path in futures:
            continue
        futures[visual.path] = pool.submit(render_card, visual.card, visual.theme, workspace=workspace, cancel=cancel,
                                           **_request(visual, timeline, layer.range.duration))
    return futures
