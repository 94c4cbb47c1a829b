"""`reelforge export`: a document's timeline written as OTIO or through one of OTIO's adapters.

Each format gets the one OTIO Timeline that `build` makes, narrowed to what the format holds; everything that
narrowing (or the adapter itself) loses is said in a note, one line a thing. The adapters are run on copies
(cmx_3600 edits the timeline it writes), with their banners kept off the terminal.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from reelforge.errors import ReelforgeError
from reelforge.fileio import atomic_output, write_atomic
from reelforge.interchange.build import META, TEXT, MediaFolder, build_otio, otio_module
from reelforge.workspace import Workspace

# suffix -> (OTIO adapter, what the format is called in notes)
FORMATS: dict[str, tuple[str, str]] = {
    ".otio": ("otio_json", "OTIO"),
    ".otioz": ("otioz", "OTIOZ"),
    ".edl": ("cmx_3600", "EDL"),
    ".xml": ("fcp_xml", "FCP 7 XML"),
    ".fcpxml": ("fcpx_xml", "FCPXML"),
    ".kdenlive": ("kdenlive", "Kdenlive"),
    ".mlt": ("mlt_xml", "MLT XML"),
}


@dataclass
class ExportResult:
    """What an export wrote and what it could not carry over."""

    path: Path
    format: str
    timeline: object  # the whole OTIO Timeline, as the .otio export holds it
    written: object = None  # what the format was given: `timeline` less what it cannot hold
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # besides `path`: the media folder's files, the captions


class ExportError(ReelforgeError):
    exit_code = 2


def format_of(path: Path) -> tuple[str, str]:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"{path.name}: unknown timeline format {suffix or '(no suffix)'!r}: use one of "
                          + ", ".join(FORMATS))
    return FORMATS[suffix]


@contextlib.contextmanager
def quiet_adapter():
    """Keep what adapters print (the Kdenlive adapter's banner on every call) off our output."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def media_folder_for(out: Path) -> Path:
    return out.with_name(f"{out.stem}_media")


def export(job, workspace: Workspace, out: Path) -> ExportResult:
    """Prepare `job` (a RenderJob) through the render seam and write its timeline to `out` in the format its
    suffix names, with the generated media in `<stem>_media/` beside it (inside the bundle for .otioz) and the
    captions as `<stem>.srt`. Nothing is written at `out` unless the whole export succeeds."""
    from reelforge.job import prepare

    out = Path(out).absolute()
    adapter, label = format_of(out)
    otio_module()  # without the extra: one line, before any narration is spoken
    prepared = prepare(job, workspace)
    timeline = prepared.timeline
    out.parent.mkdir(parents=True, exist_ok=True)
    bundle = adapter == "otioz"
    claimed = workspace.work_folder("export-") if bundle else None
    work = claimed.path if claimed is not None else None
    folder = work / "media" if work else media_folder_for(out)
    new_folder = not folder.exists()
    done = False
    try:
        media = MediaFolder(folder)
        built, notes = build_otio(timeline, workspace, media, prepared.loaded.document)
        files = [] if bundle else sorted(set(media.written))
        narrowed, format_notes = narrow(built, adapter, label, timeline)
        write(narrowed, adapter, out, timeline, work)
        if timeline.cues:
            from reelforge.timeline.captions import write_sidecar

            srt = out.with_suffix(".srt")
            write_sidecar(timeline.cues, timeline.rate, srt)
            files.append(srt)
            notes.append(f"captions: {len(timeline.cues)} lines as timeline markers and in {srt.name}, not drawn into "
                         f"the picture")
        done = True
        return ExportResult(out, label, built, narrowed, notes + format_notes, files)
    finally:
        if claimed is not None:
            claimed.release()
        elif not done and new_folder:  # a failed export leaves no media folder it made
            shutil.rmtree(folder, ignore_errors=True)


# -- what each format holds -------------------------------------------------------------------------------


def _describe(track) -> str:
    clips = sum(1 for _ in track.find_clips())
    return f"track \"{track.name}\" ({clips} clip{'s' if clips != 1 else ''})"


def narrow(built, adapter: str, label: str, timeline) -> tuple[object, list[str]]:
    """A copy of `built` holding only what the format takes, and a note for each thing taken out."""
    otio = otio_module()
    result = copy.deepcopy(built)
    notes: list[str] = []
    if adapter in ("otio_json", "otioz"):
        return result, notes
    tracks = list(result.tracks)
    video = [t for t in tracks if t.kind == otio.schema.TrackKind.Video]
    audio = [t for t in tracks if t.kind == otio.schema.TrackKind.Audio]

    def drop(track, why: str) -> None:
        if any(True for _ in track.find_clips()):
            notes.append(f"{label}: {_describe(track)} left out: {why}")
        result.tracks.remove(track)

    if adapter == "cmx_3600":
        # The one video track: the scenes, or for a document of blocks only, the first track with clips.
        kept = next((t for t in video if any(True for _ in t.find_clips())), video[0])
        result.tracks.remove(kept)
        result.tracks.insert(0, kept)
        for track in [t for t in video if t is not kept]:
            drop(track, "an EDL has one video track")
        for track in audio:
            drop(track, "the EDL writer writes the video track only")
        if result.tracks.markers:
            notes.append(f"{label}: {len(result.tracks.markers)} timeline markers (captions) left out: an EDL keeps "
                         f"markers on events only")
            result.tracks.markers[:] = []
    if adapter != "cmx_3600":
        for track in [t for t in video if t.name.startswith(TEXT)]:
            drop(track, f"the {label} writer takes no text (generator) clips; the .otio export keeps them")
    if adapter in ("mlt_xml", "kdenlive"):
        if adapter == "mlt_xml" and result.tracks.markers:
            notes.append(f"{label}: {len(result.tracks.markers)} timeline markers (captions) left out: the MLT "
                         f"writer has no markers")
            result.tracks.markers[:] = []
    if adapter == "mlt_xml":
        # The MLT writer names playlists after tracks and producers after clips, all in one id space.
        for index, track in enumerate(result.tracks):
            track.name = f"track{index}-{track.name.replace(' ', '_')}"
        taken = {"background", "solid_black", "tractor0", "multitrack0", *(t.name for t in result.tracks)}
        for clip in result.find_clips():
            if clip.name in taken or clip.name.startswith("transition_tractor"):
                clip.name = f"clip-{clip.name}"
    # Transitions: every adapter here knows a dissolve at most.
    for track in list(result.tracks):
        for item in list(track):
            if not isinstance(item, otio.schema.Transition):
                continue
            kind = item.metadata.get(META, {}).get("kind", "crossfade")
            frames = item.in_offset.to_frames() + item.out_offset.to_frames()
            if adapter in ("fcpx_xml", "kdenlive"):
                notes.append(f"{label}: transition {kind} ({frames} frames) at {_at(item, timeline)} left out: the "
                             f"{label} writer drops transitions (a cut in their middle instead)")
                track.remove(item)
            elif kind != "crossfade":
                notes.append(f"{label}: transition {kind} ({frames} frames) at {_at(item, timeline)} written as a "
                             f"dissolve")
                item.transition_type = otio.schema.TransitionTypes.SMPTE_Dissolve
    if adapter == "fcpx_xml" and result.tracks.markers:
        notes.append(f"{label}: {len(result.tracks.markers)} timeline markers (captions) left out: FCPXML keeps "
                     f"markers on clips only")
        result.tracks.markers[:] = []
    return result, notes


def _at(transition, timeline) -> str:
    parent = transition.parent()
    index = parent.index(transition)
    before = parent[index - 1] if index > 0 else None
    after = parent[index + 1] if index + 1 < len(parent) else None
    names = [getattr(item, "name", "") for item in (before, after) if item is not None]
    return " -> ".join(name.split("#")[0] for name in names)


def write(narrowed, adapter: str, out: Path, timeline, work: Path | None) -> None:
    otio = otio_module()
    if adapter == "otioz":
        bundled = _unique_basenames(narrowed, work)
        with atomic_output(out, suffix=".otioz") as temp:
            temp.unlink()  # the otioz writer refuses to replace a file
            otio.adapters.write_to_file(bundled, str(temp), adapter_name="otioz")
        return
    kwargs = {}
    if adapter == "cmx_3600":
        kwargs = {"rate": float(timeline.rate.value)}
    if adapter == "mlt_xml":
        from reelforge.interchange.mlt import profile

        kwargs = profile(timeline)
    try:
        with quiet_adapter():
            text = otio.adapters.write_to_string(narrowed, adapter_name=adapter, **kwargs)
    except Exception as error:  # an adapter fails in its own ways (OTIOError, KeyError, UnboundLocalError...)
        raise ExportError(f"{out.name}: the {adapter} adapter failed: {type(error).__name__}: {error}") from None
    if adapter == "mlt_xml":
        from reelforge.interchange.mlt import fix_mlt

        text = fix_mlt(text, narrowed, timeline)
    elif adapter == "kdenlive":
        from reelforge.interchange.mlt import fix_kdenlive

        text = fix_kdenlive(text, narrowed, timeline)
    write_atomic(out, text)


def _unique_basenames(timeline, work: Path):
    """A copy whose files all have different names (the bundle keeps them side by side in media/): a second file
    of the same name is linked into the work folder under a name with its path's hash."""
    import hashlib

    otio = otio_module()
    result = copy.deepcopy(timeline)
    seen: dict[str, str] = {}
    extra = work / "renamed"
    for clip in result.find_clips():
        reference = clip.media_reference
        url = getattr(reference, "target_url", None)
        if not url:
            continue
        path = otio.url_utils.filepath_from_url(url)
        base = os.path.basename(path)
        if seen.setdefault(base, path) == path:
            continue
        stem, suffix = os.path.splitext(base)
        unique = f"{stem}-{hashlib.sha256(path.encode()).hexdigest()[:8]}{suffix}"
        target = extra / unique
        if not target.exists():
            extra.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:
                shutil.copyfile(path, target)
        seen[unique] = str(target)
        reference.target_url = otio.url_utils.url_from_filepath(str(target))
    return result
