"""When things happen in a card, in frames: entrances fill at most ~1 s, the quiz reveal leaves ≥ 1 s on screen."""

from __future__ import annotations

from dataclasses import dataclass

INTRO_SECONDS = 1.0  # entrances are done by then (or by half the card, if shorter)
REVEAL_TAIL_SECONDS = 1.0  # the quiz answer stays at least this long
COUNT_SECONDS = 1.2  # the stat counts up this long


def frames_for(seconds: float, fps: int) -> int:
    return max(int(round(seconds * fps)), 0)


def intro_frames(total: int, fps: int, seconds: float = INTRO_SECONDS) -> int:
    """Frames of a card's entrance: `seconds`, but never more than half the card (and at least one frame)."""
    return max(1, min(frames_for(seconds, fps), total // 2 or 1))


@dataclass(frozen=True)
class QuizPlan:
    """Frame numbers (from the card's first frame) of a quiz card's beats."""

    question: int  # frames of the question's entrance (from 0)
    choice_starts: tuple[int, ...]  # each choice starts appearing here...
    choice_frames: int  # ...and takes this long
    countdown_start: int
    tick_frames: tuple[int, ...]  # length of each countdown tick (countdown, countdown-1, ..., 1)
    reveal: int  # the answer is highlighted from here
    reveal_frames: int
    total: int

    @property
    def intro_end(self) -> int:
        return self.choice_starts[-1] + self.choice_frames


def quiz_plan(total: int, fps: int, choices: int, countdown: int) -> QuizPlan:
    """Question, choices one by one, a hold for reading, the countdown, then the answer ≥ 1 s before the end.

    Extra time goes to the reading hold (the answer stays 1–2 s). A card too short for everything gets fewer
    (at least half-second) ticks, then a faster entrance; the answer still shows REVEAL_TAIL_SECONDS before the
    end whenever the card is longer than that.
    """
    def f(seconds: float) -> int:
        return frames_for(seconds, fps)

    tail_min = min(f(REVEAL_TAIL_SECONDS), total)
    room = total - tail_min  # the latest frame the answer may show
    question, first_choice, stagger, choice = f(0.4), f(0.3), f(0.2), f(0.3)
    intro = max(question, first_choice + stagger * (choices - 1) + choice)
    if intro > room:
        scale = room / intro
        question, first_choice, stagger = (int(value * scale) for value in (question, first_choice, stagger))
        choice = max(int(choice * scale), 1)
        intro = max(question, first_choice + stagger * (choices - 1) + choice)
    ticks, tick = countdown, f(1.0)
    if intro + ticks * tick > room:
        ticks = min(countdown, max(room - intro, 0) // max(f(0.5), 1))
        tick = (room - intro) // ticks if ticks else 0
    countdown_frames = ticks * tick
    tail_preferred = max(tail_min, min(f(2.0), total // 4))
    reveal = min(max(intro + countdown_frames, total - tail_preferred), max(room, intro + countdown_frames))
    return QuizPlan(question=question, choice_starts=tuple(first_choice + stagger * index for index in range(choices)),
                    choice_frames=choice, countdown_start=reveal - countdown_frames,
                    tick_frames=(tick,) * ticks, reveal=reveal,
                    reveal_frames=max(1, min(f(0.35), total - reveal)), total=total)
