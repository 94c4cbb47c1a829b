"""`reelforge import`: a timeline edited elsewhere (.otio, .otioz, .edl, .xml, .fcpxml, .kdenlive) as a document.

The first video track becomes scenes, one a clip or gap, each lasting its clip plus the halves of the
transitions it takes part in (reelforge's scenes overlap by their transitions, OTIO's clips meet at a cut);
dissolves become crossfades. The tracks above become blocks (later tracks draw on top), audio tracks audio
blocks with their levels, and music that the export wrote as repeats of one file becomes the document's music
again. What reelforge wrote into the metadata (cards, colors, gradients, text, levels) comes back as it was;
anything else that has no place in a document is said in a note, one line a thing.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from reelforge.errors import ReelforgeError
from reelforge.interchange.build import META, otio_module
from reelforge.interchange.export import quiet_adapter
from reelforge.resolve.media import IMAGE_SUFFIXES

READERS = {".otio": "otio_json", ".otioz": "otioz", ".edl": "cmx_3600", ".xml": "fcp_xml", ".fcpxml": "fcpx_xml",
           ".kdenlive": "kdenlive"}
MIN_TRANSITION, MAX_TRANSITION = Fraction(1, 10), Fraction(2)  # seconds, as the model allows
MAX_SCENES, MAX_BLOCKS = 50, 200
ASPECTS = ("9:16", "16:9", "1:1", "4:5")
RESOLUTIONS = ("1080p", "720p", "4k")


class TimelineImportError(ReelforgeError):
    exit_code = 2


@dataclass
class ImportResult:
    document: dict
    notes: list[str] = field(default_factory=list)


def read_timeline(path: Path, *, fps: float | None = None, extract_to: Path | None = None):
    """The first Timeline in a file, read with the adapter its suffix names."""
    otio = otio_module()
    suffix = path.suffix.lower()
    if suffix == ".mlt":
        raise TimelineImportError(f"{path.name}: MLT XML cannot be read back (the MLT adapter only writes); import the "
                           f".otio or .kdenlive export instead")
    if suffix not in READERS:
        raise TimelineImportError(f"{path.name}: unknown timeline format {suffix or '(no suffix)'!r}: use one of "
                           + ", ".join(READERS))
    if not path.is_file():
        raise TimelineImportError(f"{path}: file not found")
    kwargs: dict[str, Any] = {}
    if suffix == ".edl":
        kwargs["rate"] = fps or 30
    if suffix == ".otioz":
        if extract_to is None:
            raise TimelineImportError(f"{path.name}: a bundle needs a folder to unpack its media into")
        extract_to.mkdir(parents=True, exist_ok=True)
        kwargs["extract_to_directory"] = str(extract_to)
    try:
        with quiet_adapter():
            if suffix == ".kdenlive":
                # Our exports play stills with MLT's `pixbuf`; the Kdenlive reader knows Kdenlive's `qimage` only.
                text = path.read_text(encoding="utf-8").replace(
                    '<property name="mlt_service">pixbuf</property>', '<property name="mlt_service">qimage</property>')
                result = otio.adapters.read_from_string(text, adapter_name="kdenlive")
            else:
                result = otio.adapters.read_from_file(str(path), adapter_name=READERS[suffix], **kwargs)
    except Exception as error:  # the adapters raise anything from KeyError to their own parse errors
        raise TimelineImportError(f"{path.name}: not a readable {READERS[suffix]} timeline: {type(error).__name__}: "
                           f"{error}") from None
    if isinstance(result, otio.schema.Timeline):
        return result
    found = next(iter(result.find_children(descended_from_type=otio.schema.Timeline)), None) \
        if hasattr(result, "find_children") else None
    if found is None:
        raise TimelineImportError(f"{path.name}: holds no timeline")
    return found


def plain(value):
    """OTIO metadata (AnyDictionary, AnyVector) as plain dicts and lists."""
    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        return value
    if hasattr(value, "items"):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "__iter__"):
        return [plain(v) for v in value]
    return value


def meta_of(item) -> dict:
    """The reelforge metadata of an OTIO object ({} when it has none)."""
    found = item.metadata.get(META) if item is not None and hasattr(item, "metadata") else None
    return plain(found) if found is not None else {}


def _seconds(frames: int | float, fps: int) -> float:
    return float(Fraction(frames).limit_denominator(1000) / fps) if not isinstance(frames, int) else frames / fps


class Importer:
    def __init__(self, timeline, source: Path, out_dir: Path, fps: float | None, media_root: Path | None):
        self.otio = otio_module()
        self.timeline = timeline
        self.source = source
        self.out_dir = out_dir
        self.media_root = media_root or source.parent
        self.notes: list[str] = []
        self.meta = meta_of(timeline)
        rate = fps or self._timeline_rate()
        self.fps = int(round(rate))
        if abs(rate - self.fps) > 1e-6 or not 12 <= self.fps <= 60:
            self.fps = min(max(self.fps, 12), 60)
            self.notes.append(f"frame rate {rate:g} is not a whole number from 12 to 60: {self.fps} fps is used")
        self._ids: set[str] = set()
        self.scene_starts: dict[str, tuple[int, int]] = {}  # scene id the export wrote -> (scene index, first frame)
        self.taken: set[tuple] = set()  # (track, start, name) of clips made into something else than a block

    def _timeline_rate(self) -> float:
        fps = self.meta.get("fps")
        if fps:
            return float(Fraction(str(fps)))
        return float(self.timeline.duration().rate)

    def frames(self, time) -> int:
        """A time as frames at the document's rate (rounded to the nearest)."""
        return int(round(time.value * self.fps / time.rate))

    # -- sources -------------------------------------------------------------------------------------------
    def path_of(self, reference) -> Path | None:
        url = getattr(reference, "target_url", None)
        if not url:
            return None
        path = Path(self.otio.url_utils.filepath_from_url(url)) if "://" in url or url.startswith("file:") \
            else Path(url)
        if not path.is_absolute():
            path = self.media_root / path
        return path

    def source_of(self, path: Path) -> dict:
        try:
            relative = os.path.relpath(path, self.out_dir)
        except ValueError:  # another drive
            relative = str(path)
        return {"path": relative}

    def scene_id(self, name: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]", "-", (name or "clip").split("#")[0]).strip("-_")[:56] or "clip"
        if not base[0].isalnum():
            base = "s" + base
        candidate, number = base, 1
        while candidate in self._ids:
            number += 1
            candidate = f"{base}-{number}"
        self._ids.add(candidate)
        return candidate

    # -- what a clip shows --------------------------------------------------------------------------------
    def visual(self, clip, source_start: int, frames: int, where: str) -> dict:
        """A scene visual for a clip showing `frames` frames from source frame `source_start`."""
        meta = meta_of(clip) if clip is not None else {}
        if clip is None:
            return {"type": "color", "color": "#000000"}
        kind = meta.get("kind")
        reference = clip.media_reference
        path = self.path_of(reference)
        if kind == "color" and meta.get("color"):
            return {"type": "color", "color": meta["color"]}
        if kind == "gradient" and meta.get("colors"):
            return {"type": "gradient", "colors": meta["colors"], "angle": meta.get("angle", 180.0)}
        if kind == "card" and meta.get("card") and path is not None and self._whole(reference, source_start, frames):
            visual = {"type": "card", "card": meta["card"]}
            if meta.get("background"):
                visual["background"] = meta["background"]
            return visual
        if isinstance(reference, self.otio.schema.GeneratorReference):
            color = (reference.parameters or {}).get("color")
            if reference.generator_kind == "SolidColor" and isinstance(color, str) and color.startswith("#"):
                return {"type": "color", "color": color}
            self.notes.append(f"{where}: generator '{reference.generator_kind}' has no reelforge visual: black instead")
            return {"type": "color", "color": "#000000"}
        if path is None:
            self.notes.append(f"{where}: clip '{clip.name}' has no media file: black instead")
            return {"type": "color", "color": "#000000"}
        if not path.is_file():
            self.notes.append(f"{where}: media {path} not found: kept, the render will say so")
        if path.suffix.lower() in IMAGE_SUFFIXES:
            visual = {"type": "image", "source": self.source_of(path), "motion": "none", "fit": meta.get("fit", "cover")}
            if kind == "image" and meta.get("motion", "none") != "none":
                visual["motion"] = meta["motion"]
                visual["motionAmount"] = meta.get("motionAmount", 0.15)
            return visual
        self._effects_note(clip, where)
        return {"type": "video", "source": self.source_of(path), "trimStart": source_start / self.fps, "loop": False,
                "fit": meta.get("fit", "cover")}

    def _whole(self, reference, source_start: int, frames: int) -> bool:
        """Whether a clip shows all of its media from the first frame (a card as it was rendered)."""
        available = getattr(reference, "available_range", None)
        return available is not None and source_start == 0 and frames == self.frames(available.duration)

    def _effects_note(self, clip, where: str) -> None:
        for effect in getattr(clip, "effects", []) or []:
            self.notes.append(f"{where}: effect '{effect.effect_name or type(effect).__name__}' on '{clip.name}' "
                              f"left out")

    # -- the first video track: scenes -------------------------------------------------------------------------
    def items_of(self, track) -> list[tuple[int, int, Any]]:
        """(record start, frames, clip or None for a gap) of a track, and its transitions by the index before."""
        items = []
        for index, child in enumerate(track):
            if isinstance(child, self.otio.schema.Transition):
                continue
            span = track.range_of_child_at_index(index)
            start, frames = self.frames(span.start_time), self.frames(span.duration)
            if frames > 0:
                items.append((start, frames, child if isinstance(child, self.otio.schema.Clip) else None, index))
        return items

    def transition_between(self, track, before_index: int, after_index: int, where: str) -> tuple[int, int, str]:
        """The (frames before the cut, after it, kind) of the transition between two items; (0, 0, '') for a cut."""
        if after_index - before_index != 2:
            return 0, 0, ""
        transition = track[before_index + 1]
        if not isinstance(transition, self.otio.schema.Transition):
            return 0, 0, ""
        before, after = self.frames(transition.in_offset), self.frames(transition.out_offset)
        kind = meta_of(transition).get("kind")
        if kind is None:
            kind = "crossfade"
            if transition.transition_type != self.otio.schema.TransitionTypes.SMPTE_Dissolve:
                self.notes.append(f"{where}: transition '{transition.name or transition.transition_type}' made a "
                                  f"crossfade")
        total = before + after
        if total < 2 or Fraction(total, self.fps) < MIN_TRANSITION:
            if total:
                self.notes.append(f"{where}: transition of {total} frames is shorter than reelforge's 0.1 s: a cut "
                                  f"instead")
            return 0, 0, ""
        longest = math.floor(MAX_TRANSITION * self.fps)
        if total > longest:
            self.notes.append(f"{where}: transition of {total} frames is longer than reelforge's 2 s: "
                              f"{longest} frames around the same cut")
            before = round(before * longest / total)
            after = longest - before
        return before, after, kind

    def scenes(self, track) -> list[dict]:
        items = self.items_of(track)
        if len(items) > MAX_SCENES:
            raise TimelineImportError(f"{self.source.name}: the first video track has {len(items)} clips and gaps; a "
                               f"document holds at most {MAX_SCENES} scenes")
        links = [self.transition_between(track, a[3], b[3], f"scenes {a[2].name if a[2] else 'gap'} -> "
                                                                  f"{b[2].name if b[2] else 'gap'}")
                 if a[0] + a[1] == b[0] else (0, 0, "") for a, b in zip(items, items[1:])]
        scenes = []
        for number, (start, frames, clip, _index) in enumerate(items):
            incoming = links[number - 1][0] if number > 0 else 0
            outgoing = links[number][1] if number < len(links) else 0
            where = f"scene {clip.name if clip else 'gap'}"
            source_start = (self.frames(clip.source_range.start_time) if clip is not None else 0) - incoming
            if source_start < 0:
                self.notes.append(f"{where}: the transition in needs {-source_start} frames before its media starts: "
                                  f"they show its first frame")
                source_start = 0
            length = frames + incoming + outgoing
            scene = {"id": self.scene_id(clip.name if clip else "gap"), "duration": _seconds(length, self.fps),
                     "visual": self.visual(clip, source_start, length, where)}
            owner = meta_of(clip).get("owner")
            if owner and owner not in self.scene_starts:
                self.scene_starts[owner] = (len(scenes), start - incoming)
            if clip is not None and clip.name and not clip.name.startswith(scene["id"]):
                scene["title"] = clip.name[:200]
            if number < len(links) and links[number][2]:
                before, after, kind = links[number]
                scene["transition"] = {"type": kind, "duration": _seconds(before + after, self.fps)}
            scenes.append(scene)
        return scenes

    # -- the other tracks: blocks ----------------------------------------------------------------------------------
    def picture_blocks(self, track) -> list[dict]:
        blocks = []
        for start, frames, clip, _ in self.items_of(track):
            if clip is None:
                continue
            meta = meta_of(clip)
            where = f"track \"{track.name}\" clip {clip.name}"
            timing = {"start": _seconds(start, self.fps), "duration": _seconds(frames, self.fps)}
            original = meta.get("source") or {}
            if meta.get("kind") == "text" or isinstance(clip.media_reference, self.otio.schema.GeneratorReference) \
                    and clip.media_reference.generator_kind == "Text":
                text = meta.get("text") or (clip.media_reference.parameters or {}).get("text") or clip.name
                block = {"type": "text", **timing, "text": (original.get("text") or text)[:500]}
                for key in ("placement", "style"):
                    if key in original:
                        block[key] = original[key]
                blocks.append(block)
                continue
            source_start = self.frames(clip.source_range.start_time)
            visual = self.visual(clip, source_start, frames, where)
            if visual["type"] == "card":
                blocks.append({"type": "card", **timing, "card": visual["card"]})
            elif visual["type"] == "video":
                blocks.append({"type": "video", **timing, "source": visual["source"], "trimStart": visual["trimStart"],
                               "loop": False, "fit": visual["fit"]})
            elif visual["type"] == "image":
                blocks.append({"type": "image", **timing, "source": visual["source"], "fit": visual["fit"]})
            else:
                self.notes.append(f"{where}: a {visual['type']} over other pictures has no block form: left out")
        return blocks

    def sound_blocks(self, track) -> list[dict]:
        blocks = []
        clips = [(start, frames, clip) for start, frames, clip, _ in self.items_of(track)
                 if clip is not None and (track.name, start, clip.name) not in self.taken]
        for number, (start, frames, clip) in enumerate(clips):
            meta = meta_of(clip)
            where = f"track \"{track.name}\" clip {clip.name}"
            path = self.path_of(clip.media_reference)
            if path is None:
                self.notes.append(f"{where}: no media file: left out")
                continue
            self._effects_note(clip, where)
            block = {"type": "audio", "start": _seconds(start, self.fps), "duration": _seconds(frames, self.fps),
                     "source": self.source_of(path), "trimStart": self.frames(clip.source_range.start_time) / self.fps}
            volume = meta.get("volume", 1.0)
            if volume != 1:
                block["volume"] = min(max(float(volume), 0.0), 2.0)
            owner = meta.get("owner")
            first = number == 0 or meta_of(clips[number - 1][2]).get("owner") != owner
            last = number + 1 == len(clips) or meta_of(clips[number + 1][2]).get("owner") != owner
            seconds = frames / self.fps
            fade_in = float(meta.get("fadeIn", 0)) if first else 0.0
            fade_out = float(meta.get("fadeOut", 0)) if last else 0.0
            if fade_in + fade_out > seconds:
                scale = seconds / (fade_in + fade_out)
                fade_in, fade_out = fade_in * scale, fade_out * scale
            if fade_in:
                block["fadeIn"] = min(fade_in, 30.0)
            if fade_out:
                block["fadeOut"] = min(fade_out, 30.0)
            blocks.append(block)
        return blocks

    def narrations(self, scenes: list[dict], audio: list) -> int:
        """Narration the export wrote (one clip from a scene's first frame) as that scene's recorded narration, with
        its caption lines as the transcript (so captions come back, spread over the words by their length).
        Returns how many caption markers went into transcripts."""
        used = 0
        for track in audio:
            for start, _frames, clip, _ in self.items_of(track):
                meta = meta_of(clip)
                owner = meta.get("owner")
                if clip is None or meta.get("role") != "narration" or owner not in self.scene_starts:
                    continue
                index, first = self.scene_starts[owner]
                path = self.path_of(clip.media_reference)
                if start != first or path is None or self.frames(clip.source_range.start_time) != 0 \
                        or "narration" in scenes[index]:
                    continue
                narration: dict[str, Any] = {"audio": self.source_of(path)}
                lines = [m.name for m in self.timeline.tracks.markers
                         if meta_of(m).get("kind") == "caption" and meta_of(m).get("owner") == owner and m.name]
                if lines:
                    narration["transcript"] = " ".join(lines)[:5000]
                    used += len(lines)
                scenes[index]["narration"] = narration
                self.taken.add((track.name, start, clip.name))  # by place: OTIO's Python objects are made anew
        return used

    def music(self, tracks) -> tuple[dict | None, list]:
        """The document's music, when the export wrote it: repeats of one file from the start, nothing else."""
        music_tracks = [t for t in tracks if any(meta_of(c).get("role") == "music"
                                                 for c in t.find_clips())]
        if len(music_tracks) != 1:
            return None, tracks
        track = music_tracks[0]
        clips = list(track.find_clips())
        paths = {self.path_of(c.media_reference) for c in clips}
        items = self.items_of(track)
        if len(paths) != 1 or None in paths or not items or items[0][0] != 0 or any(c is None for _, _, c, _ in items):
            return None, tracks
        meta = meta_of(clips[0])
        mix = self.meta.get("musicMix", {})
        music = {"source": self.source_of(paths.pop()), "volume": min(max(float(meta.get("volume", 1.0)), 0.0), 1.0),
                 "fadeIn": min(float(meta.get("fadeIn", 0)), 10.0), "fadeOut": min(float(meta.get("fadeOut", 0)), 10.0),
                 "ducking": bool(mix.get("ducking", False)), "duckAmount": float(mix.get("duckDb", 12.0))}
        return music, [t for t in tracks if t is not track]

    def output(self) -> dict:
        from reelforge.model.output import Output

        width, height = self.meta.get("width"), self.meta.get("height")
        out = {"fps": self.fps}
        if not (width and height):
            width, height, name = self._media_size()
            if not (width and height):
                self.notes.append("frame size: the timeline does not say: 9:16 1080p")
                return out
            self.notes.append(f"frame size: the timeline does not say: {width}x{height}, from {name}")
        for quality in ("web", "draft"):
            for aspect in ASPECTS:
                for resolution in RESOLUTIONS:
                    w, h = Output(aspect_ratio=aspect, resolution=resolution).frame_size()
                    if quality == "draft":
                        w, h = w // 2 // 2 * 2, h // 2 // 2 * 2
                    if (w, h) == (width, height):
                        quality = self.meta.get("quality", quality) if quality == "web" else quality
                        return {"aspectRatio": aspect, "resolution": resolution,
                                "quality": quality if quality in ("draft", "web", "studio") else "web", "fps": self.fps}
        ratio = width / height
        aspect = min(ASPECTS, key=lambda a: abs(int(a.split(":")[0]) / int(a.split(":")[1]) - ratio))
        self.notes.append(f"frame size {width}x{height} is not one reelforge renders: {aspect} 1080p")
        return {"aspectRatio": aspect, "resolution": "1080p", "fps": self.fps}

    def _media_size(self) -> tuple[int | None, int | None, str]:
        """The picture size of the first file a video track shows."""
        import av

        for track in self.timeline.tracks:
            if track.kind != self.otio.schema.TrackKind.Video:
                continue
            for clip in track.find_clips():
                path = self.path_of(clip.media_reference)
                if path is None or not path.is_file():
                    continue
                try:
                    with av.open(str(path)) as container:
                        if container.streams.video:
                            context = container.streams.video[0].codec_context
                            return context.width, context.height, path.name
                except av.error.FFmpegError:
                    continue
        return None, None, ""

    def document(self) -> dict:
        otio = self.otio
        tracks = list(self.timeline.tracks)
        video = [t for t in tracks if t.kind == otio.schema.TrackKind.Video]
        audio = [t for t in tracks if t.kind == otio.schema.TrackKind.Audio]
        document: dict[str, Any] = {"version": "1", "name": (self.timeline.name or self.source.stem)[:200],
                                    "output": self.output()}
        if self.meta.get("theme"):
            document["theme"] = self.meta["theme"]
        if video:
            document["scenes"] = self.scenes(video[0])
        blocks = []
        for track in video[1:]:
            blocks += self.picture_blocks(track)
        transcribed = self.narrations(document.get("scenes", []), audio)
        music, audio = self.music(audio)
        if music is not None:
            document["music"] = music
        for track in audio:
            blocks += self.sound_blocks(track)
        if len(blocks) > MAX_BLOCKS:
            raise TimelineImportError(f"{self.source.name}: {len(blocks)} clips above the first track and on audio "
                               f"tracks; a document holds at most {MAX_BLOCKS} blocks")
        if blocks:
            document["blocks"] = blocks
        if not document.get("scenes") and not blocks:
            raise TimelineImportError(f"{self.source.name}: the timeline has no clips")
        markers = len(self.timeline.tracks.markers) - transcribed
        if transcribed:
            self.notes.append(f"captions: {transcribed} caption markers became their scenes' narration transcripts; "
                              f"the captions are timed again, word lengths spread over the recording")
        if markers:
            self.notes.append(f"markers: {markers} timeline markers left out: reelforge makes captions from "
                              f"narration only")
        if any(meta_of(c).get("role") == "narration" and (t.name, s, c.name) not in self.taken
               for t in audio for s, _, c, _ in self.items_of(t) if c is not None):
            self.notes.append("narration: clips not starting with a scene imported as audio blocks (no captions)")
        document["duration"] = _seconds(self.frames(self.timeline.duration()), self.fps)
        return document


def import_timeline(path: Path, out: Path, *, fps: float | None = None) -> ImportResult:
    """A document (JSON object) from the timeline in `path`, with paths relative to `out`'s folder; a .otioz
    bundle's media is unpacked into `<out stem>_media/` beside `out`. Validated: a DocumentError otherwise."""
    from reelforge.document.loader import load_document

    path, out = Path(path).absolute(), Path(out).absolute()
    extract = out.with_name(f"{out.stem}_media") if path.suffix.lower() == ".otioz" else None
    timeline = read_timeline(path, fps=fps, extract_to=extract)
    importer = Importer(timeline, path, out.parent, fps, extract)
    document = importer.document()
    load_document(json.loads(json.dumps(document)), base_dir=out.parent)  # raises DocumentError with JSON paths
    return ImportResult(document, importer.notes)
