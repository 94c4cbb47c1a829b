"""Checks a JSON Schema cannot express: duplicate ids, timing that cannot work, files that are not there."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from reelforge.document.estimate import KnownSpeech, document_seconds, estimate_scenes, scenes_seconds
from reelforge.errors import Problem
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
    problems += _long_names(document)
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
        problems.append(Problem("", f"the video would last {_seconds_beyond(total, MAX_TOTAL_SECONDS)} s; "
                                    f"the limit is {MAX_TOTAL_SECONDS:g} s"))
    elif total < MIN_TOTAL_SECONDS and not unknown_recording:
        problems.append(Problem("", f"the video would last {_seconds_beyond(total, MIN_TOTAL_SECONDS)} s; "
                                    f"it must last at least {MIN_TOTAL_SECONDS:g} s"))
    return problems


def _seconds_beyond(seconds: float, limit: float) -> str:
    """`seconds` with the fewest decimals (up to 6) that still show it differs from `limit` (600.4, not 600)."""
    for decimals in range(7):
        text = f"{seconds:.{decimals}f}"
        if float(text) != limit:
            return text
    return f"{seconds:.3f}"


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


NAME_MAX_BYTES = 255  # the longest name (one path component) Linux file systems store
PATH_MAX_BYTES = 4095


def too_long_name(path: str) -> str | None:
    """Why no file system can hold `path` (a component over 255 bytes, or the whole over 4095), or None."""
    encoded = [part.encode("utf-8", "surrogatepass") for part in path.split("/")]
    longest = max(encoded, key=len, default=b"")
    if len(longest) > NAME_MAX_BYTES:
        return (f"the file name {longest[:40].decode('utf-8', 'replace')!r}... is {len(longest)} bytes long; "
                f"file systems allow {NAME_MAX_BYTES}")
    if sum(len(part) + 1 for part in encoded) > PATH_MAX_BYTES:
        return f"the path is longer than the {PATH_MAX_BYTES} bytes file systems allow"
    return None


def _long_names(document: Document) -> Iterator[Problem]:
    for path, source in iter_sources(document):
        for key, value in (("uploadName", source.upload_name), ("path", source.path)):
            problem = too_long_name(value) if value is not None else None
            if problem:
                yield Problem(f"{path}.{key}", problem)


def _missing_files(document: Document, assets: Path, base_dir: Path) -> Iterator[Problem]:
    for path, source in iter_sources(document):
        if (source.upload_name and too_long_name(source.upload_name)) or (source.path and too_long_name(source.path)):
            continue  # an error already (_long_names)
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
