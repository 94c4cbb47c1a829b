"""Word-timed captions: narration words → cues (per style's words a line) → ASS events and sidecars."""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from reelforge.colors import ass_color, rgba
from reelforge.model.captions import Captions
from reelforge.model.theme import Theme
from reelforge.speech import WordTiming
from reelforge.timebase import FrameRange, Rate, to_fraction
from reelforge.timeline import Cue, TextEvent, TextStyleSpec

HOLD = Fraction(1, 4)  # seconds a line stays after its last word when nothing follows at once
MAX_GAP = Fraction(3, 5)  # gaps shorter than this are bridged: the line stays until the next one
NEON = "#39ff14"


@dataclass(frozen=True)
class WordGroup:
    words: tuple[WordTiming, ...]
    start: Fraction
    end: Fraction

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)


def group_words(words: tuple[WordTiming, ...] | list[WordTiming], per_line: int, limit: Fraction,
                min_seconds: Fraction | float = 0) -> list[WordGroup]:
    """Lines of at most `per_line` words that never cross a sentence end, timed to end before `limit`.

    A line that would show for less than `min_seconds` (its words spoken fast) takes in the next line of its
    sentence, or else joins the previous one, as long as the merged line holds at most twice `per_line` words;
    a short line that cannot merge (a one-word sentence) stays up to `min_seconds` when the next line starts later.
    """
    chunks: list[list[WordTiming]] = []
    current: list[WordTiming] = []
    for word in words:
        current.append(word)
        if len(current) >= per_line or word.ends_sentence:
            chunks.append(current)
            current = []
    if current:
        chunks.append(current)
    shortest = Fraction(min_seconds) if min_seconds else Fraction(0)
    if shortest > 0:
        chunks = _merge_short(chunks, 2 * per_line, shortest)
    groups = []
    for index, chunk in enumerate(chunks):
        groups.append(WordGroup(tuple(chunk), chunk[0].start, min(_shown_until(chunks, index, shortest), limit)))
    return [g for g in groups if g.end > g.start]


def _shown_until(chunks: list[list[WordTiming]], index: int, shortest: Fraction = Fraction(0)) -> Fraction:
    """When line `index` goes: at the next line when the pause before it is short, else HOLD after its last word
    (kept up to `shortest` after it appeared), never after the next line starts."""
    chunk = chunks[index]
    end = chunk[-1].end + HOLD
    if index + 1 < len(chunks):
        following = chunks[index + 1][0].start
        if following - chunk[-1].end < MAX_GAP:
            return following
        return min(max(end, chunk[0].start + shortest), following)
    return max(end, chunk[0].start + shortest)


def _merge_short(chunks: list[list[WordTiming]], most: int, shortest: Fraction) -> list[list[WordTiming]]:
    """`chunks` with each line shown for less than `shortest` merged into a neighbour of its sentence.

    A sentence's last line (but the scene's) counts as shown until HOLD after its last word, whenever the next
    sentence starts: how a sentence is cut into lines then depends on that sentence alone, so editing one
    sentence leaves the lines (and the cached video) of the sentences before it as they were."""
    chunks = [list(chunk) for chunk in chunks]
    index = 0
    while index < len(chunks):
        chunk = chunks[index]
        last_of_sentence = chunk[-1].ends_sentence and index + 1 < len(chunks)
        shown = chunk[-1].end + HOLD if last_of_sentence else _shown_until(chunks, index)
        if shown - chunk[0].start >= shortest:
            index += 1
            continue
        following = chunks[index + 1] if index + 1 < len(chunks) else None
        previous = chunks[index - 1] if index > 0 else None
        if following is not None and not chunk[-1].ends_sentence and len(chunk) + len(following) <= most:
            chunk.extend(chunks.pop(index + 1))  # look at the merged line again
        elif previous is not None and not previous[-1].ends_sentence and len(previous) + len(chunk) <= most:
            previous.extend(chunks.pop(index))
            index -= 1
        else:
            index += 1
    return chunks


def sentence_breaks(words: tuple[WordTiming, ...], rate: Rate, scene_start: int) -> list[int]:
    """The timeline frame after each of a scene's sentences but its last, once its last word is said: every
    frame before it shows only that sentence's captions and those before. (Not the next sentence's first frame:
    that moves with the next sentence's own leading pause, by a frame when it is edited.)"""
    return [scene_start + min(rate.frames(word.end, "ceil"), rate.frames(after.start))
            for word, after in zip(words, words[1:]) if word.ends_sentence]


def ass_escape(text: str) -> str:
    return text.replace("\\", "\u29f5").replace("{", "(").replace("}", ")").replace("\n", "\\N")


def caption_styles(captions: Captions, theme: Theme, width: int, height: int) -> dict[str, TextStyleSpec]:
    from reelforge.fonts import REGULAR_FAMILY, family_name

    short = min(width, height)
    vertical = height > width
    alignment = {"bottom": 2, "center": 5, "top": 8}[captions.position]
    # Bottom captions sit above the platform UI band of vertical video (about the lowest quarter).
    margin_v = {"bottom": int(height * (0.26 if vertical else 0.09)), "center": 0, "top": int(height * (0.16 if vertical else 0.08))}[captions.position]
    margin_h = int(width * 0.08)
    if captions.style == "bold_pop":
        spec = TextStyleSpec("caption", family_name(theme.font, heavy=True), int(short * 0.085), "#ffffff",
                             outline=max(short * 0.007, 2), shadow=short * 0.003, bold=False)
    elif captions.style == "minimal_white":
        spec = TextStyleSpec("caption", REGULAR_FAMILY, int(short * 0.055), "#ffffff", outline=max(short * 0.0025, 1),
                             shadow=short * 0.002, outline_color="#00000099")
    else:  # karaoke_neon
        spec = TextStyleSpec("caption", family_name(theme.font, heavy=True), int(short * 0.095), "#ffffff",
                             outline=max(short * 0.006, 2), outline_color="#0b0033", shadow=0)
    spec = TextStyleSpec(**{**spec.__dict__, "alignment": alignment, "margin_v": margin_v, "margin_l": margin_h, "margin_r": margin_h})
    return {"caption": spec}


def scene_captions(
    words: tuple[WordTiming, ...], captions: Captions, rate: Rate, scene_start: int, scene_frames: int, owner: str
) -> tuple[list[TextEvent], list[Cue]]:
    """Caption events and sidecar cues of one scene, in timeline frames."""
    limit = rate.seconds(scene_frames)
    groups = group_words(words, captions.line_words(), limit, to_fraction(captions.min_cue_seconds()))
    events: list[TextEvent] = []
    cues: list[Cue] = []

    def frames(start: Fraction, end: Fraction) -> FrameRange | None:
        a, b = scene_start + rate.frames(start), scene_start + min(rate.frames(end), scene_frames)
        return FrameRange(a, b - a) if b > a else None

    for group in groups:
        span = frames(group.start, group.end)
        if span is None:
            continue
        cues.append(Cue(span, group.text, owner))
        if captions.style == "karaoke_neon":
            for index, word in enumerate(group.words):
                end = group.words[index + 1].start if index + 1 < len(group.words) else group.end
                word_span = frames(word.start if index else group.start, end)
                if word_span is None:
                    continue
                parts = []
                for other_index, other in enumerate(group.words):
                    text = ass_escape(other.text)
                    if other_index == index:
                        parts.append(f"{{\\c{ass_color(NEON)}\\3c{ass_color('#0b3300')}\\blur2}}{text}{{\\r}}")
                    else:
                        parts.append(text)
                events.append(TextEvent(word_span, "caption", " ".join(parts), layer=5, role="caption", owner=owner))
        elif captions.style == "bold_pop":  # grows from 80% to full size in 90 ms
            for part, progress in _animated(span, rate, POP_SECONDS):
                size = f"{80 + 20 * progress:.1f}".removesuffix(".0")
                tags = f"{{\\fscx{size}\\fscy{size}}}" if progress < 1 else ""
                events.append(TextEvent(part, "caption", tags + ass_escape(group.text), layer=5, role="caption",
                                        owner=owner))
        else:  # fades in over 60 ms
            for part, progress in _animated(span, rate, FADE_SECONDS):
                tags = f"{{\\alpha&H{round(255 * (1 - progress)):02X}&}}" if progress < 1 else ""
                events.append(TextEvent(part, "caption", tags + ass_escape(group.text), layer=5, role="caption",
                                        owner=owner))
    return events, cues


# How long a line takes to appear: bold_pop's growth, minimal_white's fade; and the same as ASS animations, for a
# subtitle file a player shows on its own clock (`sidecar_events`).
POP_SECONDS = Fraction(9, 100)
FADE_SECONDS = Fraction(6, 100)
POP_TAGS = "{\\fscx80\\fscy80\\t(0,90,\\fscx100\\fscy100)}"
FADE_TAGS = "{\\fad(60,0)}"


def sidecar_events(events: list[TextEvent]) -> list[TextEvent]:
    """Caption events as a subtitle file holds them: each line's frame-by-frame entrance (`_animated`) joined back
    into one event that animates it (POP_TAGS, FADE_TAGS); karaoke's word events stay as they are."""
    joined: list[TextEvent] = []
    first_tags = ""  # the tags of the first frame of the line joined last
    for event in events:
        tags, plain = _split_tags(event.text)
        last = joined[-1] if joined else None
        if last is not None and _entrance(first_tags) and last.owner == event.owner \
                and last.range.end == event.range.start and _split_tags(last.text)[1] == plain and tags != first_tags:
            joined[-1] = replace(last, range=FrameRange(last.range.start, event.range.end - last.range.start))
            continue
        first_tags = tags
        entrance = _entrance(tags)
        joined.append(replace(event, text=entrance + plain) if entrance else event)
    return joined


def _entrance(tags: str) -> str:
    """The ASS animation of the entrance whose frame `tags` are ("" when they are none of one)."""
    return POP_TAGS if "\\fscx" in tags else FADE_TAGS if "\\alpha" in tags else ""


def _split_tags(text: str) -> tuple[str, str]:
    """An event's leading override block ("" when none) and the rest."""
    if text.startswith("{") and "}" in text:
        end = text.index("}") + 1
        return text[:end], text[end:]
    return "", text


def _animated(span: FrameRange, rate: Rate, seconds: Fraction) -> list[tuple[FrameRange, float]]:
    """A line's frames as one event per frame of its entrance (with how far in it is, at the frame's middle) and
    one for the rest (1.0). Drawn frame by frame rather than with \\t or \\fad, a line looks the same on every
    clock libass is given: ASS times are centiseconds, and where a clock puts a line's start within one moved an
    animation's progress at a frame by up to 5 ms (1.5% of bold_pop's size), so a piece rendered in another run,
    or the preview of a frame, drew the first frames of a line differently."""
    parts: list[tuple[FrameRange, float]] = []
    frame = 0
    while frame < span.duration and rate.seconds(frame) + rate.seconds(1) / 2 < seconds:
        parts.append((FrameRange(span.start + frame, 1), float((rate.seconds(frame) + rate.seconds(1) / 2) / seconds)))
        frame += 1
    if frame < span.duration:
        parts.append((FrameRange(span.start + frame, span.duration - frame), 1.0))
    return parts


def write_sidecar(cues: list[Cue], rate: Rate, path: Path, *, ass_styles: dict[str, TextStyleSpec] | None = None,
                  events: list[TextEvent] | None = None, size: tuple[int, int] | None = None) -> None:
    """Write cues as .srt, .vtt or .ass (the ASS form keeps the burned-in styling when given)."""
    import pysubs2

    from reelforge.fileio import write_atomic

    suffix = path.suffix.lower()
    if suffix == ".ass" and ass_styles is not None and events is not None and size is not None:
        subs = build_ass(events, ass_styles, size, rate)
    else:
        subs = pysubs2.SSAFile()
        for cue in cues:
            subs.append(pysubs2.SSAEvent(start=_ms(rate, cue.range.start), end=_ms(rate, cue.range.end), text=cue.text))
    fmt = {".srt": "srt", ".vtt": "vtt", ".ass": "ass", ".ssa": "ass"}.get(suffix)
    if fmt is None:
        from reelforge.errors import ReelforgeError

        raise ReelforgeError(f"unknown caption format {suffix!r}: use .srt, .vtt or .ass")
    write_atomic(path, subs.to_string(fmt))


def _ms(rate: Rate, frame: int) -> int:
    """A frame boundary in milliseconds, half a frame early: ASS keeps centiseconds, and a boundary set
    between two frames survives that rounding without moving to the neighbouring frame."""
    return max(int(round((rate.seconds(frame) - rate.seconds(1) / 2) * 1000)), 0)


def build_ass(events: list[TextEvent], styles: dict[str, TextStyleSpec], size: tuple[int, int], rate: Rate, offset: int = 0):
    """A pysubs2 file of `events` shifted by -offset frames, in a PlayRes of the frame size."""
    import pysubs2

    subs = pysubs2.SSAFile()
    subs.info["PlayResX"] = str(size[0])
    subs.info["PlayResY"] = str(size[1])
    subs.info["WrapStyle"] = "0"
    subs.info["ScaledBorderAndShadow"] = "yes"
    subs.styles.clear()
    for name, spec in styles.items():
        subs.styles[name] = pysubs2.SSAStyle(
            fontname=spec.font, fontsize=spec.size,
            primarycolor=_ass_style_color(spec.primary), secondarycolor=_ass_style_color(spec.secondary),
            outlinecolor=_ass_style_color(spec.outline_color), backcolor=_ass_style_color(spec.back_color),
            bold=spec.bold, italic=spec.italic, outline=spec.outline, shadow=spec.shadow,
            borderstyle=spec.border_style, alignment=pysubs2.Alignment(spec.alignment),
            marginl=spec.margin_l, marginr=spec.margin_r, marginv=spec.margin_v, spacing=spec.spacing,
        )
    for event in sorted(events, key=lambda e: (e.range.start, e.layer)):
        subs.append(pysubs2.SSAEvent(
            start=_ms(rate, event.range.start - offset), end=_ms(rate, event.range.end - offset),
            style=event.style, text=event.text, layer=event.layer,
        ))
    return subs


def _ass_style_color(color: str):
    import pysubs2

    red, green, blue, alpha = rgba(color)
    return pysubs2.Color(red, green, blue, 255 - alpha)
