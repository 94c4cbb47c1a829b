"""Colors as documents write them (#rgb, #rgba, #rrggbb, #rrggbbaa) and as each renderer wants them."""

from __future__ import annotations


def rgba(color: str) -> tuple[int, int, int, int]:
    """Red, green, blue and alpha, 0-255 (alpha 255 when the color has none)."""
    value = color.lstrip("#")
    if len(value) in (3, 4):
        value = "".join(ch * 2 for ch in value)
    alpha = int(value[6:8], 16) if len(value) == 8 else 255
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16), alpha


def rgb(color: str) -> tuple[int, int, int]:
    red, green, blue, _ = rgba(color)
    return red, green, blue


def ffmpeg_color(color: str) -> str:
    """0xRRGGBB for ffmpeg sources (alpha dropped)."""
    return "0x" + "".join(f"{channel:02x}" for channel in rgb(color))


def ass_color(color: str) -> str:
    """&HAABBGGRR for ASS override tags (ASS alpha: 00 opaque, FF transparent)."""
    red, green, blue, alpha = rgba(color)
    return f"&H{255 - alpha:02X}{blue:02X}{green:02X}{red:02X}"
