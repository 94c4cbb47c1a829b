"""Resolve a loaded document: find and probe every asset, speak every narration, so every scene's length is known.

The result still speaks the document's language (scenes, blocks); `reelforge.timeline.compile` turns it into
a timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from reelforge.document.lengths import scene_frames
from reelforge.document.loader import LoadedDocument
from reelforge.model import Document, Scene
from reelforge.resolve.media import MediaInfo, probe
from reelforge.resolve.narration import narrations
from reelforge.resolve.policy import SourcePolicy
from reelforge.resolve.sources import SourceResolver, check_kind, file_sources
from reelforge.speech import Speech
from reelforge.timebase import Rate
from reelforge.workspace import Workspace


@dataclass
class ResolvedScene:
    scene: Scene
    frames: int
    speech: Speech | None = None
    media: MediaInfo | None = None


@dataclass
class ResolvedDocument:
    document: Document
    rate: Rate
    scenes: list[ResolvedScene] = field(default_factory=list)
    block_media: dict[int, MediaInfo] = field(default_factory=dict)
    music: MediaInfo | None = None
    base_dir: Path = Path(".")


def resolve_document(
    loaded: LoadedDocument,
    workspace: Workspace,
    *,
    assets: Path | None = None,
    on_step: Callable[[str], None] | None = None,
    policy: SourcePolicy | None = None,
) -> ResolvedDocument:
    """Resolve every asset and narration of a loaded document, caching in `workspace`, reaching only what
    `policy` allows (default: everything the user can read or fetch)."""
    document = loaded.document
    rate = Rate.of(document.output.fps)
    sources = SourceResolver(document, loaded.base_dir, assets, workspace, policy)
    resolved = ResolvedDocument(document, rate, base_dir=loaded.base_dir)
    try:
        sources.prefetch(file_sources(document))
        _resolve_into(resolved, sources, workspace, on_step)
    finally:
        sources.close()
    return resolved


def _resolve_into(resolved: ResolvedDocument, sources: SourceResolver, workspace: Workspace, on_step) -> None:
    document = resolved.document
    rate = resolved.rate
    speeches = narrations(document, sources, workspace, on_step)
    for index, scene in enumerate(document.scenes):
        where = f"scenes[{index}]"
        media = None
        if scene.visual.type in ("video", "image"):
            media = sources.media(scene.visual.source, f"{where}.visual.source")
            check_kind(media, scene.visual.type, f"{where}.visual.source")
        speech = speeches.get(index)
        last = index == len(document.scenes) - 1
        frames = scene_frames(scene, speech.duration if speech is not None else None, rate, last)
        resolved.scenes.append(ResolvedScene(scene, frames, speech, media))

    for index, block in enumerate(document.blocks):
        if block.type in ("video", "image", "audio"):
            media = sources.media(block.source, f"blocks[{index}].source")
            check_kind(media, block.type, f"blocks[{index}].source")
            resolved.block_media[index] = media

    music = document.music
    if music is not None and not music.is_silent:
        if music.source is not None:
            resolved.music = sources.media(music.source, "music.source")
            check_kind(resolved.music, "audio", "music.source")
        else:
            from reelforge.resolve.music import mood_loop

            path = mood_loop(music.mood or "calm", workspace.folder("music"))
            resolved.music = probe(path, "music.mood", workspace)
