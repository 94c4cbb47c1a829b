"""The base class of card scenes: the card's fields, theme and timing, fonts, text that fits, frame-exact playing.

Plug-in cards subclass `CardScene` (the render worker also accepts any manim `Scene`). Sizes are in manim units:
the frame is 8 units high and `frame_width` wide (the document's aspect); `short` is the shorter side, so a
card looks the same on 9:16, 16:9, 1:1 and 4:5.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from manim import (
    DOWN,
    LEFT,
    ORIGIN,
    RIGHT,
    UP,
    Animation,
    Mobject,
    Paragraph,
    Rectangle,
    RoundedRectangle,
    Scene,
    Text,
    VGroup,
    Wait,
)
from pydantic import BaseModel

from reelforge.cards.text_fit import LINE_HEIGHT, fit_text
from reelforge.model.theme import Theme

FRAME_HEIGHT = 8.0
EM_PER_FONT_SIZE = 0.66 / 48  # Pango at font_size 48 sets one em in 0.66 manim units
PANGO_SIZE_DIVISOR = 4.8  # manim asks Pango for font_size / 4.8 pixels...
PANGO_MARGIN = 30  # ...on a pixel_width × pixel_height canvas, starting this far in
SAFE_WIDTH, SAFE_HEIGHT = 0.86, 0.84  # share of the frame text may use


@dataclass(frozen=True)
class Face:
    """A Pango font selection and the file it resolves to (the file is used to measure text)."""

    family: str
    weight: str
    slant: str
    file: str


# Theme font -> (body, heavy) faces; every file comes from reelforge.fonts (pip font packages).
FACES: dict[str, tuple[Face, Face]] = {
    "sans": (Face("Roboto", "NORMAL", "NORMAL", "Roboto-Regular.ttf"), Face("Roboto", "HEAVY", "NORMAL", "Roboto-Black.ttf")),
    "serif": (Face("Source Serif Pro", "SEMIBOLD", "NORMAL", "SourceSerifPro-Semibold.ttf"),
              Face("Source Serif Pro", "HEAVY", "NORMAL", "SourceSerifPro-Black.ttf")),
    "display": (Face("Fjalla One", "NORMAL", "NORMAL", "FjallaOne-Regular.ttf"),
                Face("Fjalla One", "NORMAL", "NORMAL", "FjallaOne-Regular.ttf")),
}
SERIF_ITALIC = Face("Source Serif Pro", "NORMAL", "ITALIC", "SourceSerifPro-It.ttf")
SERIF_HEAVY = FACES["serif"][1]


@dataclass(frozen=True)
class CardContext:
    """Everything a card scene draws from, set by the render worker before `construct` runs."""

    card: BaseModel
    theme: Theme
    width: int
    height: int
    fps: int
    frames: int
    transparent: bool
    background: str  # the card's background color (or, transparent, its backdrop panel's)
    fonts_dir: Path


def hex_rgb(color: str) -> tuple[float, float, float, float]:
    """Red, green, blue and alpha of a document color, 0 to 1."""
    from reelforge.colors import rgba

    return tuple(channel / 255 for channel in rgba(color))  # type: ignore[return-value]


def solid(color: str) -> str:
    """#rrggbb of a color (alpha dropped: manim takes opacity separately)."""
    r, g, b, _ = hex_rgb(color)
    return "#" + "".join(f"{round(c * 255):02x}" for c in (r, g, b))


def mix(a: str, b: str, amount: float) -> str:
    ca, cb = hex_rgb(a), hex_rgb(b)
    return "#" + "".join(f"{round((x + (y - x) * amount) * 255):02x}" for x, y in zip(ca[:3], cb[:3]))


def luminance(color: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = hex_rgb(color)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def readable_on(color: str, preferred: str) -> str:
    """`preferred` if it reads well on `color` (contrast ≥ 3), else near-black or white."""
    def contrast(x: str, y: str) -> float:
        a, b = sorted((luminance(x), luminance(y)), reverse=True)
        return (a + 0.05) / (b + 0.05)

    if contrast(color, preferred) >= 3:
        return solid(preferred)
    return "#111111" if contrast(color, "#111111") >= contrast(color, "#ffffff") else "#ffffff"


class CardScene(Scene):
    """A card: `self.card` (its fields), `self.theme`, `self.ctx`; helpers for text, layout and timing."""

    ctx: CardContext

    # -- what the card is ------------------------------------------------------------------------
    @property
    def card(self) -> Any:
        return self.ctx.card

    @property
    def theme(self) -> Theme:
        return self.ctx.theme

    @property
    def fps(self) -> int:
        return self.ctx.fps

    @property
    def total_frames(self) -> int:
        return self.ctx.frames

    @property
    def frame_w(self) -> float:
        return FRAME_HEIGHT * self.ctx.width / self.ctx.height

    @property
    def frame_h(self) -> float:
        return FRAME_HEIGHT

    @property
    def short(self) -> float:
        return min(self.frame_w, self.frame_h)

    @property
    def landscape(self) -> bool:
        return self.ctx.width > self.ctx.height * 1.25

    @property
    def safe_w(self) -> float:
        """Width text may use: most of the frame, but lines no longer than ~1.3 frame heights on wide frames."""
        return min(self.frame_w * SAFE_WIDTH, self.frame_h * 1.3)

    @property
    def safe_h(self) -> float:
        return self.frame_h * SAFE_HEIGHT

    @property
    def text_color(self) -> str:
        return solid(self.theme.text)

    @property
    def primary(self) -> str:
        return solid(self.theme.primary)

    @property
    def on_primary(self) -> str:
        """Text color on a primary-colored fill."""
        return readable_on(self.theme.primary, self.ctx.background)

    def face(self, heavy: bool = True) -> Face:
        return FACES[self.theme.font][1 if heavy else 0]

    # -- text ----------------------------------------------------------------------------------
    @property
    def canvas_scale(self) -> float:
        """Pango draws text on a pixel_width × pixel_height canvas and drops glyphs outside it: on small frames
        text is drawn this much smaller, then scaled back up (1 from ~600 px high)."""
        px_per_unit = 1.0 / (EM_PER_FONT_SIZE * PANGO_SIZE_DIVISOR) * 1.1
        return min(1.0, (self.ctx.width - 2 * PANGO_MARGIN) / (self.frame_w * px_per_unit),
                   (self.ctx.height - 2 * PANGO_MARGIN) / (self.frame_h * px_per_unit))

    def glyphs(self, content: str, *, em: float, face: Face | None = None, heavy: bool = True,
               color: str | None = None, per_char: bool = True) -> Text:
        """One line of text set at `em` (units). `per_char`: one submobject per character (spaces included)."""
        face = face or self.face(heavy)
        scale = self.canvas_scale
        mobject = Text(unicodedata.normalize("NFC", content), font=face.family, weight=face.weight,
                       slant=face.slant, font_size=em * scale / EM_PER_FONT_SIZE, disable_ligatures=per_char,
                       color=color or self.text_color)
        return mobject.scale(1 / scale) if scale != 1.0 else mobject

    def text(self, content: str, *, em: float, max_width: float | None = None, max_height: float | None = None,
             face: Face | None = None, heavy: bool = True, color: str | None = None, opacity: float = 1.0,
             align: str = "center", max_lines: int | None = None, min_em: float | None = None) -> Mobject:
        """`content` wrapped at word boundaries and sized (≤ `em`, in units) to fit the box; never larger."""
        face = face or self.face(heavy)
        max_width = max_width if max_width is not None else self.safe_w
        max_height = max_height if max_height is not None else self.safe_h
        content = unicodedata.normalize("NFC", content)
        fitted = fit_text(content, self.ctx.fonts_dir / face.file, em=em, max_width=max_width,
                          max_height=max_height, min_em=min_em, max_lines=max_lines)
        scale = self.canvas_scale
        options = dict(font=face.family, weight=face.weight, slant=face.slant, color=color or self.text_color,
                       font_size=fitted.em * scale / EM_PER_FONT_SIZE)
        try:
            if not one_glyph_per_character(content):
                raise ValueError("set line by line")
            mobject: Mobject = Paragraph(*fitted.lines, alignment=align, line_spacing=LINE_HEIGHT - 1.0,
                                         disable_ligatures=True, **options)
        except ValueError:
            # Characters that do not map to one glyph each (combining marks, emoji sequences) defeat
            # Paragraph's per-character line split: set each line on its own instead.
            lines = [Text(line, **options) for line in fitted.lines]
            edge = {"left": LEFT, "right": RIGHT}.get(align, ORIGIN)
            mobject = VGroup(*lines).arrange(DOWN, buff=fitted.em * scale * (LINE_HEIGHT - 1.0), aligned_edge=edge)
        if scale != 1.0:
            mobject.scale(1 / scale)
        mobject.set_opacity(opacity)
        return fit_inside(mobject, max_width, max_height)

    # -- background ------------------------------------------------------------------------------
    def setup(self) -> None:
        if not self.ctx.transparent:
            self.add(self.background_mobject())

    def background_mobject(self) -> Mobject:
        """A full-frame gradient: the background color, darker at the top, tinted toward the accent below."""
        base = self.ctx.background
        fill = Rectangle(width=self.frame_w + 0.1, height=self.frame_h + 0.1, stroke_width=0)
        fill.set_fill([mix(base, "#000000", 0.35), solid(base), mix(base, self.theme.primary, 0.18)], opacity=1)
        fill.set_sheen_direction(np.array([0.35, -1.0, 0.0]))
        return fill

    def backdrop(self, content: Mobject, padding: float | None = None) -> Mobject | None:
        """Transparent cards only: a translucent rounded panel behind `content` so text reads over any picture."""
        if not self.ctx.transparent:
            return None
        pad = padding if padding is not None else 0.06 * self.short
        width = min(content.width + 2 * pad, self.frame_w * 0.96)
        height = min(content.height + 2 * pad, self.frame_h * 0.96)
        panel = RoundedRectangle(width=width, height=height, corner_radius=min(0.05 * self.short, height / 2),
                                 stroke_width=0)
        panel.set_fill(solid(self.ctx.background), opacity=0.8 * hex_rgb(self.ctx.background)[3])
        panel.move_to(content.get_center())
        return panel

    # -- frame-exact timing ------------------------------------------------------------------------
    @property
    def frames_done(self) -> int:
        """Frames written so far."""
        written = getattr(self.renderer, "frames_written", None)
        return written if written is not None else int(round(self.renderer.time * self.fps))

    def seconds(self, frames: int) -> float:
        return frames / self.fps

    def play_frames(self, *animations: Animation, frames: int, **kwargs: Any) -> None:
        """Play `animations` over exactly `frames` frames (at least one: the worker trims the card's end)."""
        # manim samples t in arange(0, run_time, 1/fps): (frames - 0.5)/fps gives exactly `frames` samples.
        self.play(*animations, run_time=(max(frames, 1) - 0.5) / self.fps, **kwargs)

    def play_until(self, frame: int, *animations: Animation, **kwargs: Any) -> None:
        """Play `animations` so they end at card frame `frame`."""
        self.play_frames(*animations, frames=frame - self.frames_done, **kwargs)

    def hold_until(self, frame: int) -> None:
        """Show the current picture until card frame `frame` (static unless something has updaters)."""
        frames = frame - self.frames_done
        if frames <= 0:
            return
        if self.updaters or any(m.updaters for top in self.mobjects for m in top.get_family()):
            self.play(Wait(run_time=(frames - 0.5) / self.fps, frozen_frame=False))
        else:
            # A frozen wait writes int(run_time * fps) copies of one frame.
            self.play(Wait(run_time=(frames + 0.5) / self.fps, frozen_frame=True))

    def hold_to_end(self) -> None:
        self.hold_until(self.total_frames)


class Tween(Animation):
    """Scale, move and fade a mobject in place, between a start and an end state relative to how it is now.

    Unlike Transform-based animations (FadeIn, GrowFromCenter, `.animate`), it copies nothing when it starts:
    deep copies of every glyph otherwise dominate a short card's build time. Opacity factors multiply each
    part's own opacity; offsets are added to its position; scales are about its center.
    """

    def __init__(self, mobject: Mobject, *, scale: tuple[float, float] = (1.0, 1.0),
                 offset: tuple[Any, Any] = (None, None), opacity: tuple[float, float] = (1.0, 1.0), **kwargs: Any):
        self.scales = tuple(max(value, 1e-3) for value in scale)
        self.offsets = tuple(np.zeros(3) if value is None else np.asarray(value, dtype=float) for value in offset)
        self.opacity_factors = opacity
        super().__init__(mobject, **kwargs)

    def create_starting_mobject(self) -> Mobject:
        return self.mobject  # nothing to copy: states are relative to the mobject as given

    def begin(self) -> None:
        self.members = self.mobject.family_members_with_points()
        self.opacities = [(m.get_fill_rgbas()[:, 3].copy(), m.get_stroke_rgbas()[:, 3].copy()) for m in self.members]
        self.applied_scale, self.applied_offset = 1.0, np.zeros(3)
        super().begin()

    def interpolate_mobject(self, alpha: float) -> None:
        t = self.rate_func(alpha)
        scale = self.scales[0] + (self.scales[1] - self.scales[0]) * t
        offset = self.offsets[0] + (self.offsets[1] - self.offsets[0]) * t
        if scale != self.applied_scale:
            self.mobject.scale(scale / self.applied_scale)
        self.mobject.shift(offset - self.applied_offset)
        self.applied_scale, self.applied_offset = scale, offset
        factor = self.opacity_factors[0] + (self.opacity_factors[1] - self.opacity_factors[0]) * t
        if self.opacity_factors != (1.0, 1.0):
            for member, (fill, stroke) in zip(self.members, self.opacities):
                member.get_fill_rgbas()[:, 3] = fill * factor
                member.get_stroke_rgbas()[:, 3] = stroke * factor



class Restyle(Animation):
    """Change colors and opacities in place (fill and stroke of every part), without copying the mobject."""

    def __init__(self, mobject: Mobject, *, color: str | None = None, fill_opacity: float | None = None,
                 stroke_color: str | None = None, stroke_opacity: float | None = None, fade: float = 0.0,
                 **kwargs: Any):
        self.fill_target = (color, fill_opacity)
        self.stroke_target = (stroke_color if stroke_color is not None else color, stroke_opacity)
        self.fade = fade
        super().__init__(mobject, **kwargs)

    def create_starting_mobject(self) -> Mobject:
        return self.mobject

    def _target(self, rgbas: np.ndarray, color: str | None, opacity: float | None) -> np.ndarray:
        end = rgbas.copy()
        if color is not None:
            end[:, :3] = hex_rgb(color)[:3]
        if opacity is not None:
            end[:, 3] = opacity
        end[:, 3] *= 1.0 - self.fade
        return end

    def begin(self) -> None:
        self.ramps = []
        for member in self.mobject.family_members_with_points():
            fill, stroke = member.get_fill_rgbas(), member.get_stroke_rgbas()
            self.ramps.append((fill, fill.copy(), self._target(fill, *self.fill_target)))
            self.ramps.append((stroke, stroke.copy(), self._target(stroke, *self.stroke_target)))
        super().begin()

    def interpolate_mobject(self, alpha: float) -> None:
        t = self.rate_func(alpha)
        for live, start, end in self.ramps:
            live[...] = start + (end - start) * t


def Appear(mobject: Mobject, shift: Any = None, scale: float = 1.0, fade: bool = True, **kwargs: Any) -> Tween:
    """Come in: from `scale` times the size, `shift` back along the motion, and transparent (unless fade=False)."""
    start = None if shift is None else -np.asarray(shift, dtype=float)
    return Tween(mobject, scale=(scale, 1.0), offset=(start, None), opacity=(0.0 if fade else 1.0, 1.0), **kwargs)


def one_glyph_per_character(text: str) -> bool:
    """False when shaping may merge or split characters: marks, joiners, selectors, astral symbols (emoji)."""
    return not any(unicodedata.category(c) in ("Mn", "Mc", "Me", "Cf", "Co", "Cs") or ord(c) > 0xFFFF for c in text)


def fit_inside(mobject: Mobject, max_width: float, max_height: float) -> Mobject:
    """Scale `mobject` down (never up) so it fits `max_width` × `max_height`."""
    if mobject.width > max_width:
        mobject.scale_to_fit_width(max_width)
    if mobject.height > max_height:
        mobject.scale_to_fit_height(max_height)
    return mobject


def stack(*mobjects: Mobject | None, buff: float, center: np.ndarray = ORIGIN) -> VGroup:
    """The mobjects (None skipped) one under another, centered on `center`."""
    group = VGroup(*(m for m in mobjects if m is not None))
    group.arrange(DOWN, buff=buff)
    group.move_to(center)
    return group


__all__ = ["Appear", "CardContext", "Restyle", "Tween", "CardScene", "Face", "FACES", "SERIF_HEAVY", "SERIF_ITALIC", "fit_inside", "hex_rgb",
           "mix", "readable_on", "solid", "stack", "UP", "DOWN"]
