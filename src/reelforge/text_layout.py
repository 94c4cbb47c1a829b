"""On-screen text as ASS events: overlays, text blocks, and the built-in cards' text and motion."""

from __future__ import annotations

from fractions import Fraction
from reelforge.cache import content_key
from reelforge.captions import ass_escape
from reelforge.fonts import family_name
from reelforge.model.cards import EndCard, ListItemCard, QuizCard, QuoteCard, StatCard, TitleCard
from reelforge.model.text import Placement, TextStyle
from reelforge.model.theme import Theme
from reelforge.timebase import FrameRange, Rate
from reelforge.timeline import TextEvent, TextStyleSpec

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

    def _at(self, seconds: float | Fraction) -> int:
        return self.rate.frames(seconds)

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

    # -- cards --------------------------------------------------------------------------------
    def card(self, card, start: int, frames: int, owner: str) -> None:
        handler = {
            TitleCard: self._title, ListItemCard: self._list_item, QuizCard: self._quiz,
            StatCard: self._stat, QuoteCard: self._quote, EndCard: self._end,
        }[type(card)]
        handler(card, start, start + frames, owner)

    def _line(self, text: str, start: int, end: int, owner: str, *, y: float, size: float, color: str | None = None,
              heavy: bool = True, italic: bool = False, appear: float = 0.0, box: str | None = None,
              extra: str = "", max_chars: int = 28, font: str | None = None) -> None:
        """A centred line (wrapping) at height fraction `y`, shrunk when long so it never overflows."""
        longest = max((len(word) for word in text.split()), default=1)
        shrink = (max_chars / len(text)) ** 0.5 if len(text) > max_chars else 1.0
        shrink = min(shrink, 1.0 if longest <= 12 else 12 / longest)
        px = size * self.short * shrink
        style = self._style(
            font=font or family_name(self.theme.font, heavy=heavy), size=px, color=color or self.theme.text,
            italic=italic, outline=0, box=box, box_padding=px * 0.35, shadow=self.short * 0.003 if not box else 0,
        )
        begin = start + self._at(appear)
        fade_ms = 250
        tags = f"\\an5\\pos({self.width / 2:.0f},{y * self.height:.0f})\\fad({fade_ms},0){extra}"
        self._add(begin, end, style, f"{{{tags}}}{ass_escape(text)}", 4, "card", owner)

    def _title(self, card: TitleCard, start: int, end: int, owner: str) -> None:
        self._line(card.title, start, end, owner, y=0.44, size=0.11, extra="\\fscx90\\fscy90\\t(0,400,\\fscx100\\fscy100)", max_chars=22)
        if card.subtitle:
            self._line(card.subtitle, start, end, owner, y=0.58, size=0.055, color=self.theme.primary, heavy=False, appear=0.6)

    def _list_item(self, card: ListItemCard, start: int, end: int, owner: str) -> None:
        self._line(str(card.number), start, end, owner, y=0.3, size=0.3, color=self.theme.primary,
                   extra="\\fscx60\\fscy60\\t(0,300,\\fscx100\\fscy100)")
        self._line(card.title, start, end, owner, y=0.5, size=0.085, appear=0.35)
        if card.body:
            self._line(card.body, start, end, owner, y=0.64, size=0.05, heavy=False, appear=0.8, max_chars=60)

    def _quiz(self, card: QuizCard, start: int, end: int, owner: str) -> None:
        seconds = float(self.rate.seconds(end - start))
        self._line(card.question, start, end, owner, y=0.2, size=0.07, max_chars=40)
        shown = 0.5 + 0.45 * len(card.choices)
        reveal = max(shown + card.countdown, seconds - 1.5) if card.countdown else max(shown + 0.5, seconds - 1.5)
        reveal = min(reveal, max(seconds - 0.5, shown))
        reveal_frame = start + self._at(reveal)
        for index, choice in enumerate(card.choices):
            label = f"{'ABCD'[index]}  {choice}"
            y = 0.38 + index * 0.11
            appear = 0.5 + 0.45 * index
            self._line(label, start, reveal_frame, owner, y=y, size=0.055, heavy=False, appear=appear, box="#ffffff26", max_chars=30)
            if index == card.answer:
                self._line(label, reveal_frame, end, owner, y=y, size=0.055, color="#000000", box=self.theme.primary,
                           extra="\\t(0,200,\\fscx106\\fscy106)", max_chars=30)
            else:
                self._line(label, reveal_frame, end, owner, y=y, size=0.055, heavy=False, color="#ffffff66", box="#ffffff10", max_chars=30)
        for tick in range(card.countdown, 0, -1):
            at = reveal - tick
            if at < shown - 0.01:
                continue
            a = start + self._at(at)
            self._line(str(tick), a, min(a + self._at(1), reveal_frame), owner, y=0.84, size=0.12,
                       color=self.theme.primary, extra="\\fscx130\\fscy130\\t(0,250,\\fscx100\\fscy100)")

    def _stat(self, card: StatCard, start: int, end: int, owner: str) -> None:
        count_frames = min(self._at(1.2), max(end - start - 1, 1))
        steps = max(min(count_frames, 30), 1)
        for step in range(steps + 1):
            a = start + count_frames * step // steps
            b = start + count_frames * (step + 1) // steps if step < steps else end
            value = card.value * step / steps
            text = f"{card.prefix}{value:,.{card.decimals}f}{card.suffix}"
            style_extra = "" if step < steps else "\\t(0,200,\\fscx108\\fscy108)\\t(200,400,\\fscx100\\fscy100)"
            self._emit_stat(text, a, b, owner, style_extra, fade=step == 0)
        if card.label:
            self._line(card.label, start, end, owner, y=0.6, size=0.06, heavy=False, appear=0.6)

    def _emit_stat(self, text: str, a: int, b: int, owner: str, extra: str, fade: bool) -> None:
        px = 0.24 * self.short * min(1.0, 6 / max(len(text), 1))
        style = self._style(font=family_name(self.theme.font, heavy=True), size=px, color=self.theme.primary, shadow=self.short * 0.004)
        tags = f"\\an5\\pos({self.width / 2:.0f},{0.42 * self.height:.0f}){extra}" + ("\\fad(200,0)" if fade else "")
        self._add(a, b, style, f"{{{tags}}}{ass_escape(text)}", 4, "card", owner)

    def _quote(self, card: QuoteCard, start: int, end: int, owner: str) -> None:
        from reelforge.fonts import family_name as fam

        self._line("“", start, end, owner, y=0.26, size=0.25, color=self.theme.primary, font=fam("serif", heavy=True))
        self._line(card.quote, start, end, owner, y=0.46, size=0.065, italic=True, heavy=False, appear=0.2, max_chars=60,
                   font=fam("serif"))
        if card.author:
            self._line(f"— {card.author}", start, end, owner, y=0.64, size=0.045, color=self.theme.primary, heavy=False, appear=0.9)

    def _end(self, card: EndCard, start: int, end: int, owner: str) -> None:
        self._line(card.title, start, end, owner, y=0.42, size=0.09, max_chars=22)
        if card.call_to_action:
            self._line(card.call_to_action, start, end, owner, y=0.56, size=0.06, color="#000000", box=self.theme.primary,
                       appear=0.5, extra="\\t(500,700,\\fscx108\\fscy108)\\t(700,900,\\fscx100\\fscy100)")


def hex_rgb(color: str) -> str:
    """#rgb[a]/#rrggbb[aa] → 0xRRGGBB for ffmpeg (alpha dropped)."""
    value = color.lstrip("#")
    if len(value) in (3, 4):
        value = "".join(ch * 2 for ch in value)
    return "0x" + value[:6]
