"""A reelforge Timeline as one OpenTimelineIO Timeline, frame for frame.

Tracks, bottom to top: "Scenes" (one clip per scene body, or per repeat of a looping clip; transitions as OTIO
Transitions centred on the cut, with the handles they need), "Overlays" (blocks and card overlays; more lanes
when they overlap, later ones higher), "Text" (text overlays and text blocks as generator clips); then audio:
"Narration", "Sound" (clips' own sound, audio blocks), "Music". Captions are timeline markers. Every time is
a whole frame at the document's rate.

Media the document does not have as files (cards, colors, gradients, held frames, spoken narration, composed
music) is written into a media folder by `MediaFolder`, named by content; the document's own assets are
referenced where they are.
"""

from __future__ import annotations

import math
import os
import re
import shutil
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from reelforge.errors import ReelforgeError
from reelforge.fileio import atomic_output
from reelforge.timebase import FrameRange, Rate
from reelforge.timeline import AudioClip, Layer, Timeline
from reelforge.workspace import Workspace, content_key

META = "reelforge"  # the metadata namespace on every object the export makes
SCENES, OVERLAYS, TEXT = "Scenes", "Overlays", "Text"
AUDIO_TRACKS = {"narration": "Narration", "effect": "Sound", "music": "Music"}
MAX_PIECES = 500  # repeats of one looping clip written as clips (a clip of a frame or two loops very often)


def otio_module():
    """opentimelineio, or a one-line error naming the extra that brings it."""
    try:
        import opentimelineio
    except ImportError:
        raise ReelforgeError("timeline export and import need OpenTimelineIO: pip install 'reelforge[interchange]'") from None
    return opentimelineio


@dataclass(frozen=True)
class Piece:
    """Frames [first, first + count) of a layer showing source frames from `source` on (at the timeline rate),
    or holding that one frame (`freeze`)."""

    first: int
    count: int
    source: int
    freeze: bool = False

    @property
    def end(self) -> int:
        return self.first + self.count


def _nearest(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def pieces_of(source_in: Fraction, length: Fraction | None, loop: bool, frames: int, rate: Rate, *,
              hold: bool) -> tuple[list[Piece], list[str]]:
    """How a layer of `frames` frames plays its source: one piece, a piece per repeat of a loop, or a piece and
    its last frame held (`hold`, pictures) or silence (sound). Also what could not be kept to the frame."""
    issues = []
    start = source_in * rate.value
    first_source = _nearest(start)
    if start != first_source:
        issues.append(f"starts {float(source_in):g} s into its source, between two frames: frame {first_source} is used")
    if length is None:
        return [Piece(0, frames, first_source)], issues
    live = max(math.ceil(length * rate.value), 1)
    if not loop:
        pieces = [Piece(0, min(frames, live), first_source)]
        if frames > live and hold:
            pieces.append(Piece(live, frames - live, first_source + live - 1, freeze=True))
        return pieces, issues
    period = length * rate.value
    if period.denominator != 1:
        issues.append(f"repeats every {float(length):g} s, not a whole number of frames: each repeat starts on the "
                      f"nearest frame")
    pieces, cycle = [], 0
    while len(pieces) < MAX_PIECES:
        a, b = math.ceil(cycle * period), min(frames, math.ceil((cycle + 1) * period))
        if a >= frames:
            break
        if b > a:
            pieces.append(Piece(a, b - a, _nearest(start - cycle * period + a)))
        cycle += 1
    if pieces and pieces[-1].end < frames:
        issues.append(f"repeats more than {MAX_PIECES} times: the last {frames - pieces[-1].end} frames are left empty")
    return pieces, issues


class MediaFolder:
    """The folder of generated media beside an export: files copied (hard-linked when it can) or written once,
    under names made of their content."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.written: list[Path] = []

    def _target(self, name: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / name

    def put(self, source: Path, name: str) -> Path:
        target = self._target(name)
        if not (target.is_file() and target.stat().st_size == source.stat().st_size):
            with atomic_output(target) as tmp:
                tmp.unlink()  # the name is free for the link
                try:
                    os.link(source, tmp)
                except OSError:
                    shutil.copyfile(source, tmp)
        self.written.append(target)
        return target

    def png(self, name: str, pixels) -> Path:
        from PIL import Image

        target = self._target(name)
        if not target.is_file():
            with atomic_output(target, suffix=".png") as tmp:
                Image.fromarray(pixels).save(tmp, format="PNG")
        self.written.append(target)
        return target


def _dump(model) -> dict:
    """A model's whole JSON form (defaults included: the importer must not fall back on other defaults)."""
    return model.model_dump(mode="json", by_alias=True)


def _plain_text(ass: str) -> str:
    """An ASS line's words: override blocks dropped, line breaks kept."""
    text = re.sub(r"\{[^}]*\}", "", ass).replace("\\N", "\n").replace("\\n", "\n").replace("\\h", " ")
    return text.replace("\u29f5", "\\")


@dataclass
class Builder:
    """Builds the OTIO timeline of one reelforge timeline; `notes` collects what OTIO itself cannot hold."""

    timeline: Timeline
    workspace: Workspace
    media: MediaFolder
    document: Any = None  # the model Document: the JSON of blocks and overlays goes into metadata
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.otio = otio_module()
        self.rate = self.timeline.rate
        self.fps = float(self.rate.value)
        self._names: dict[str, int] = {}
        self._durations: dict[Path, int | None] = {}

    # -- small helpers ----------------------------------------------------------------------------------
    def rt(self, frames: int):
        return self.otio.opentime.RationalTime(frames, self.fps)

    def tr(self, start: int, duration: int):
        return self.otio.opentime.TimeRange(self.rt(start), self.rt(duration))

    def unique(self, name: str) -> str:
        """Clip names are unique: the MLT adapter names its producers after them."""
        count = self._names.get(name, 0) + 1
        self._names[name] = count
        return name if count == 1 else f"{name}#{count}"

    def media_frames(self, path: Path) -> int | None:
        """Frames (at the timeline rate) a file's media lasts; None for a still."""
        if path not in self._durations:
            from reelforge.resolve.media import probe

            info = probe(path, str(path), self.workspace)
            self._durations[path] = None if info.duration is None else max(math.ceil(info.duration * self.rate.value), 1)
        return self._durations[path]

    def generated(self, path: Path) -> bool:
        try:
            Path(path).resolve().relative_to(self.workspace.cache.resolve())
            return True
        except ValueError:
            return False

    def reference(self, path: Path, available: int, name: str | None = None):
        """An external reference to `path` (copied into the media folder first when it is generated)."""
        path = Path(path)
        if self.generated(path):
            path = self.media.put(path, name or path.name)
        return self.otio.schema.ExternalReference(
            target_url=self.otio.url_utils.url_from_filepath(str(path.resolve())),
            available_range=self.tr(0, available))

    def owner_json(self, owner: str) -> dict | None:
        """The JSON of the block, overlay or card overlay an owner path names (None when it names none)."""
        document = self.document
        if document is None:
            return None
        match = re.fullmatch(r"blocks\[(\d+)\]", owner)
        if match:
            return _dump(document.blocks[int(match.group(1))])
        match = re.fullmatch(r"(.+)\.(overlays\[(\d+)\]|cardOverlay)", owner)
        if match:
            for scene in document.scenes:
                if scene.id == match.group(1):
                    if match.group(3) is not None:
                        return _dump(scene.overlays[int(match.group(3))])
                    return _dump(scene.card_overlay) if scene.card_overlay else None
        return None

    # -- what a layer shows -------------------------------------------------------------------------------
    def layer_media(self, layer: Layer, who: str) -> tuple[list[Piece], dict, Any]:
        """A layer's pieces, its metadata, and a function making the media reference of a piece."""
        visual = layer.visual
        frames = layer.range.duration
        meta: dict[str, Any] = {"kind": visual.kind, "owner": layer.name}
        if visual.kind in ("video", "image"):
            meta["fit"] = visual.fit
        if visual.kind == "video":
            pieces, issues = pieces_of(visual.source_in, visual.source_length, visual.loop, frames, self.rate, hold=True)
            self.notes += [f"{who}: {issue}" for issue in issues]
            available = self.media_frames(visual.path) or frames
            self._fit_note(layer, who)

            def reference(piece: Piece):
                if piece.freeze:
                    return self.still_reference(self.held_frame(visual.path, piece.source), piece.count)
                return self.reference(visual.path, available)
            return pieces, meta, reference
        pieces = [Piece(0, frames, 0)]
        if visual.kind == "card":
            meta["card"] = visual.card.model_dump(mode="json", by_alias=True)
            meta["transparent"] = visual.transparent
            if visual.colors:
                meta["background"] = visual.colors[0]
            path = visual.path
            return pieces, meta, lambda piece: self.reference(path, frames, f"card-{path.stem[:20]}{path.suffix}")
        if visual.kind == "image":
            self._fit_note(layer, who)
            if visual.motion != "none" and visual.motion_amount > 0:
                self.notes.append(f"{who}: camera motion {visual.motion} ({visual.motion_amount:g}) left out: the still "
                                  f"is placed as it is")
            meta["motion"] = visual.motion
            meta["motionAmount"] = visual.motion_amount
            path = visual.path
            return pieces, meta, lambda piece: self.still_reference(path, frames)
        if visual.kind == "color":
            color = visual.colors[0]
            meta["color"] = color
            return pieces, meta, lambda piece: self.still_reference(self.color_png(color), frames)
        # gradient
        from reelforge.renderers.stills import gradient_png

        meta["colors"] = list(visual.colors)
        meta["angle"] = visual.angle
        png = gradient_png(visual.colors, visual.angle, self.timeline.width, self.timeline.height,
                           self.workspace.folder("stills"))
        return pieces, meta, lambda piece: self.still_reference(png, frames)

    def _fit_note(self, layer: Layer, who: str) -> None:
        size = layer.visual.media_size
        w, h = self.timeline.width, self.timeline.height
        if size is not None and size[0] * h != size[1] * w:
            self.notes.append(f"{who}: fit '{layer.visual.fit}' of {layer.visual.path.name} ({size[0]}x{size[1]} in a "
                              f"{w}x{h} frame) left out: the editor scales it its own way")

    def still_reference(self, path: Path, frames: int):
        return self.reference(path, frames)

    def color_png(self, color: str) -> Path:
        import numpy as np

        from reelforge.colors import rgb

        pixels = np.empty((self.timeline.height, self.timeline.width, 3), np.uint8)
        pixels[:] = rgb(color)
        return self.media.png(f"color-{color.lstrip('#').lower()}-{self.timeline.width}x{self.timeline.height}.png",
                              pixels)

    def held_frame(self, path: Path, source_frame: int) -> Path:
        """The source frame a layer holds (the one shown at timeline-rate frame `source_frame`), as a PNG."""
        import av

        name = f"held-{content_key(self.workspace.file_hash(path), source_frame, self.rate.ffmpeg())[:20]}.png"
        target = self.media.folder / name
        if target.is_file():
            self.media.written.append(target)
            return target
        # As the renderers pick: the source frame on screen just before half an output frame after its time.
        moment = float((Fraction(source_frame) + Fraction(1, 2)) / self.rate.value) - 1e-6
        picked = None
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for frame in container.decode(stream):
                if picked is not None and frame.time is not None and frame.time > moment:
                    break
                picked = frame
        if picked is None:
            raise ReelforgeError(f"{path.name}: no frame to hold at {moment:.3f} s")
        return self.media.png(name, picked.to_ndarray(format="rgb24"))

    # -- tracks -------------------------------------------------------------------------------------------
    def clip(self, name: str, reference, source: int, count: int, meta: dict):
        return self.otio.schema.Clip(name=self.unique(name), media_reference=reference,
                                     source_range=self.tr(source, count), metadata={META: meta})

    def fill(self, track, items: list[tuple[int, Any]], end: int | None = None) -> None:
        """Items (timeline start, clip) appended in order with gaps between."""
        at = 0
        for start, item in items:
            if start > at:
                track.append(self.otio.schema.Gap(source_range=self.tr(0, start - at)))
            track.append(item)
            at = start + item.source_range.duration.to_frames()
        if end is not None and end > at:
            track.append(self.otio.schema.Gap(source_range=self.tr(0, end - at)))

    def scene_track(self):
        otio = self.otio
        scenes = [layer for layer in self.timeline.scenes if layer.range.start < self.timeline.frames]
        total = self.timeline.frames
        track = otio.schema.Track(name=SCENES, kind=otio.schema.TrackKind.Video)
        # Where each scene's clips meet the next one's: the middle of their transition, or the cut.
        cuts = []
        for index, layer in enumerate(scenes[:-1]):
            t = layer.transition_frames
            start = layer.range.end - t
            cuts.append((start + t // 2, t // 2, t - t // 2) if t else (scenes[index + 1].range.start, 0, 0))
        entries: list[tuple[int, Any]] = []
        edges = []  # per scene: (first clip, its piece's own start on the timeline, last clip, its piece's end, its room)
        for index, layer in enumerate(scenes):
            who = f"scene {layer.name}"
            low = layer.range.start if index == 0 else cuts[index - 1][0]
            high = min(cuts[index][0] if index < len(cuts) else layer.range.end, total)
            pieces, meta, reference = self.layer_media(layer, who)
            made = []
            for piece in pieces:
                a, b = max(layer.range.start + piece.first, low), min(layer.range.start + piece.end, high)
                if b <= a:
                    continue
                ref = reference(piece)
                # A held frame is a still as long as its piece: its clip starts where in the piece it is shown.
                source = (0 if piece.freeze else piece.source) + a - (layer.range.start + piece.first)
                clip = self.clip(layer.name, ref, source, b - a, meta)
                made.append((a, clip, piece, ref))
            entries += [(a, clip) for a, clip, _, _ in made]
            edges.append(made)
        self.fill(track, entries, total)
        # Transitions between the last clip of one scene and the first of the next, shortened to the handles.
        for index, (cut, before, after) in enumerate(cuts):
            if not (before or after) or not edges[index] or not edges[index + 1]:
                continue
            layer, following = scenes[index], scenes[index + 1]
            a_start, a_clip, a_piece, a_ref = edges[index][-1]
            b_start, b_clip, b_piece, b_ref = edges[index + 1][0]
            a_end = a_start + a_clip.source_range.duration.to_frames()
            if a_end != cut or b_start != cut:
                continue
            room_after = layer.range.start + a_piece.end - cut
            available = a_ref.available_range.duration.to_frames() if a_ref.available_range else room_after
            room_after = max(min(room_after, available - a_clip.source_range.end_time_exclusive().to_frames()), 0)
            room_before = cut - (following.range.start + b_piece.first)
            room_before = max(min(room_before, b_clip.source_range.start_time.to_frames()), 0)
            room_after = min(room_after, total - cut)
            in_offset, out_offset = min(before, room_before), min(after, room_after)
            kind = layer.transition_out or "crossfade"
            wanted = before + after
            if (in_offset, out_offset) != (before, after):
                short = []
                if out_offset < after:
                    short.append(f"{layer.name} has {room_after} of the {after} frames it needs after the cut")
                if in_offset < before:
                    short.append(f"{following.name} has {room_before} of the {before} frames it needs before the cut")
                shown = in_offset + out_offset
                self.notes.append(f"transition {layer.name} -> {following.name}: {kind} of {wanted} frames "
                                  + (f"shortened to {shown}" if shown else "left as a cut")
                                  + f" ({'; '.join(short)})")
            if not (in_offset or out_offset):
                continue
            transition = otio.schema.Transition(
                name=kind,
                transition_type=(otio.schema.TransitionTypes.SMPTE_Dissolve if kind == "crossfade"
                                 else otio.schema.TransitionTypes.Custom),
                in_offset=self.rt(in_offset), out_offset=self.rt(out_offset),
                metadata={META: {"kind": kind, "frames": wanted}})
            track.insert(track.index(b_clip), transition)
        return track

    def lanes(self, items: list[tuple[FrameRange, Any]], stacked: bool) -> list[list[tuple[FrameRange, Any]]]:
        """Items spread over as few lanes as keep them apart; `stacked`: a later item goes above every earlier one
        it overlaps (the order pictures draw in)."""
        lanes: list[list[tuple[FrameRange, Any]]] = []
        for span, item in items:
            busy = [i for i, lane in enumerate(lanes) if any(span.overlaps(other) for other, _ in lane)]
            if stacked:
                index = max(busy) + 1 if busy else 0
            else:
                index = next(i for i in range(len(lanes) + 1) if i not in busy)
            while len(lanes) <= index:
                lanes.append([])
            lanes[index].append((span, item))
        return lanes

    @staticmethod
    def lane_name(name: str, index: int) -> str:
        return name if index == 0 else f"{name} {index + 1}"

    def overlay_tracks(self) -> list:
        otio = self.otio
        total = self.timeline.frames
        items = []
        for layer in self.timeline.overlays:
            end = min(layer.range.end, total)
            if end > layer.range.start:
                items.append((FrameRange(layer.range.start, end - layer.range.start), layer))
        tracks = []
        for index, lane in enumerate(self.lanes(items, stacked=True)):
            track = otio.schema.Track(name=self.lane_name(OVERLAYS, index), kind=otio.schema.TrackKind.Video)
            entries = []
            for span, layer in lane:
                pieces, meta, reference = self.layer_media(layer, layer.name)
                source_json = self.owner_json(layer.name)
                if source_json is not None:
                    meta["source"] = source_json
                for piece in pieces:
                    a, b = layer.range.start + piece.first, min(layer.range.start + piece.end, span.end)
                    if b > a:
                        entries.append((a, self.clip(layer.name, reference(piece), 0 if piece.freeze else piece.source,
                                                     b - a, meta)))
            self.fill(track, entries)
            tracks.append(track)
        return tracks

    def text_tracks(self) -> list:
        otio = self.otio
        events = sorted((e for e in self.timeline.texts if e.role != "caption"), key=lambda e: (e.layer, e.range.start))
        tracks = []
        if events:
            self.notes.append(f"text: {len(events)} overlays as 'Text' generator clips (words, font, size, color): an "
                              f"editor draws them its own way, or shows a placeholder")
        for index, lane in enumerate(self.lanes([(e.range, e) for e in events], stacked=True)):
            track = otio.schema.Track(name=self.lane_name(TEXT, index), kind=otio.schema.TrackKind.Video)
            entries = []
            for span, event in lane:
                text = _plain_text(event.text)
                style = self.timeline.styles.get(event.style)
                meta = {"kind": "text", "owner": event.owner, "text": text, "ass": event.text}
                if style is not None:
                    meta["style"] = {k: v for k, v in style.__dict__.items()}
                source_json = self.owner_json(event.owner)
                if source_json is not None:
                    meta["source"] = source_json
                reference = otio.schema.GeneratorReference(
                    name="text", generator_kind="Text", available_range=self.tr(0, span.duration),
                    parameters={"text": text, **({"font": style.font, "size": style.size, "color": style.primary}
                                                 if style is not None else {})})
                name = text.splitlines()[0][:40] if text.strip() else event.owner
                entries.append((span.start, self.clip(name, reference, 0, span.duration, meta)))
            self.fill(track, entries)
            tracks.append(track)
        return tracks

    def audio_tracks(self) -> list:
        otio = self.otio
        total = self.timeline.frames
        tracks = []
        for role, name in AUDIO_TRACKS.items():
            clips = [c for c in self.timeline.audio if c.role == role and c.range.start < total]
            for index, lane in enumerate(self.lanes([(c.range, c) for c in clips], stacked=False)):
                track = otio.schema.Track(name=self.lane_name(name, index), kind=otio.schema.TrackKind.Audio)
                entries = []
                for span, sound in lane:
                    entries += self.sound_clips(sound)
                self.fill(track, entries)
                tracks.append(track)
        return tracks

    def sound_clips(self, sound: AudioClip) -> list[tuple[int, Any]]:
        label = sound.owner or sound.role
        who = label if label == sound.role else f"{sound.role} {label}"
        available = self.media_frames(sound.path) or sound.range.duration
        length = sound.source_length
        if length is None and sound.loop:
            length = Fraction(available, 1) / self.rate.value
        pieces, issues = pieces_of(sound.source_in, length, sound.loop, sound.range.duration, self.rate, hold=False)
        self.notes += [f"{who}: {issue}" for issue in issues]
        meta = {"kind": "audio", "role": sound.role, "owner": sound.owner, "volume": sound.volume,
                "fadeIn": float(sound.fade_in), "fadeOut": float(sound.fade_out)}
        if sound.volume != 1:
            self.notes.append(f"{who}: level {sound.volume:g} kept as reelforge metadata only (editors play the clip "
                              f"at its own level)")
        if sound.fade_in or sound.fade_out:
            self.notes.append(f"{who}: fade in {float(sound.fade_in):g} s / out {float(sound.fade_out):g} s kept as "
                              f"reelforge metadata only")
        name = {"narration": f"narration-{label}.wav"}.get(sound.role)
        reference = self.reference(sound.path, available, name or f"{sound.role}-{Path(sound.path).name}")
        entries = []
        for piece in pieces:
            count = min(piece.count, available - piece.source)
            if count > 0:
                entries.append((sound.range.start + piece.first, self.clip(label, reference, piece.source, count, meta)))
        return entries

    def markers(self) -> list:
        otio = self.otio
        return [otio.schema.Marker(name=cue.text, marked_range=self.tr(cue.range.start, cue.range.duration),
                                   color=otio.schema.MarkerColor.YELLOW,
                                   metadata={META: {"kind": "caption", "owner": cue.owner}})
                for cue in self.timeline.cues]

    def build(self):
        otio = self.otio
        timeline = self.timeline
        result = otio.schema.Timeline(name=timeline.name or "reelforge", global_start_time=self.rt(0))
        result.metadata[META] = {"version": 1, "fps": timeline.rate.ffmpeg(), "width": timeline.width,
                                 "height": timeline.height, "frames": timeline.frames, "quality": timeline.quality}
        if self.document is not None:
            result.metadata[META]["theme"] = _dump(self.document.theme)
        result.tracks.append(self.scene_track())
        result.tracks.extend(self.overlay_tracks())
        result.tracks.extend(self.text_tracks())
        result.tracks.extend(self.audio_tracks())
        result.tracks.markers.extend(self.markers())
        if any(c.role == "music" for c in timeline.audio):
            mix = timeline.music_mix
            result.metadata[META]["musicMix"] = {"ducking": mix.ducking, "duckDb": mix.duck_db}
            if mix.ducking and any(c.role == "narration" for c in timeline.audio):
                self.notes.append(f"music: ducking under the narration ({mix.duck_db:g} dB) left out: mix it in the "
                                  f"editor")
        if timeline.audio:
            self.notes.append("sound: loudness normalization to -14 LUFS left out: the editor's mix plays the clips "
                              "as they are")
        return result


def build_otio(timeline: Timeline, workspace: Workspace, media: MediaFolder, document=None) -> tuple[Any, list[str]]:
    """The OTIO Timeline of a reelforge timeline (cards rendered first), and the notes on what OTIO cannot hold."""
    from concurrent.futures import ThreadPoolExecutor

    from reelforge.renderers.card_layers import render_missing_cards, with_card_files

    timeline = with_card_files(timeline, workspace)
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="card") as pool:
        for future in render_missing_cards(timeline, pool, workspace).values():
            future.result()
    builder = Builder(timeline, workspace, media, document)
    return builder.build(), builder.notes
