"""Every narrated scene's speech: synthesized by the TTS engine, or the user's own recording."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Callable

from reelforge.model import Document
from reelforge.resolve.media import MediaInfo
from reelforge.resolve.sources import SourceResolver, check_kind
from reelforge.speech import Speech
from reelforge.workspace import Workspace


def narrations(document: Document, sources: SourceResolver, workspace: Workspace,
               on_step: Callable[[str], None] | None = None) -> dict[int, Speech]:
    """Speech for every narrated scene, by scene index: TTS (in a small thread pool) or the user's recording
    (aligned to its transcript, or recognized without one; see `recorded_narration`)."""
    speeches: dict[int, Speech] = {}
    to_speak: list[tuple[int, str]] = []
    to_hear: list[tuple[int, MediaInfo, str | None, str]] = []
    for index, scene in enumerate(document.scenes):
        narration = scene.narration
        if narration is None:
            continue
        if narration.audio is not None:
            where = f"scenes[{index}].narration.audio"
            media = sources.media(narration.audio, where)
            check_kind(media, "audio", where)
            to_hear.append((index, media, narration.transcript, where))
        else:
            to_speak.append((index, narration.text or ""))
    if to_speak:
        from reelforge.speech.tts import synthesize

        if on_step:
            on_step(f"narration: {len(to_speak)} scenes")
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = pool.map(lambda item: synthesize(item[1], document.voice, workspace=workspace), to_speak)
            for (index, _text), speech in zip(to_speak, results):
                speeches[index] = speech
    if to_hear and on_step:
        on_step(f"recorded narration: {len(to_hear)} scenes")
    for index, media, transcript, where in to_hear:
        speeches[index] = recorded_narration(media.path, transcript, document, workspace, where)
    return speeches


def recorded_narration(path: Path, transcript: str | None, document: Document, workspace: Workspace,
                       where: str) -> Speech:
    """A recording as a scene's speech: its exact length, and, when the document shows captions, its words
    aligned to the transcript (recognized when there is none). Errors name `where`, the recording's JSON path."""
    from reelforge.speech.asr import AsrError, exact_length, recorded_speech

    try:
        if not document.captions.enabled:
            length = exact_length(path, workspace)
            return Speech(path, length.sample_rate, length.samples, ())
        return recorded_speech(path, transcript, workspace, language=whisper_language(document.language))
    except AsrError as error:
        raise type(error)(f"{where}: {error}") from None


def whisper_language(language: str) -> str:
    """The Whisper language code of a document's language tag ("en-US" -> "en")."""
    return language.split("-", 1)[0].lower()


def recorded_lengths(document: Document, base_dir: Path, workspace: Workspace, *,
                     assets: Path | None = None) -> dict[int, Fraction]:
    """The exact length in seconds of every recorded narration that is a readable local file, by scene index:
    what `estimate` takes as `known_speech`. Recordings behind a URL (never fetched here), missing or unreadable
    ones are left out (their estimate stays a guess; the render reports them)."""
    from reelforge.resolve.media import MediaError
    from reelforge.speech.asr import AsrError, exact_length

    sources = SourceResolver(document, base_dir, assets, workspace)
    known: dict[int, Fraction] = {}
    for index, scene in enumerate(document.scenes):
        narration = scene.narration
        if narration is None or narration.audio is None or narration.audio.url is not None:
            continue
        try:
            length = exact_length(sources.path(narration.audio, f"scenes[{index}].narration.audio"), workspace)
        except (MediaError, AsrError, OSError):
            continue
        known[index] = Fraction(length.samples, length.sample_rate)
    return known


def recorded_scene_speech(document: Document, index: int, base_dir: Path, workspace: Workspace, *,
                          assets: Path | None = None, model: Path | None = None) -> Speech:
    """One scene's recording heard now (for an editor's "re-align"): its transcript aligned to it, or its words
    recognized when it has none, through the workspace cache (a hit loads no model). Unlike a render, the words
    are made even when the document's captions are off.

    Raises ValueError for a scene without a recorded narration; MediaError / AsrError name the JSON path."""
    from reelforge.speech.asr import AsrError, recorded_speech

    scene = document.scenes[index]
    if scene.narration is None or scene.narration.audio is None:
        raise ValueError(f"scenes[{index}] ({scene.id!r}) has no recorded narration")
    where = f"scenes[{index}].narration.audio"
    sources = SourceResolver(document, base_dir, assets, workspace)
    try:
        media = sources.media(scene.narration.audio, where)
    finally:
        sources.close()
    check_kind(media, "audio", where)
    try:
        return recorded_speech(media.path, scene.narration.transcript, workspace, model=model,
                               language=whisper_language(document.language))
    except AsrError as error:
        raise type(error)(f"{where}: {error}") from None
