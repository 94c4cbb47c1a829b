"""On-screen text as ASS events: scene overlays and text blocks, placed and styled for libass."""

from __future__ import annotations

from reelforge.fonts import family_name
from reelforge.model.text import Placement, TextStyle
from reelforge.model.theme import Theme
from reelforge.timebase import FrameRange, Rate
from reelforge.timeline import TextEvent, TextStyleSpec
from reelforge.timeline.captions import ass_escape
from reelforge.workspace import content_key

ANCHOR_ALIGNMENT = {
    "bottom_left": 1, "bottom": 2, "bottom_right": 3,
    "left": 4, "center": 5, "right": 6,
    "top_left": 7, "top": 8, "top_right": 9,
}
EDGE = 0.06  # fraction of the frame kept clear at the edges


class TextLayout:
    """Collects text styles and events for one timeline at one frame size."""

    def __init__(self, width: int, height: int, rate: Rate, theme: Theme):
        self.width, self.height, self.rate, self.theme = width, height, rate, theme
        self.short = min(width, height)
        self.styles: dict[str, TextStyleSpec] = {}
        self.events: list[TextEvent] = []

    # -- styles -------------------------------------------------------------------------------
    def _style(self, *, font: str, size: float, color: str, bold: bool = False, italic: bool = False,
               outline: float = 0.0, outline_color: str = "#000000", box: str | None = None,
               box_padding: float = 0.0, max_width: float = 0.86, shadow: float = 0.0) -> str:
        margin = int(self.width * (1 - max_width) / 2)
        spec = TextStyleSpec(
            name="", font=font, size=max(int(size), 8), primary=color, outline_color=box or outline_color,
            back_color="#00000080", bold=bold, italic=italic,
            outline=box_padding if box else outline, shadow=shadow, border_style=3 if box else 1,
            alignment=5, margin_l=margin, margin_r=margin, margin_v=0,
        )
        key = "t" + content_key(spec.__dict__)[:10]
        self.styles.setdefault(key, TextStyleSpec(**{**spec.__dict__, "name": key}))
        return key

    def _add(self, start: int, end: int, style: str, text: str, layer: int, role: str, owner: str) -> None:
        if end > start:
            self.events.append(TextEvent(FrameRange(start, end - start), style, text, layer, role, owner))  # type: ignore[arg-type]


    # -- placed text (overlays and text blocks) ----------------------------------------------------
    def placed(self, text: str, placement: Placement, style: TextStyle, start: int, end: int, owner: str,
               layer: int = 3, fade: bool = True) -> None:
        size = style.font_size * self.short
        alignment = ANCHOR_ALIGNMENT[placement.anchor]
        column, row = (alignment - 1) % 3, (alignment - 1) // 3  # column 0 left..2 right; row 0 bottom..2 top
        x = [EDGE, 0.5, 1 - EDGE][column] * self.width + placement.x * self.width
        y = [1 - EDGE, 0.5, EDGE][row] * self.height + placement.y * self.height
        style_name = self._style(
            font=family_name(self.theme.font, heavy=style.bold), size=size, color=style.color,
            outline=style.outline_width * self.short, outline_color=style.outline_color,
            box=style.box_color, box_padding=style.box_padding * size, max_width=placement.max_width,
            shadow=0 if style.box_color else self.short * 0.002,
        )
        tags = f"\\an{alignment}\\pos({x:.0f},{y:.0f})" + ("\\fad(150,150)" if fade else "")
        self._add(start, end, style_name, f"{{{tags}}}{ass_escape(text)}", layer, "overlay", owner)
