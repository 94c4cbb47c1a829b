"""Checks a JSON Schema cannot express: duplicate ids, timing that cannot work, files that are not there."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from reelforge.errors import Problem
from reelforge.document.estimate import KnownSpeech, document_seconds, estimate_scenes, scenes_seconds
from reelforge.model.document import MAX_TOTAL_SECONDS, MIN_TOTAL_SECONDS, Document
from reelforge.model.sources import Source


def assets_folder(document: Document, base_dir: Path, assets: Path | None = None) -> Path:
    """Where `uploadName` files live: the override, the document's `assetsDir`, or assets/ beside it."""
    if assets is not None:
        return assets
    return base_dir / (document.assets_dir or "assets")


def check_document(document: Document, *, base_dir: Path | None = None, assets: Path | None = None,
                   known_speech: KnownSpeech | None = None) -> list[Problem]:
    """Problems a schema cannot see. `known_speech` gives exact speech lengths by scene index (e.g. recordings
    that were probed); without it a recording's length is not known, and the video is not called too short."""
    problems = list(_duplicate_ids(document))
    problems += _timing(document, known_speech or {})
    problems += list(_recordings(document))
    if base_dir is not None or assets is not None:
        folder = assets_folder(document, base_dir or Path.cwd(), assets)
        problems += _missing_files(document, folder, base_dir or Path.cwd())
    return problems


def _duplicate_ids(document: Document) -> Iterator[Problem]:
    first_at: dict[str, int] = {}
    for index, scene in enumerate(document.scenes):
        if scene.id in first_at:
            yield Problem(f"scenes[{index}].id", f"duplicate scene id {scene.id!r} (first used by scenes[{first_at[scene.id]}])")
        else:
            first_at[scene.id] = index


def _recordings(document: Document) -> Iterator[Problem]:
    """A recording without a transcript: its captions will be whatever speech recognition hears."""
    if not document.captions.enabled:
        return
    for index, scene in enumerate(document.scenes):
        narration = scene.narration
        if narration is not None and narration.audio is not None and narration.transcript is None:
            yield Problem(f"scenes[{index}].narration", "a recording without a transcript: its captions will be "
                          "recognized from the audio; add \"transcript\" for exact words", "warning")


def _timing(document: Document, known: KnownSpeech) -> list[Problem]:
    problems: list[Problem] = []
    estimates = estimate_scenes(document, known)
    for index, (scene, estimate) in enumerate(zip(document.scenes, estimates)):
        transition = scene.transition
        if transition and transition.type != "cut" and index < len(document.scenes) - 1:
            following = estimates[index + 1]
            shortest = min(estimate.seconds, following.seconds)
            if estimate.fixed and following.fixed and transition.duration >= shortest:
                problems.append(Problem(
                    f"scenes[{index}].transition.duration",
                    f"{transition.duration:g} s is as long as a scene it joins ({shortest:g} s): make it shorter",
                ))
        if estimate.fixed:
            for o_index, overlay in enumerate(scene.overlays):
                if overlay.start >= estimate.seconds:
                    problems.append(Problem(
                        f"scenes[{index}].overlays[{o_index}].start",
                        f"starts at {overlay.start:g} s, after the scene ends ({estimate.seconds:g} s)",
                    ))
    end = _document_end(document)
    if end is not None:
        for index, block in enumerate(document.blocks):
            if block.start >= end:
                problems.append(Problem(
                    f"blocks[{index}].start",
                    f"starts at {block.start:g} s, at or after the video's end ({end:g} s)",
                ))
    total = document_seconds(document, known)
    unknown_recording = any(scene.narration is not None and scene.narration.audio is not None and index not in known
                            for index, scene in enumerate(document.scenes))
    if total > MAX_TOTAL_SECONDS:
        problems.append(Problem("", f"the video would last {total:.0f} s; the limit is {MAX_TOTAL_SECONDS:.0f} s"))
    elif total < MIN_TOTAL_SECONDS and not unknown_recording:
        problems.append(Problem("", f"the video would last {total:.2f} s; it must last at least {MIN_TOTAL_SECONDS:.0f} s"))
    return problems


def _document_end(document: Document) -> float | None:
    """The end that blocks must start before: the fixed duration, or the scenes' length when there are scenes."""
    if document.duration is not None:
        return float(document.duration)
    if document.scenes:
        return scenes_seconds(document)
    return None


def iter_sources(document: Document) -> Iterator[tuple[str, Source]]:
    """Every media source in the document with its JSON path."""
    for index, scene in enumerate(document.scenes):
        if scene.narration is not None and scene.narration.audio is not None:
            yield f"scenes[{index}].narration.audio", scene.narration.audio
        source = getattr(scene.visual, "source", None)
        if source is not None:
            yield f"scenes[{index}].visual.source", source
    for index, block in enumerate(document.blocks):
        source = getattr(block, "source", None)
        if source is not None:
            yield f"blocks[{index}].source", source
    if document.music is not None and document.music.source is not None:
        yield "music.source", document.music.source


def _missing_files(document: Document, assets: Path, base_dir: Path) -> Iterator[Problem]:
    for path, source in iter_sources(document):
        if source.upload_name is not None and not _is_file(assets / source.upload_name):
            yield Problem(f"{path}.uploadName", f"{source.upload_name!r} is not in the assets folder {assets}", "warning")
        elif source.path is not None and not _is_file(base_dir / source.path):
            yield Problem(f"{path}.path", f"file not found: {base_dir / source.path}", "warning")


def _is_file(path: Path) -> bool:
    """Whether `path` is a readable regular file; a name too long for the file system is simply not there."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False
