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


# -- a run as plain data (renderers/ffmpeg/runs.py) ------------------------------------------------------------

from conftest import slow  # noqa: E402
from reelforge.errors import RenderError  # noqa: E402
from reelforge.renderers.ffmpeg.runs import RunSpec, execute_run, plan_run  # noqa: E402


def looping_clip_run(tmp_path: Path) -> tuple[RunSpec, dict[str, Path], Path]:
    """A run of one 90-frame scene whose 1 s clip loops (ffmpeg opens the clip once per cycle)."""
    from mediatools import make_test_clip

    clip = make_test_clip(tmp_path / "clip.mp4", seconds=1.0)
    span = FrameRange(0, 90)
    visual = LayerVisual("video", path=clip, fit="cover", loop=True, source_length=Rate.of(30).seconds(30))
    segments = [Segment(FrameRange(0, 45), scene=ScenePart(Layer(span, visual, "s"), 0)),
                Segment(FrameRange(45, 45), scene=ScenePart(Layer(span, visual, "s"), 45))]
    timeline = Timeline(Rate.of(30), 320, 240, 90, scenes=[segments[0].scene.layer])
    spec, files = plan_run(timeline, segments, ["key-a", "key-b"], name="run0", quality="draft",
                           stills=tmp_path / "stills", threads=1, fonts="fonts-print",
                           file_key=lambda path: f"file:{path.name}")
    return spec, files, clip


def test_a_run_spec_opens_a_file_once_by_key_however_often_its_inputs_read_it(tmp_path: Path):
    spec, files, clip = looping_clip_run(tmp_path)
    assert spec.files == (type(spec.files[0])("file:clip.mp4", ".mp4"),)
    assert len(spec.inputs) >= 3 and {item.file for item in spec.inputs} == {0}  # three cycles, one file
    assert files == {"file:clip.mp4": clip}
    args = spec.arguments()
    assert args.count("-i") == len(spec.inputs) and set(args[i + 1] for i, a in enumerate(args) if a == "-i") == {"in/0.mp4"}
    assert args[args.index("-threads", args.index("-map")) + 1] == "1"  # x264's threads, after the graph's map
    assert "-threads" not in spec.with_threads(None).arguments()[args.index("-map"):]
    assert (spec.frames, spec.pieces, spec.what) == (90, ("key-a", "key-b"), "video, frames 0-90")


def test_a_run_spec_round_trips_and_refuses_another_version(tmp_path: Path):
    spec, _, _ = looping_clip_run(tmp_path)
    data = spec.to_dict()
    assert RunSpec.from_dict(data) == spec
    with pytest.raises(RenderError, match="different reelforge versions"):
        RunSpec.from_dict({**data, "version": 99})


@slow()
def test_a_run_executes_from_its_spec_alone_into_one_piece_per_segment(tmp_path: Path):
    from mediatools import probe
    from reelforge.fonts import fonts_dir
    from reelforge.workspace import Workspace

    spec, files, clip = looping_clip_run(tmp_path)
    moved = tmp_path / "elsewhere.bin"  # the file may lie anywhere, under any name: the key says what it is
    clip.rename(moved)
    folder = tmp_path / "run"
    folder.mkdir()
    pieces = execute_run(spec, {"file:clip.mp4": moved}, folder, fonts=fonts_dir(Workspace(tmp_path / "cache")),
                         env=None)
    assert [p.name for p in pieces] == ["piece000.mp4", "piece001.mp4"]
    assert [probe(p).video.packets for p in pieces] == [45, 45]
