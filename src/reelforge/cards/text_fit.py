"""Fitting card text into a box: word wrapping, balanced lines and a font size, measured with the font file itself."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LINE_HEIGHT = 1.25  # line advance, in em, of a multi-line text (what CardScene asks Pango for)
INK_HEIGHT = 1.0  # height of one line's ink, in em (cap height + descender, with margin)
WIDTH_MARGIN = 1.03  # Pango and FreeType disagree by ~1%: wrap a little early


@lru_cache(maxsize=16)
def _font(path: str):
    from PIL import ImageFont

    return ImageFont.truetype(path, 1000)


def width_em(text: str, font_path: Path | str) -> float:
    """Advance width of `text` in em."""
    return _font(str(font_path)).getlength(text) / 1000 * WIDTH_MARGIN


def _break_word(word: str, font_path: Path | str, max_em: float) -> list[str]:
    """A word wider than the line, cut into pieces that fit (last resort for URLs and long compounds)."""
    pieces, current = [], ""
    for char in word:
        if current and width_em(current + char, font_path) > max_em:
            pieces.append(current)
            current = char
        else:
            current += char
    return pieces + ([current] if current else [])


def wrap(text: str, font_path: Path | str, max_em: float) -> list[str]:
    """Greedy wrap at word boundaries (explicit newlines kept) so no line is wider than `max_em` em."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            pieces = [word] if width_em(word, font_path) <= max_em else _break_word(word, font_path, max_em)
            for piece in pieces:
                candidate = f"{current} {piece}" if current else piece
                if current and width_em(candidate, font_path) > max_em:
                    lines.append(current)
                    current = piece
                else:
                    current = candidate
        lines.append(current)
    return [line for line in lines if line] or [text.strip() or " "]


def balanced_wrap(text: str, font_path: Path | str, max_em: float) -> list[str]:
    """The same number of lines as `wrap`, but as even as possible (no lone last word)."""
    lines = wrap(text, font_path, max_em)
    if len(lines) < 2:
        return lines
    low, high = min(max(width_em(word, font_path) for word in text.split()), max_em) * 0.5, max_em
    for _ in range(12):
        middle = (low + high) / 2
        if len(wrap(text, font_path, middle)) <= len(lines):
            high = middle
        else:
            low = middle
    return wrap(text, font_path, high)


@dataclass(frozen=True)
class FittedText:
    lines: tuple[str, ...]
    em: float  # font size: the em in frame units

    @property
    def height(self) -> float:
        return self.em * (INK_HEIGHT + LINE_HEIGHT * (len(self.lines) - 1))


def fit_text(text: str, font_path: Path | str, *, em: float, max_width: float, max_height: float,
             min_em: float | None = None, max_lines: int | None = None) -> FittedText:
    """The largest size ≤ `em` (down to `min_em`) at which `text`, wrapped at word boundaries, fits
    `max_width` × `max_height` (and `max_lines`).

    At `min_em` a word wider than the line is cut and the text may still be too tall: the caller scales the
    drawn text down to the box, so text never overflows whatever its length.
    """
    floor = min_em if min_em is not None else em * 0.35
    longest_word = max((width_em(word, font_path) for word in text.split()), default=0.0)
    size = em
    while True:
        lines = balanced_wrap(text, font_path, max_width / size)
        fitted = FittedText(tuple(lines), size)
        fits = (fitted.height <= max_height and (max_lines is None or len(lines) <= max_lines)
                and longest_word * size <= max_width)  # words are cut only when nothing else fits
        if fits or size <= floor:
            return fitted
        size = max(size * 0.93, floor)
