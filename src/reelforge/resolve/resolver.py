"""Resolve a document: find and probe every asset, run TTS, decide every scene's exact length.

The result still speaks the document's language (scenes, blocks); `compile.py` turns it into a timeline.
"""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

from reelforge.document.checks import assets_folder
from reelforge.document.loader import LoadedDocument
from reelforge.resolve.media import MediaError, MediaInfo, fetch_url, probe
from reelforge.model import Document, Scene, Source
from reelforge.speech import Speech, WordTiming
from reelforge.timebase import Rate, to_fraction


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


class SourceResolver:
    """Turns a Source into a probed local file; `where` (a JSON path) names it in errors."""

    def __init__(self, document: Document, base_dir: Path, assets: Path | None):
        self.base_dir = base_dir.resolve()
        self.assets = assets_folder(document, self.base_dir, assets.resolve() if assets else None)
        self._probed: dict[Path, MediaInfo] = {}
        self._pending: dict[Path, Future] = {}
        self._pool: ThreadPoolExecutor | None = None

    def prefetch(self, sources: list[Source]) -> None:
        """Start probing local files in the background (they are read while narration is synthesized);
        `media()` waits for them, and any error is still raised there, in document order."""
        for source in sources:
            if source.url is not None:
                continue
            try:
                path = self.path(source, "")
            except MediaError:
                continue  # reported by media(), with its JSON path
            if path not in self._pending:
                self._pool = self._pool or ThreadPoolExecutor(max_workers=2, thread_name_prefix="probe")
                self._pending[path] = self._pool.submit(probe, path, "")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def path(self, source: Source, where: str) -> Path:
        if source.upload_name is not None:
            path = self.assets / source.upload_name
            if not path.is_file():
                raise MediaError(f"{where}.uploadName: {source.upload_name!r} is not in the assets folder {self.assets}")
            return path
        if source.path is not None:
            path = (self.base_dir / source.path).resolve()
            if not path.is_file():
                raise MediaError(f"{where}.path: file not found: {path}")
            return path
        return fetch_url(source.url or "", f"{where}.url")

    def media(self, source: Source, where: str) -> MediaInfo:
        path = self.path(source, where)
        if path not in self._probed:
            future = self._pending.pop(path, None)
            try:
                self._probed[path] = future.result() if future is not None else probe(path, where)
            except MediaError:
                if future is None:
                    raise
                self._probed[path] = probe(path, where)  # again, for the message with this use's JSON path
        return self._probed[path]


def resolve(
    loaded: LoadedDocument,
    *,
    assets: Path | None = None,
    tts_cache: Path | None = None,
    on_step: Callable[[str], None] | None = None,
) -> ResolvedDocument:
    """Resolve every asset and narration of a loaded document."""
    document = loaded.document
    rate = Rate.of(document.output.fps)
    sources = SourceResolver(document, loaded.base_dir, assets)
    resolved = ResolvedDocument(document, rate, base_dir=loaded.base_dir)
    try:
        sources.prefetch(_file_sources(document))
        _resolve_into(resolved, sources, tts_cache, on_step)
    finally:
        sources.close()
    return resolved


def _file_sources(document: Document) -> list[Source]:
    """The sources of scene visuals, blocks and music: the files a render probes."""
    found = [scene.visual.source for scene in document.scenes if scene.visual.type in ("video", "image")]
    found += [block.source for block in document.blocks if block.type in ("video", "image", "audio")]
    if document.music is not None and document.music.source is not None:
        found.append(document.music.source)
    return found


def _resolve_into(resolved: ResolvedDocument, sources: SourceResolver, tts_cache: Path | None, on_step) -> None:
    document = resolved.document
    rate = resolved.rate
    speeches = _narrations(document, sources, tts_cache, on_step)
    for index, scene in enumerate(document.scenes):
        where = f"scenes[{index}]"
        media = None
        if scene.visual.type in ("video", "image"):
            media = sources.media(scene.visual.source, f"{where}.visual.source")
            _check_kind(media, scene.visual.type, f"{where}.visual.source")
        speech = speeches.get(index)
        last = index == len(document.scenes) - 1
        resolved.scenes.append(ResolvedScene(scene, _scene_frames(scene, speech, rate, last), speech, media))

    for index, block in enumerate(document.blocks):
        if block.type in ("video", "image", "audio"):
            media = sources.media(block.source, f"blocks[{index}].source")
            _check_kind(media, block.type, f"blocks[{index}].source")
            resolved.block_media[index] = media

    music = document.music
    if music is not None and not music.is_silent:
        if music.source is not None:
            resolved.music = sources.media(music.source, "music.source")
            _check_kind(resolved.music, "audio", "music.source")
        else:
            from reelforge.resolve.music import mood_loop

            path = mood_loop(music.mood or "calm")
            resolved.music = probe(path, "music.mood")


def _narrations(document: Document, sources: SourceResolver, tts_cache: Path | None, on_step) -> dict[int, Speech]:
    """Speech for every narrated scene: TTS (in a small thread pool) or the user's recording."""
    speeches: dict[int, Speech] = {}
    to_speak: list[tuple[int, str]] = []
    for index, scene in enumerate(document.scenes):
        narration = scene.narration
        if narration is None:
            continue
        if narration.audio is not None:
            where = f"scenes[{index}].narration.audio"
            media = sources.media(narration.audio, where)
            _check_kind(media, "audio", where)
            speeches[index] = recorded_speech(media, narration.transcript or "")
        else:
            to_speak.append((index, narration.text or ""))
    if to_speak:
        from reelforge.speech.tts import synthesize

        if on_step:
            on_step(f"narration: {len(to_speak)} scenes")
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = pool.map(lambda item: synthesize(item[1], document.voice, cache_dir=tts_cache), to_speak)
            for (index, _text), speech in zip(to_speak, results):
                speeches[index] = speech
    return speeches


def recorded_speech(media: MediaInfo, transcript: str) -> Speech:
    """A user's recording: words of the transcript spread over the audio by their length in letters."""
    duration = media.duration or Fraction(0)
    sample_rate = 48000
    tokens = transcript.split()
    weights = [max(len(re.sub(r"\W", "", t)), 1) + 1 for t in tokens]
    total = sum(weights) or 1
    words, at = [], Fraction(0)
    for token, weight in zip(tokens, weights):
        span = duration * weight / total
        words.append(WordTiming(token, at, at + span))
        at += span
    return Speech(media.path, sample_rate, int(duration * sample_rate), tuple(words))


def _scene_frames(scene: Scene, speech: Speech | None, rate: Rate, last: bool) -> int:
    """A fixed duration as given; 'auto' is the speech plus padding plus the transition out, so that the
    next scene's narration (which starts with the transition) never talks over this one."""
    if scene.duration != "auto":
        return max(rate.frames(scene.duration), 1)
    spoken = speech.duration if speech is not None else Fraction(0)
    overlap = Fraction(0)
    if not last and scene.transition is not None and scene.transition.type != "cut":
        overlap = to_fraction(scene.transition.duration)
    return max(rate.frames(spoken + to_fraction(scene.padding) + overlap, rounding="ceil"), 1)


def _check_kind(media: MediaInfo, wanted: str, where: str) -> None:
    if wanted == "image" and not media.has_video:
        raise MediaError(f"{where}: {media.path.name} is not an image")
    if wanted == "video" and (not media.has_video or media.is_image):
        raise MediaError(f"{where}: {media.path.name} is not a video (use an image visual for stills)")
    if wanted == "audio" and not media.has_audio:
        raise MediaError(f"{where}: {media.path.name} has no audio")
