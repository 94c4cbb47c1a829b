"""The six built-in cards as manim scenes: title, list item, quiz, stat, quote and end.

Each builds its few mobjects once, plays one entrance (≤ ~1 s), then holds; what moves later (the quiz's
countdown, the end card's pulse) is small, so Cairo redraws little per frame.
"""

from __future__ import annotations

import numpy as np
from manim import (
    DOWN,
    LEFT,
    ORIGIN,
    RIGHT,
    UP,
    Animation,
    Mobject,
    Rectangle,
    RoundedRectangle,
    VGroup,
    Write,
    linear,
    smooth,
    there_and_back,
)
from manim.utils.rate_functions import ease_out_cubic, squish_rate_func

from reelforge.cards.scene import (
    SERIF_HEAVY,
    SERIF_ITALIC,
    Appear,
    CardScene,
    Restyle,
    Tween,
    fit_inside,
    stack,
)
from reelforge.cards.text_fit import width_em
from reelforge.cards.timing import COUNT_SECONDS, frames_for, intro_frames, quiz_plan


def window(start: float, end: float, rate=smooth):
    """A rate function that runs `rate` between fractions `start` and `end` of an animation."""
    start, end = max(0.0, min(start, 1.0)), max(0.0, min(end, 1.0))
    return squish_rate_func(rate, start, max(end, start + 1e-6))


class BuiltinCard(CardScene):
    """Shared entrance: everything (and the backdrop, on transparent cards) comes in, then holds."""

    def entrance(self, content: Mobject, animations: list[Animation], frames: int | None = None) -> None:
        panel = self.backdrop(content)
        if panel is not None:
            self.add(panel)  # below the content; fades in with it
            animations = [Appear(panel, rate_func=window(0, 0.35)), *animations]
        self.play_frames(*animations, frames=frames or intro_frames(self.total_frames, self.fps))

    def accent_bar(self, width: float) -> Rectangle:
        bar = Rectangle(width=width, height=0.014 * self.short, stroke_width=0)
        return bar.set_fill(self.primary, opacity=1)


class TitleScene(BuiltinCard):
    """The title writes itself on; an accent bar grows under it; the subtitle fades up."""

    def construct(self) -> None:
        card, s = self.card, self.short
        title = self.text(card.title, em=0.12 * s, min_em=0.045 * s, max_height=self.safe_h * 0.6)
        bar = self.accent_bar(0.16 * s)
        subtitle = (self.text(card.subtitle, em=0.062 * s, heavy=False, opacity=0.85, max_height=self.safe_h * 0.25)
                    if card.subtitle else None)
        content = fit_inside(stack(title, bar, subtitle, buff=0.05 * s), self.safe_w, self.safe_h)
        animations: list[Animation] = [Write(title, rate_func=window(0, 0.8, linear)),
                                       Appear(bar, scale=0.0, fade=False, rate_func=window(0.45, 0.85))]
        if subtitle is not None:
            animations.append(Appear(subtitle, shift=UP * 0.03 * s, rate_func=window(0.5, 1.0)))
        self.entrance(content, animations)
        self.hold_to_end()


class ListItemScene(BuiltinCard):
    """A big number in the accent color, the headline, then the body; side by side on wide frames."""

    def construct(self) -> None:
        card, s = self.card, self.short
        number = self.text(str(card.number), em=0.32 * s, color=self.primary, max_height=self.safe_h * 0.32)
        if self.landscape:
            column_w = self.safe_w * 0.66
            number = fit_inside(number, self.safe_w * 0.28, self.safe_h)
            headline = self.text(card.title, em=0.085 * s, max_width=column_w, max_height=self.safe_h * 0.5, align="left")
            body = (self.text(card.body, em=0.056 * s, heavy=False, opacity=0.85, max_width=column_w,
                              max_height=self.safe_h * 0.45, align="left") if card.body else None)
            column = VGroup(*(m for m in (headline, body) if m is not None)).arrange(DOWN, aligned_edge=LEFT, buff=0.04 * s)
            content = VGroup(number, column).arrange(RIGHT, buff=0.07 * s).move_to(ORIGIN)
        else:
            headline = self.text(card.title, em=0.085 * s, max_height=self.safe_h * 0.3)
            body = (self.text(card.body, em=0.056 * s, heavy=False, opacity=0.85, max_height=self.safe_h * 0.3)
                    if card.body else None)
            content = stack(number, headline, body, buff=0.045 * s)
        fit_inside(content, self.safe_w, self.safe_h)
        animations: list[Animation] = [Appear(number, scale=0.6, rate_func=window(0, 0.5)),
                                       Appear(headline, shift=UP * 0.04 * s, rate_func=window(0.25, 0.75))]
        if body is not None:
            animations.append(Appear(body, shift=UP * 0.03 * s, rate_func=window(0.45, 1.0)))
        self.entrance(content, animations)
        self.hold_to_end()


class QuizScene(BuiltinCard):
    """The question, choices one by one in rounded boxes, a countdown (digit and shrinking bar), the answer."""

    def construct(self) -> None:
        card, s = self.card, self.short
        plan = quiz_plan(self.total_frames, self.fps, len(card.choices), card.countdown)
        question = self.text(card.question, em=0.075 * s, max_height=self.safe_h * 0.3)
        columns = 2 if self.landscape and len(card.choices) > 2 else 1
        gap = 0.035 * s
        choices = self.choices(card.choices, (self.safe_w - gap * (columns - 1)) / columns)
        grid = VGroup(*choices)
        if columns == 2:
            grid.arrange_in_grid(cols=2, buff=gap)
        else:
            grid.arrange(DOWN, buff=gap)
        track = Rectangle(width=grid.width, height=0.016 * s, stroke_width=0).set_fill(self.text_color, opacity=0.18)
        digit_slot = self.text("0", em=0.085 * s, color=self.primary)
        clock = stack(digit_slot, track, buff=0.025 * s)
        content = fit_inside(stack(question, grid, clock, buff=0.06 * s), self.safe_w, self.safe_h)
        scale = digit_slot.height / self.text("0", em=0.085 * s).height
        digit_center = digit_slot.get_center()
        bar = track.copy().set_fill(self.primary, opacity=1)

        intro = max(plan.intro_end, 1)
        animations: list[Animation] = [Appear(question, shift=DOWN * 0.03 * s, rate_func=window(0, plan.question / intro))]
        for choice, start in zip(choices, plan.choice_starts):
            animations.append(Appear(choice, shift=RIGHT * 0.04 * s,
                                     rate_func=window(start / intro, (start + plan.choice_frames) / intro)))
        if plan.tick_frames:
            animations.append(Appear(track, rate_func=window(0.6, 1.0)))
        self.entrance(content, animations, frames=intro)
        self.hold_until(plan.countdown_start)

        if plan.tick_frames:
            self.add(bar)
            ticks = len(plan.tick_frames)
            for index, frames in enumerate(plan.tick_frames):
                digit = self.text(str(ticks - index), em=0.085 * s, color=self.primary).scale(scale).move_to(digit_center)
                remaining = (ticks - index - 1) / ticks
                shrink = bar.animate(rate_func=linear).stretch_to_fit_width(max(track.width * remaining, 1e-3),
                                                                             about_edge=LEFT)
                self.play_frames(Appear(digit, scale=1.6, rate_func=window(0, 0.3)), shrink, frames=frames)
                self.remove(digit)
            self.remove(bar)
            self.remove(track)
        self.hold_until(plan.reveal)
        self.play_frames(*self.reveal(choices, card.answer), frames=plan.reveal_frames)
        self.hold_to_end()

    def choices(self, labels: list[str], width: float) -> list[VGroup]:
        """One rounded box per choice: a letter badge in the accent color and the text, all boxes the same size."""
        s = self.short
        pad = 0.035 * s
        badge_w = 0.075 * s
        texts = [self.text(label, em=0.056 * s, heavy=False, max_width=width - 3 * pad - badge_w,
                           max_height=0.12 * self.safe_h, max_lines=2, align="left") for label in labels]
        height = max(max(t.height for t in texts), 0.05 * s) + 2 * pad
        groups = []
        for index, text in enumerate(texts):
            box = RoundedRectangle(width=width, height=height, corner_radius=min(height / 2, 0.035 * s),
                                   stroke_width=0.5 * s)
            box.set_fill(self.text_color, opacity=0.1).set_stroke(self.text_color, opacity=0.35)
            letter = self.text("ABCD"[index], em=0.055 * s, color=self.primary)
            letter.move_to(box.get_left() + RIGHT * (pad + badge_w / 2))
            text.next_to(letter, RIGHT, buff=pad).align_to(box.get_left() + RIGHT * (2 * pad + badge_w), LEFT)
            text.set_y(box.get_y())
            groups.append(VGroup(box, letter, text))
        return groups

    def reveal(self, choices: list[VGroup], answer: int) -> list[Animation]:
        """The right choice fills with the accent color and grows a little; the others dim."""
        animations: list[Animation] = []
        for index, (box, letter, text) in enumerate(choices):
            if index == answer:
                animations += [Restyle(box, color=self.primary, fill_opacity=1.0, stroke_opacity=1.0),
                               Restyle(VGroup(letter, text), color=self.on_primary),
                               Tween(choices[index], scale=(1.0, 1.04))]
            else:
                animations.append(Restyle(choices[index], fade=0.65))
        return animations


class CountUp(Animation):
    """Drives a Counter from 0 to its value (rate function applied to the count)."""

    def create_starting_mobject(self) -> Mobject:
        return self.mobject  # the counter redraws itself from its value: no copy needed

    def interpolate_mobject(self, alpha: float) -> None:
        self.mobject.show(self.rate_func(alpha))


class Counter(VGroup):
    """A number drawn from glyphs made once, recomposed per frame (no text layout per frame).

    The final number (sign, digits, separators) is set once; every digit position also gets the ten digit
    glyphs on its baseline. A smaller value fills the rightmost positions (so separators line up), the sign
    and prefix follow its first digit, the suffix its last, and the whole stays centered. The prefix and suffix
    are set next to a "0" (then dropped) to find their spacing and baseline whatever characters they hold.
    """

    def __init__(self, scene: CardScene, value: float, decimals: int, prefix: str, suffix: str, em: float,
                 color: str, max_width: float):
        super().__init__()
        self.value, self.decimals = value, decimals
        sign = "-" if value < 0 else ""
        number = sign + self.format(value)
        face = scene.face(heavy=True)
        width = width_em(prefix + number + suffix, scene.ctx.fonts_dir / face.file)
        em = min(em, max_width / max(width, 1e-6))
        glyphs = scene.glyphs(number, em=em, face=face, color=color)
        digits = scene.glyphs("0123456789", em=em, face=face, color=color)
        self.number_glyphs = list(glyphs.submobjects)
        self.sign_glyph = self.number_glyphs[0] if sign else None
        self.slot_glyphs = self.number_glyphs[len(sign):]
        self.slots: list[dict[str, Mobject]] = []
        for glyph, char in zip(self.slot_glyphs, self.format(value)):
            if not char.isdigit():
                self.slots.append({char: glyph})
                continue
            reference = digits[int(char)]
            placed = {}
            for d in range(10):
                copy = digits[d].copy()
                copy.shift([glyph.get_x() - copy.get_x(),
                            glyph.get_bottom()[1] - reference.get_bottom()[1]
                            + digits[d].get_bottom()[1] - copy.get_bottom()[1], 0])
                placed[str(d)] = copy
            self.slots.append(placed)
        first_digit = next((g for g, c in zip(self.slot_glyphs, self.format(value)) if c.isdigit()), self.slot_glyphs[0])
        self.prefix_glyphs = self._affix(scene, prefix, em, color, face, self.number_glyphs[0], first_digit, before=True)
        self.suffix_glyphs = self._affix(scene, suffix, em, color, face, self.number_glyphs[-1], first_digit,
                                         before=False)
        self.displays = [g.copy() for g in self.prefix_glyphs + self.number_glyphs + self.suffix_glyphs]
        self.add(*self.displays)  # the mobjects drawn, reshaped per frame
        everything = VGroup(*(g.copy() for g in self.prefix_glyphs + self.number_glyphs + self.suffix_glyphs))
        self.final_center = everything.get_center()
        self.final_height = everything.height
        self.final_width = everything.width
        self.center_x = self.final_center[0]
        self.show(1.0)

    @staticmethod
    def _affix(scene: CardScene, affix: str, em: float, color: str, face, neighbour: Mobject, baseline_digit: Mobject,
               before: bool) -> list[Mobject]:
        """The prefix (or suffix) glyphs, placed where Pango would set them next to the number."""
        if not affix.strip():
            return []
        text = scene.glyphs(affix + "0" if before else "0" + affix, em=em, face=face, color=color, per_char=False)
        parts = list(text.submobjects)
        anchor = parts[-1] if before else parts[0]
        glyphs = parts[:-1] if before else parts[1:]
        group = VGroup(*glyphs)
        edge = neighbour.get_left()[0] - anchor.get_left()[0] if before else neighbour.get_right()[0] - anchor.get_right()[0]
        group.shift([edge, baseline_digit.get_bottom()[1] - anchor.get_bottom()[1], 0])
        return glyphs

    def format(self, value: float) -> str:
        return f"{abs(value):,.{self.decimals}f}"

    def show(self, fraction: float) -> None:
        """Draw the value at `fraction` of the way from 0 (reshaping the same glyph mobjects: manim keeps
        the family it saw when an animation started, so submobjects must not be replaced)."""
        text = self.format(self.value * fraction)
        if len(text) > len(self.slots):
            text = self.format(self.value)
        first = len(self.slots) - len(text)
        dx = self.slot_glyphs[first].get_x() - self.slot_glyphs[0].get_x()
        head = self.prefix_glyphs + ([self.sign_glyph] if self.sign_glyph is not None and text.strip("0.,") else [])
        shown = [(glyph, dx) for glyph in head]
        shown += [(self.slots[first + i][char], 0.0) for i, char in enumerate(text) if char in self.slots[first + i]]
        shown += [(glyph, 0.0) for glyph in self.suffix_glyphs]
        shown = [(glyph, shift) for glyph, shift in shown if glyph.has_points()]
        left = min(glyph.get_left()[0] + shift for glyph, shift in shown)
        right = max(glyph.get_right()[0] + shift for glyph, shift in shown)
        recenter = self.center_x - (left + right) / 2
        for index, display in enumerate(self.displays):
            if index < len(shown):
                glyph, shift = shown[index]
                display.points = glyph.points + np.array([shift + recenter, 0.0, 0.0])
            else:
                display.clear_points()

    def relocate(self, center: np.ndarray) -> None:
        """Move the number (and the glyphs it is composed from) so its final form is centered on `center`."""
        delta = np.asarray(center, dtype=float) - self.final_center
        sources = {id(g): g for g in self.prefix_glyphs + self.number_glyphs + self.suffix_glyphs}
        sources.update({id(g): g for slot in self.slots for g in slot.values()})
        for glyph in sources.values():
            glyph.shift(delta)
        self.center_x += delta[0]
        self.final_center = self.final_center + delta


class StatScene(BuiltinCard):
    """A big number counting up (ease-out, ~1.2 s) with its prefix and suffix, the label below."""

    def construct(self) -> None:
        card, s = self.card, self.short
        counter = Counter(self, card.value, card.decimals, card.prefix, card.suffix, em=0.26 * s,
                          color=self.primary, max_width=self.safe_w)
        label = (self.text(card.label, em=0.065 * s, heavy=False, max_height=self.safe_h * 0.35)
                 if card.label else None)
        gap = 0.06 * s
        height = counter.final_height + (gap + label.height if label is not None else 0)
        counter.relocate(np.array([0, height / 2 - counter.final_height / 2, 0]))
        if label is not None:
            label.move_to([0, height / 2 - counter.final_height - gap - label.height / 2, 0])
        outline = Rectangle(width=counter.final_width, height=counter.final_height).move_to(counter.final_center)
        content = VGroup(outline, *(m for m in (label,) if m is not None))  # for the backdrop's size
        count = max(1, min(frames_for(COUNT_SECONDS, self.fps), int(self.total_frames * 0.6)))
        counter.show(0.0)
        animations: list[Animation] = [CountUp(counter, rate_func=ease_out_cubic)]
        if label is not None:
            animations.append(Appear(label, shift=UP * 0.03 * s, rate_func=window(0.35, 0.75)))
        self.entrance(content, animations, frames=count)
        self.hold_to_end()


class QuoteScene(BuiltinCard):
    """A large quote mark in the accent color, the quote in italic serif, the author."""

    def construct(self) -> None:
        card, s = self.card, self.short
        mark = self.text("\u201c", em=0.42 * s, face=SERIF_HEAVY, color=self.primary)
        quote = self.text(card.quote, em=0.075 * s, face=SERIF_ITALIC, max_height=self.safe_h * 0.55)
        author = (self.text(f"\u2014 {card.author}", em=0.052 * s, heavy=False, color=self.primary,
                            max_height=self.safe_h * 0.15) if card.author else None)
        content = fit_inside(stack(mark, quote, author, buff=0.05 * s), self.safe_w, self.safe_h)
        animations: list[Animation] = [Appear(mark, scale=0.5, rate_func=window(0, 0.5)),
                                       Appear(quote, shift=UP * 0.03 * s, rate_func=window(0.15, 0.8))]
        if author is not None:
            animations.append(Appear(author, rate_func=window(0.5, 1.0)))
        self.entrance(content, animations)
        self.hold_to_end()


class EndScene(BuiltinCard):
    """The closing line and a call-to-action button that pulses (with a ring) every 1.5 s."""

    def construct(self) -> None:
        card, s = self.card, self.short
        title = self.text(card.title, em=0.11 * s, max_height=self.safe_h * 0.5)
        button = self.button(card.call_to_action) if card.call_to_action else None
        content = fit_inside(stack(title, button, buff=0.09 * s), self.safe_w, self.safe_h)
        animations: list[Animation] = [Appear(title, shift=UP * 0.04 * s, rate_func=window(0, 0.6))]
        if button is not None:
            animations.append(Appear(button, scale=0.0, rate_func=window(0.4, 1.0)))
        self.entrance(content, animations)
        if button is None:
            self.hold_to_end()
            return
        period, pulse = frames_for(1.5, self.fps), frames_for(0.6, self.fps)
        while self.total_frames - self.frames_done >= pulse + frames_for(0.3, self.fps):
            ring = button[0].copy().set_fill(opacity=0).set_stroke(self.primary, width=0.6 * s, opacity=0.9)
            self.add(ring)
            self.play_frames(Tween(button, scale=(1.0, 1.07), rate_func=there_and_back),
                             Tween(ring, scale=(1.0, 1.3), opacity=(1.0, 0.0), rate_func=smooth), frames=pulse)
            self.remove(ring)
            self.hold_until(min(self.frames_done + period - pulse, self.total_frames))
        self.hold_to_end()

    def button(self, label: str) -> VGroup:
        s = self.short
        em = 0.066 * s
        text = self.text(label, em=em, color=self.on_primary, max_width=self.safe_w * 0.8, max_lines=2)
        pill = RoundedRectangle(width=text.width + 1.4 * em, height=text.height + 1.0 * em, stroke_width=0,
                                corner_radius=(text.height + 1.0 * em) / 2 if text.height < 1.5 * em else 0.6 * em)
        pill.set_fill(self.primary, opacity=1)
        return VGroup(pill, text.move_to(pill.get_center()))
