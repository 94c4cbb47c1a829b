"""Workload W made with MoviePy 2.x, written the way MoviePy-based generators do it, as efficiently as MoviePy allows.

Run: .venv/bin/python -m bench.moviepy_w ASSETS OUT.mp4 [--seconds 5] [--scenes 5]

It reads the same document as reelforge (`bench.workload.scaled_document`) and uses the same inputs: the
narration WAVs and word timings from `reelforge.speech.tts.synthesize` (cached: pre-synthesize them to leave
speech synthesis out of the timing, as the benchmark does for both tools) and the music loop from
`reelforge.resolve.music.mood_loop`. Scene lengths follow reelforge's rule (speech + padding + transition out,
rounded up to a frame), so both videos have the same length and cuts.

Per scene: clips are cropped to the 9:16 middle and resized once (`cropped(...).resized(...)`); stills are
cropped and resized once to the frame, then zoomed by `resized(lambda t: ...)` and centered in a
frame-sized composite. Transitions: `vfx.CrossFadeIn` / `vfx.SlideIn` on the incoming scene, overlapped in
one `CompositeVideoClip`. Captions: one `TextClip` (Roboto Black, white, black stroke) per 3-word group at
the word times, no pop animation (cheaper than reelforge's). Title: a `TextClip` over scene 1. Audio:
narration `AudioFileClip`s at the scene starts; the music looped, faded, and ducked by 12 dB under the
narration with a time-varying gain (15 ms attack, 350 ms release); then `afx.AudioNormalize` on the mix
(MoviePy's loudness pass: peak normalization). Encoded with `write_videofile(codec="libx264",
preset="veryfast", threads=2, ffmpeg_params=["-pix_fmt", "yuv420p", "-crf", "21"], audio_codec="aac")`.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

FPS = 30
SIZE = (1080, 1920)
# libass sizes a font by its line height (ascent + descent), PIL by its em; for Roboto (PIL metrics 93 + 25 at 100 px) em = 0.85 × line.
LINE_TO_EM = 100 / (93 + 25)
CAPTION_FONT_SIZE = int(min(SIZE) * 0.085 * LINE_TO_EM)  # reelforge bold_pop: a line is 0.085 of the short side
EDGE = 0.06  # reelforge keeps 6% of the frame clear at the edges
CAPTION_STROKE = max(int(round(min(SIZE) * 0.007)), 2)
CAPTION_BOTTOM = int(SIZE[1] * 0.26)  # above the platform UI band, as reelforge places them
WORDS_PER_LINE = 3
DUCK_ATTACK, DUCK_RELEASE = 0.015, 0.35


def font_path(name: str = "Roboto-Black.ttf") -> str:
    import font_roboto

    return str(Path(font_roboto.__file__).parent / "files" / name)


def scene_plan(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Per scene: start and length in seconds (frame-exact, as reelforge computes them), speech, transition."""
    from reelforge.model.audio import Voice
    from reelforge.speech.tts import synthesize
    from reelforge.workspace import Workspace

    voice = Voice(voiceId=document["voice"]["voiceId"], speed=document["voice"]["speed"])
    plan, start_frame = [], 0
    for scene in document["scenes"]:
        speech = synthesize(scene["narration"]["text"], voice, workspace=Workspace.from_environment())
        transition = scene.get("transition")
        overlap = Fraction(str(transition["duration"])) if transition else Fraction(0)
        frames = math.ceil((speech.duration + Fraction(str(scene.get("padding", 0.4))) + overlap) * FPS)
        transition_frames = int(round(overlap * FPS))
        plan.append({"scene": scene, "speech": speech, "start": start_frame / FPS, "duration": frames / FPS,
                     "transition": transition, "transition_seconds": transition_frames / FPS})
        start_frame += frames - transition_frames
    return plan


def _video_scene(path: Path, trim_start: float, duration: float):
    from moviepy import VideoFileClip, vfx

    clip = VideoFileClip(str(path), audio=False)
    w, h = clip.size
    crop_w = h * SIZE[0] / SIZE[1]
    clip = clip.subclipped(trim_start)
    if clip.duration < duration:
        clip = clip.with_effects([vfx.Loop(duration=duration)])
    # Crop to the 9:16 middle first, then one resize: far fewer pixels than resizing the whole frame.
    return clip.cropped(x_center=w / 2, width=crop_w).resized(SIZE).with_duration(duration)


def _still_scene(path: Path, motion: str, amount: float, duration: float):
    from moviepy import CompositeVideoClip, ImageClip

    image = ImageClip(str(path))
    w, h = image.size
    crop_w = min(w, h * SIZE[0] / SIZE[1])
    crop_h = crop_w * SIZE[1] / SIZE[0]
    base = image.cropped(x_center=w / 2, y_center=h / 2, width=crop_w, height=crop_h).resized(SIZE)  # once
    if motion == "zoom_out":
        zoom = lambda t: 1 + amount * (1 - t / duration)  # noqa: E731
    else:
        zoom = lambda t: 1 + amount * t / duration  # noqa: E731
    moving = base.with_duration(duration).resized(zoom).with_position("center")
    return CompositeVideoClip([moving], size=SIZE).with_duration(duration)


def _captions(item: dict[str, Any]) -> list:
    from moviepy import TextClip

    from reelforge.timeline.captions import group_words

    limit = Fraction(item["duration"] - item["transition_seconds"]).limit_denominator(FPS)
    clips = []
    for group in group_words(item["speech"].words, WORDS_PER_LINE, limit):
        text = TextClip(font=font_path(), text=group.text, font_size=CAPTION_FONT_SIZE, color="white",
                        stroke_color="black", stroke_width=CAPTION_STROKE, method="label")
        start = item["start"] + float(group.start)
        y = SIZE[1] - CAPTION_BOTTOM - text.size[1]
        clips.append(text.with_start(start).with_duration(float(group.end - group.start)).with_position(("center", y)))
    return clips


def _title(item: dict[str, Any], overlay: dict[str, Any]):
    from moviepy import TextClip

    style = overlay.get("style", {})
    size = int(min(SIZE) * style.get("fontSize", 0.06) * LINE_TO_EM)
    text = TextClip(font=font_path(), text=overlay["text"], font_size=size, color=style.get("color", "#ffffff"),
                    stroke_color=style.get("outlineColor", "#000000"), stroke_width=max(int(size * 0.06), 2),
                    method="label")
    shown = item["duration"] - item["transition_seconds"]
    y = int(SIZE[1] * (EDGE + overlay.get("placement", {}).get("y", 0.12)))
    return text.with_start(item["start"]).with_duration(shown).with_position(("center", y))


def _ducking_gain(intervals: list[tuple[float, float]], duck_db: float):
    """Music gain as a function of time (array-friendly): 1, down to -duck_db dB while narration plays."""
    floor = 10 ** (-duck_db / 20)
    starts = np.array([a for a, _ in intervals])
    ends = np.array([b for _, b in intervals])

    def gain(t):
        t = np.atleast_1d(np.asarray(t, dtype=float))[:, None]
        depth = np.clip(np.minimum((t - starts + DUCK_ATTACK) / DUCK_ATTACK, (ends + DUCK_RELEASE - t) / DUCK_RELEASE), 0, 1)
        return 1 - (1 - floor) * depth.max(axis=1)

    return gain


def _audio(plan: list[dict[str, Any]], document: dict[str, Any], total: float):
    from moviepy import AudioFileClip, CompositeAudioClip, afx

    from reelforge.resolve.music import mood_loop
    from reelforge.workspace import Workspace

    narration = [AudioFileClip(str(item["speech"].audio_path), fps=48000).with_start(item["start"]) for item in plan]
    music_spec = document["music"]
    music = AudioFileClip(str(mood_loop(music_spec["mood"], Workspace.from_environment().folder("music"))), fps=48000).with_effects([
        afx.AudioLoop(duration=total),
        afx.MultiplyVolume(music_spec.get("volume", 0.25)),
        afx.AudioFadeIn(music_spec.get("fadeIn", 1.0)),
        afx.AudioFadeOut(music_spec.get("fadeOut", 2.0)),
    ])
    if music_spec.get("ducking", True):
        gain = _ducking_gain([(item["start"], item["start"] + float(item["speech"].duration)) for item in plan],
                             music_spec.get("duckAmount", 12.0))
        music = music.transform(lambda get_frame, t: get_frame(t) * gain(t)[:, None] if np.ndim(t) else get_frame(t) * gain(t)[0])
    mix = CompositeAudioClip([music, *narration]).with_duration(total)
    return mix.with_effects([afx.AudioNormalize()])


def build(document: dict[str, Any], assets: Path):
    """The whole video as one MoviePy clip (scenes, transitions, captions, title, mixed audio)."""
    from moviepy import CompositeVideoClip, vfx

    plan = scene_plan(document)
    layers, texts = [], []
    for index, item in enumerate(plan):
        scene = item["scene"]
        visual = scene["visual"]
        path = assets / visual["source"]["uploadName"]
        if visual["type"] == "video":
            clip = _video_scene(path, visual.get("trimStart", 0.0), item["duration"])
        else:
            clip = _still_scene(path, visual.get("motion", "zoom_in"), visual.get("motionAmount", 0.15), item["duration"])
        incoming = plan[index - 1]["transition"] if index else None
        if incoming:
            seconds = plan[index - 1]["transition_seconds"]
            effect = vfx.CrossFadeIn(seconds) if incoming["type"] == "crossfade" else vfx.SlideIn(seconds, "right")
            clip = clip.with_effects([effect])
        layers.append(clip.with_start(item["start"]))
        texts += _captions(item)
        texts += [_title(item, overlay) for overlay in scene.get("overlays", [])]
    total = plan[-1]["start"] + plan[-1]["duration"]
    video = CompositeVideoClip([*layers, *texts], size=SIZE).with_duration(total)
    return video.with_audio(_audio(plan, document, total))


def write(clip, out: Path, temp_dir: Path | None = None) -> None:
    clip.write_videofile(
        str(out), fps=FPS, codec="libx264", preset="veryfast", threads=2,
        ffmpeg_params=["-pix_fmt", "yuv420p", "-crf", "21"],
        audio_codec="aac", audio_fps=48000, audio_bitrate="192k",
        temp_audiofile_path=str(temp_dir or out.parent), logger=None,
    )


def render(assets: Path, out: Path, *, n_scenes: int = 5, seconds: float | None = None) -> dict[str, float]:
    """Build and write W (or a cut of it); returns timings in seconds."""
    from bench.workload import scaled_document

    clock = time.monotonic()
    clip = build(scaled_document(n_scenes), assets)
    if seconds is not None:
        clip = clip.subclipped(0, min(seconds, clip.duration))
    built = time.monotonic() - clock
    write(clip, out)
    clip.close()
    return {"build": built, "total": time.monotonic() - clock, "duration": float(clip.duration)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assets", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=None, help="Write only the first N seconds (a trial).")
    parser.add_argument("--scenes", type=int, default=5)
    args = parser.parse_args()
    timings = render(args.assets, args.out, n_scenes=args.scenes, seconds=args.seconds)
    print(timings, file=sys.stderr)


if __name__ == "__main__":
    main()
