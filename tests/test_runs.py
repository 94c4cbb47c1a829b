"""How pending segments are grouped into ffmpeg runs (planning only: the graphs are built, nothing is rendered)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelforge.renderers.ffmpeg import segments as segments_module
from reelforge.renderers.ffmpeg.segments import MAX_RUN_SEGMENTS, ScenePart, Segment
from reelforge.renderers.ffmpeg.segments import plan_runs as plan_with
from reelforge.renderers.ffmpeg.video import run_inputs
from reelforge.timebase import FrameRange, Rate
from reelforge.timeline import Layer, LayerVisual, Timeline

TIMELINE = Timeline(Rate.of(30), 320, 240, 30 * 90)


def plan_runs(segments: list[Segment], pending: list[int], workers: int) -> list[list[int]]:
    """The planner with the renderer's own count of the files a run opens."""
    return plan_with(segments, pending, workers, inputs=lambda chosen: run_inputs(TIMELINE, chosen, Path("stills")))


def file_layers(segment: Segment) -> list[Layer]:
    """The scene layers a segment shows that are read from a file (solid colors are generated)."""
    parts = [segment.scene] if segment.scene else list(segment.transition[:2]) if segment.transition else []
    return [part.layer for part in parts if part.layer.visual.kind != "color"]


def segments_of(*lengths: int) -> list[Segment]:
    out, start = [], 0
    for length in lengths:
        out.append(Segment(FrameRange(start, length)))
        start += length
    return out


def test_consecutive_pending_segments_share_a_run_and_gaps_split_them():
    segments = segments_of(*[30] * 8)
    assert plan_runs(segments, [1, 2, 3, 6, 7], workers=1) == [[1, 2, 3], [6, 7]]


def test_one_stretch_is_split_so_each_worker_gets_about_half_the_frames():
    segments = segments_of(189, 15, 167, 12, 183, 15, 169, 12, 153)
    runs = plan_runs(segments, list(range(9)), workers=2)
    assert len(runs) == 2 and sum(runs, []) == list(range(9))
    halves = [sum(segments[i].range.duration for i in run) for run in runs]
    assert abs(halves[0] - halves[1]) <= 183  # the best cut at a segment boundary


def test_a_single_segment_is_never_split_and_nothing_pending_is_no_run():
    segments = segments_of(100, 100)
    assert plan_runs(segments, [1], workers=2) == [[1]]
    assert plan_runs(segments, [], workers=2) == []


def test_long_stretches_are_cut_to_the_most_segments_a_process_opens():
    count = MAX_RUN_SEGMENTS * 3 + 1
    runs = plan_runs(segments_of(*[60] * count), list(range(count)), workers=2)
    assert all(len(run) <= MAX_RUN_SEGMENTS for run in runs)
    assert sum(runs, []) == list(range(count))


def scenes_of(*kinds: str, frames: int = 90) -> list[Segment]:
    """One 90-frame segment per scene, each scene its own layer of the given visual kind."""
    out = []
    for index, kind in enumerate(kinds):
        span = FrameRange(index * frames, frames)
        visual = LayerVisual(kind, colors=("#000000",)) if kind == "color" else LayerVisual(kind, path=Path(f"/media/{index}"))
        out.append(Segment(span, scene=ScenePart(Layer(span, visual, f"scene{index}"), 0)))
    return out


@pytest.mark.parametrize("most", [2, 3, 4])
def test_a_run_opens_at_most_a_few_files_so_its_memory_does_not_grow_with_the_project(most, monkeypatch):
    monkeypatch.setattr(segments_module, "MAX_RUN_INPUTS", most)
    segments = scenes_of(*["video", "image"] * 10)
    runs = plan_runs(segments, list(range(20)), workers=2)
    assert sum(runs, []) == list(range(20))
    assert all(len({id(layer) for i in run for layer in file_layers(segments[i])}) <= most for run in runs)
    assert len(runs) <= 2 * -(-20 // most)  # split no finer than it needs to


def test_generated_colors_do_not_count_as_inputs():
    segments = scenes_of(*["color"] * 10)
    assert plan_runs(segments, list(range(10)), workers=1) == [list(range(10))]
