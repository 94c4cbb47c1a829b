"""The frame-exact timeline renderers read: tracks of visual layers, text events and audio clips.

Everything here is in frames at the output rate; no template types appear. `compile_timeline` turns a
resolved document into a Timeline; `timeline_json` prints it for `reelforge timeline`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, is_dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from reelforge.timebase import FrameRange, Rate

VisualKind = Literal["video", "image", "color", "gradient", "card"]
TransitionKind = str  # the model's transition names; "cut" never reaches the timeline


@dataclass(frozen=True)
class LayerVisual:
    """What a layer shows, renderer-agnostic. Colors are #rrggbb(aa)."""

    kind: VisualKind
    path: Path | None = None
    fit: str = "cover"
    colors: tuple[str, ...] = ()
    angle: float = 180.0
    motion: str = "none"
    motion_amount: float = 0.0
    source_in: Fraction = Fraction(0)  # seconds into the source at the layer's first frame
    source_length: Fraction | None = None  # usable seconds of the source from source_in (None: unbounded)
    loop: bool = False
    media_size: tuple[int, int] | None = None
    card: Any = None  # kind "card": the card's model (fields), drawn by the card registry's scene
    theme: Any = None  # kind "card": the document theme
    transparent: bool = False  # kind "card": drawn over what is below (an overlay) rather than opaque


@dataclass(frozen=True)
class Layer:
    """A visual placed on the timeline. Scene layers carry the transition into the next scene."""

    range: FrameRange
    visual: LayerVisual
    name: str
    transition_out: TransitionKind | None = None
    transition_frames: int = 0


@dataclass(frozen=True)
class TextEvent:
    """Text burned in by libass: an ASS dialogue line (override tags included) in a named style."""

    range: FrameRange
    style: str
    text: str
    layer: int = 0
    role: Literal["caption", "overlay", "card"] = "overlay"
    owner: str = ""  # scene id or block path that produced it


@dataclass(frozen=True)
class TextStyleSpec:
    """An ASS style: sizes in pixels of the output frame."""

    name: str
    font: str
    size: int
    primary: str  # #rrggbb or #rrggbbaa
    secondary: str = "#ffffff"
    outline_color: str = "#000000"
    back_color: str = "#00000000"
    bold: bool = False
    italic: bool = False
    outline: float = 0.0
    shadow: float = 0.0
    border_style: int = 1  # 1 outline + shadow, 3 opaque box
    alignment: int = 2  # numpad: 1..9
    margin_l: int = 0
    margin_r: int = 0
    margin_v: int = 0
    spacing: float = 0.0


@dataclass(frozen=True)
class AudioClip:
    """A sound placed on the timeline."""

    path: Path
    range: FrameRange
    role: Literal["narration", "music", "effect"]
    source_in: Fraction = Fraction(0)
    volume: float = 1.0
    fade_in: Fraction = Fraction(0)
    fade_out: Fraction = Fraction(0)
    loop: bool = False
    source_length: Fraction | None = None  # seconds of the source used from source_in (a loop's length)
    owner: str = ""


@dataclass(frozen=True)
class Cue:
    """A caption line for sidecar files: text and its range."""

    range: FrameRange
    text: str
    owner: str = ""


@dataclass(frozen=True)
class MusicMix:
    ducking: bool = True
    duck_db: float = 12.0


@dataclass
class Timeline:
    rate: Rate
    width: int
    height: int
    frames: int
    scenes: list[Layer] = field(default_factory=list)
    overlays: list[Layer] = field(default_factory=list)
    texts: list[TextEvent] = field(default_factory=list)
    styles: dict[str, TextStyleSpec] = field(default_factory=dict)
    audio: list[AudioClip] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)
    music_mix: MusicMix = field(default_factory=MusicMix)
    name: str = ""
    quality: str = "web"
    # Frames where a scene's narration sentence has been said (all but its last; `captions.sentence_breaks`), when
    # captions show (without them no frame depends on the sentences): a renderer that caches pieces cuts there
    # when it can, so an edit to one sentence keeps the pieces before it.
    breaks: list[int] = field(default_factory=list)

    @property
    def duration(self) -> Fraction:
        return self.rate.seconds(self.frames)

    def seconds(self, frames: int) -> Fraction:
        return self.rate.seconds(frames)


def _plain(value):
    if is_dataclass(value):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Fraction):
        return float(value) if value.denominator != 1 else int(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, Rate):
        return value.ffmpeg()
    return value


def timeline_dict(timeline: Timeline) -> dict:
    """The timeline as plain JSON-able data (frames stay integers)."""
    out = _plain(
        {
            "name": timeline.name,
            "fps": timeline.rate.ffmpeg(),
            "width": timeline.width,
            "height": timeline.height,
            "frames": timeline.frames,
            "seconds": timeline.duration,
            "scenes": timeline.scenes,
            "overlays": timeline.overlays,
            "audio": timeline.audio,
            "texts": timeline.texts,
            "cues": timeline.cues,
        }
    )
    return out
