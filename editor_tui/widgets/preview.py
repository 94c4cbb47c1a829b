"""A still frame in the terminal: half blocks everywhere (▀, fg = top pixel, bg = bottom pixel); kitty or sixel where available."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import Literal, Mapping

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

GraphicsProtocol = Literal["kitty", "sixel", "halfblock"]

_KITTY_PROGRAMS = {"kitty", "wezterm", "ghostty"}
_SIXEL_PROGRAMS = {"mlterm", "foot", "contour", "iterm.app", "mintty", "yaft", "blackbox"}


def graphics_protocol(environ: Mapping[str, str] | None = None) -> GraphicsProtocol:
    """Which image protocol the terminal speaks, from TERM / TERM_PROGRAM (tmux and screen hide it: half blocks)."""
    env = os.environ if environ is None else environ
    term = env.get("TERM", "").lower()
    program = env.get("TERM_PROGRAM", "").lower()
    if env.get("TMUX") or term.startswith(("screen", "tmux")):
        return "halfblock"
    if "kitty" in term or env.get("KITTY_WINDOW_ID") or program in _KITTY_PROGRAMS or term.startswith(("xterm-ghostty", "wezterm")):
        return "kitty"
    if "sixel" in term or program in _SIXEL_PROGRAMS or term.startswith(("mlterm", "foot", "contour", "yaft")):
        return "sixel"
    return "halfblock"


def fit_size(image_size: tuple[int, int], cells: Size) -> tuple[int, int]:
    """Pixels (width, height) of the image scaled into `cells` at two pixels a cell vertically, shape kept."""
    width, height = image_size
    max_w, max_h = max(cells.width, 1), max(cells.height * 2, 2)
    scale = min(max_w / width, max_h / height)
    fitted_w = max(1, int(width * scale))
    fitted_h = max(2, int(height * scale))
    return fitted_w, fitted_h + fitted_h % 2


def halfblock_strips(image, cells: Size) -> list[Strip]:
    """The image as lines of ▀ cells: each cell's foreground is the pixel above, its background the pixel below."""
    from PIL import Image

    width, height = fit_size(image.size, cells)
    pixels = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS).load()
    styles: dict[tuple, Style] = {}
    strips = []
    for row in range(0, height, 2):
        segments = []
        for column in range(width):
            top, bottom = pixels[column, row], pixels[column, row + 1]
            style = styles.get((top, bottom))
            if style is None:
                style = styles[(top, bottom)] = Style(color=Color.from_rgb(*top), bgcolor=Color.from_rgb(*bottom))
            segments.append(Segment("▀", style))
        strips.append(Strip(Segment.simplify(segments), width))
    return strips


def kitty_sequence(png: bytes, columns: int, rows: int) -> str:
    """The kitty graphics escape that shows a PNG over `columns` x `rows` cells at the cursor."""
    data = base64.standard_b64encode(png).decode("ascii")
    chunks = [data[i:i + 4096] for i in range(0, len(data), 4096)] or [""]
    parts = []
    for number, chunk in enumerate(chunks):
        more = 1 if number < len(chunks) - 1 else 0
        head = f"a=T,f=100,c={columns},r={rows},m={more}" if number == 0 else f"m={more}"
        parts.append(f"\x1b_G{head};{chunk}\x1b\\")
    return "".join(parts)


def sixel_sequence(image, max_width: int = 600) -> str:
    """The image as a DEC sixel escape (256 colors)."""
    from PIL import Image

    image = image.convert("RGB")
    if image.width > max_width:
        image = image.resize((max_width, max(1, image.height * max_width // image.width)), Image.Resampling.LANCZOS)
    indexed = image.quantize(colors=256)
    palette = indexed.getpalette()[: 256 * 3]
    width, height = indexed.size
    pixels = indexed.load()
    out = [f"\x1bPq\"1;1;{width};{height}"]
    used = sorted({pixels[x, y] for y in range(height) for x in range(width)})
    for index in used:
        r, g, b = palette[index * 3: index * 3 + 3]
        out.append(f"#{index};2;{r * 100 // 255};{g * 100 // 255};{b * 100 // 255}")
    for band in range(0, height, 6):
        masks: dict[int, list[int]] = {}  # color → one sixel (6 bits) per column, filled in one pass
        for bit, y in enumerate(range(band, min(band + 6, height))):
            for x in range(width):
                color = pixels[x, y]
                column_bits = masks.get(color)
                if column_bits is None:
                    column_bits = masks[color] = [0] * width
                column_bits[x] |= 1 << bit
        for color, column_bits in sorted(masks.items()):
            out.append(f"#{color}" + "".join(chr(63 + bits) for bits in column_bits) + "$")
        out.append("-")
    out.append("\x1b\\")
    return "".join(out)


class HalfBlockImage(Widget):
    """Shows a PNG with half blocks, scaled to the widget and centred; renders nothing until given an image."""

    DEFAULT_CSS = """
    HalfBlockImage { width: 1fr; height: 1fr; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._image = None
        self._strips: list[Strip] = []
        self._for_size: Size | None = None

    def show(self, png: Path) -> None:
        from PIL import Image

        with Image.open(png) as opened:
            self._image = opened.convert("RGB")
        self._for_size = None
        self.refresh()

    @property
    def image(self):
        return self._image

    def _ensure_strips(self) -> None:
        if self._image is not None and self._for_size != self.size:
            self._strips = halfblock_strips(self._image, self.size)
            self._for_size = self.size

    def render_line(self, y: int) -> Strip:
        self._ensure_strips()
        if not self._strips:
            return Strip.blank(self.size.width)
        top = (self.size.height - len(self._strips)) // 2
        index = y - top
        if not 0 <= index < len(self._strips):
            return Strip.blank(self.size.width)
        strip = self._strips[index]
        left = (self.size.width - strip.cell_length) // 2
        return Strip([Segment(" " * left), *strip]).adjust_cell_length(self.size.width)


def png_bytes(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
