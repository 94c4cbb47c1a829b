"""Cutting a timeline into independently cached segments: scene bodies and transition regions.

A segment's content depends only on what is inside it (times relative to its own start), so editing
one scene leaves the other scenes' segments valid in the cache.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reelforge.timebase import FrameRange
from reelforge.timeline import Layer, Timeline


@dataclass(frozen=True)
class ScenePart:
    """Frames [offset, offset + frames) of a scene layer's own time."""

    layer: Layer
    offset: int


@dataclass(frozen=True)
class Segment:
    range: FrameRange
    scene: ScenePart | None = None  # the scene shown (no transition)
    transition: tuple[ScenePart, ScenePart, str] | None = None  # outgoing, incoming, xfade kind


# Longest segment: short enough that a changed scene re-renders alone and two processes can share even a
# one-scene re-render evenly; each boundary is a keyframe, which costs little beside the 2 s GOP. Shorter ones
# cost more than they keep on W: with 2 s (the GOP's own length) W's one-scene narration edit re-renders 163
# frames instead of 223, but its cold render took 3% longer (21 pieces to mux, and a runs' boundary that left
# the second run 1.2-2.5 s behind the first; BENCHMARKS.md, issue 18, third pass).
MAX_SEGMENT_SECONDS = 4
# How far a cut moves to where a narration sentence ends (`Timeline.breaks`): a cut there keeps the pieces before an
# edited sentence cached, and moving one costs no keyframe and no piece more (cutting at every sentence's start
# as well made W's cold render 3% longer and its file 10% larger: a keyframe each).
SNAP_SECONDS = 1
# Most segments one ffmpeg process renders (it opens every input its segments show at once).
MAX_RUN_SEGMENTS = 12
# Most files one run opens (clips, stills, cards; a looping clip opens its file once per repeat): ffmpeg opens
# all of a run's inputs at its start and each holds decoded frames until it is used (70-100 MB at 1080x1920),
# so this bounds a run's memory (about 430 MB with x264) however long the project is.
MAX_RUN_INPUTS = 3

XFADE = {
    "crossfade": "fade", "fade_black": "fadeblack",
    "slide_left": "slideleft", "slide_right": "slideright", "slide_up": "slideup", "slide_down": "slidedown",
    "wipe_left": "wipeleft", "wipe_right": "wiperight", "wipe_up": "wipeup", "wipe_down": "wipedown",
}


def cut_points(timeline: Timeline) -> list[FrameRange]:
    """Ranges covering [0, frames): each scene's body, each transition, and any tail after the scenes."""
    ranges: list[FrameRange] = []
    previous_overlap = 0
    for layer in timeline.scenes:
        body_start = layer.range.start + previous_overlap
        body_end = layer.range.end - layer.transition_frames
        if body_end > body_start:
            ranges.append(FrameRange(body_start, body_end - body_start))
        if layer.transition_frames:
            ranges.append(FrameRange(body_end, layer.transition_frames))
        previous_overlap = layer.transition_frames
    covered = ranges[-1].end if ranges else 0
    if timeline.frames > covered:
        ranges.append(FrameRange(covered, timeline.frames - covered))
    # Clip to the timeline's length (a fixed document duration may end before the scenes do), and cut
    # long stretches into pieces that encode in parallel and re-render alone.
    longest = max(int(timeline.rate.value * MAX_SEGMENT_SECONDS), 1)
    snap = int(timeline.rate.value * SNAP_SECONDS)
    breaks = sorted(set(timeline.breaks))
    pieces = []
    for r in ranges:
        end = min(r.end, timeline.frames)
        for a, b in _grid(r.start, end, longest, breaks, snap):
            pieces.append(FrameRange(a, b - a))
    return pieces


def _grid(start: int, end: int, longest: int, breaks: list[int] | tuple[int, ...] = (), snap: int = 0) -> list[tuple[int, int]]:
    """[start, end) cut every `longest` frames counted from the cut before, each cut moved to the nearest of
    `breaks` (where sentences end) within `snap` frames; a remainder shorter than half of `longest` joined to the
    piece before. Cut from the start rather than evenly: when a scene gets longer or shorter (its narration
    edited), only its last pieces move, and the ones before keep their keys in the cache."""
    if end <= start:
        return []
    cuts = [start]
    while True:
        at = cuts[-1] + longest
        near = [frame for frame in breaks if abs(frame - at) <= snap and cuts[-1] + longest // 2 <= frame < end]
        if near:
            at = min(near, key=lambda frame: (abs(frame - at), frame))
        if at >= end:
            break
        cuts.append(at)
    if len(cuts) > 1 and end - cuts[-1] < longest // 2:
        cuts.pop()
    cuts.append(end)
    return list(zip(cuts, cuts[1:]))


def plan_segments(timeline: Timeline) -> list[Segment]:
    segments = []
    for span in cut_points(timeline):
        scene = None
        transition = None
        for index, layer in enumerate(timeline.scenes):
            if layer.transition_frames and layer.range.end - layer.transition_frames == span.start and index + 1 < len(timeline.scenes) \
                    and span.duration == layer.transition_frames:
                following = timeline.scenes[index + 1]
                transition = (
                    ScenePart(layer, span.start - layer.range.start),
                    ScenePart(following, span.start - following.range.start),
                    XFADE[layer.transition_out or "crossfade"],
                )
                break
            if layer.range.start <= span.start < layer.range.end:
                scene = ScenePart(layer, span.start - layer.range.start)
                break
        segments.append(Segment(span, scene, transition))
    return segments


def plan_runs(segments: list[Segment], pending: list[int], workers: int,
              inputs: Callable[[list[Segment]], int]) -> list[list[int]]:
    """The `pending` segments (indices into `segments`) as runs, each rendered by one ffmpeg process:
    consecutive segments share a run (a scene is then decoded once for its body and its transitions), runs
    with too many segments or inputs are split, and the work is split into at least `workers` runs of about
    equal frames when it can be. `inputs`: how many files a run of these segments opens (the renderer knows:
    `ffmpeg_video.run_inputs`)."""
    counted: dict[tuple[int, ...], int] = {}
    runs: list[list[int]] = []
    for index in sorted(pending):
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])

    def frames(run: list[int]) -> int:
        return sum(segments[i].range.duration for i in run)

    def too_big(run: list[int]) -> bool:
        if len(run) <= 1:
            return False
        if len(run) > MAX_RUN_SEGMENTS:
            return True
        key = tuple(run)
        if key not in counted:
            counted[key] = inputs([segments[i] for i in run])
        return counted[key] > MAX_RUN_INPUTS

    def split(run: list[int]) -> None:
        total, done, best = frames(run), 0, (None, 1)
        for cut in range(1, len(run)):
            done += segments[run[cut - 1]].range.duration
            score = abs(total - 2 * done)
            if best[0] is None or score < best[0]:
                best = (score, cut)
        at = runs.index(run)
        runs[at:at + 1] = [run[:best[1]], run[best[1]:]]

    while any(too_big(run) for run in runs):
        split(max((run for run in runs if too_big(run)), key=len))
    while len(runs) < workers:
        splittable = [run for run in runs if len(run) > 1]
        if not splittable:
            break
        split(max(splittable, key=frames))
    return runs
