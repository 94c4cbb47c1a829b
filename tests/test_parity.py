"""The moviepy backend is the reference: every template rendered both ways gives the same video."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from mediatools import probe, video_frames
from reelforge import render

pytestmark = pytest.mark.slow  # every test here renders media

TEMPLATES = sorted((Path(__file__).resolve().parents[1] / "templates").glob("*.json"))
SAMPLES = 8
MIN_PSNR = 30.0


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.fixture(scope="module", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REELFORGE_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    out = tmp_path_factory.mktemp("parity")
    pairs = {}
    for template in TEMPLATES:
        fast = render(template, out / f"{template.stem}-ffmpeg.mp4", quality="draft").path
        reference = render(template, out / f"{template.stem}-moviepy.mp4", quality="draft", backend="moviepy").path
        pairs[template.stem] = (fast, reference)
    return pairs


@pytest.mark.parametrize("name", [t.stem for t in TEMPLATES])
def test_both_backends_give_the_same_length_to_the_frame(renders, name: str):
    fast, reference = (probe(p) for p in renders[name])
    assert fast.video.packets == reference.video.packets
    assert (fast.video.width, fast.video.height) == (reference.video.width, reference.video.height)
    frame = 1 / 30
    assert abs(fast.seconds - reference.seconds) <= frame


@pytest.mark.parametrize("name", [t.stem for t in TEMPLATES])
def test_both_backends_draw_the_same_frames(renders, name: str):
    fast_path, reference_path = renders[name]
    frames = probe(fast_path).video.packets
    indices = [int(i) for i in np.linspace(0, frames - 1, SAMPLES)]
    fast = video_frames(fast_path, indices)
    reference = video_frames(reference_path, indices)
    scores = {i: round(psnr(fast[i], reference[i]), 1) for i in indices}
    assert min(scores.values()) >= MIN_PSNR, scores


def test_a_single_frame_matches_the_rendered_video(renders, tmp_path: Path):
    from PIL import Image

    from reelforge.renderers.preview import frame_png

    fast_path, _ = renders["demo"]
    index = 250
    png = frame_png(TEMPLATES[[t.stem for t in TEMPLATES].index("demo")], index / 30, tmp_path / "f.png", quality="draft")
    picture = np.asarray(Image.open(png).convert("RGB"))
    rendered = video_frames(fast_path, [index])[index]
    assert picture.shape == rendered.shape
    difference = np.abs(picture.astype(np.int16) - rendered.astype(np.int16)).max(axis=2)
    rows, columns = np.nonzero(difference > 40)
    where = (f"rows {rows.min()}-{rows.max()}, columns {columns.min()}-{columns.max()}" if rows.size else "nowhere")
    assert psnr(picture, rendered) >= MIN_PSNR, f"the frame differs by more than 40 levels at {where}"


def test_the_first_frames_of_a_caption_line_match_the_rendered_video(renders, tmp_path: Path):
    """A line's entrance (bold_pop grows over its first 3 frames) drawn by the preview and by the video runs: they
    give libass different clocks, and a \\t timed from the line's start in centiseconds drew those frames at
    progresses up to 5 ms apart (21-29 dB at the first frame of 4 of the demo's 17 lines)."""
    from PIL import Image

    from reelforge import Workspace
    from reelforge.job import RenderJob, prepare
    from reelforge.renderers.preview import frame_png

    demo = TEMPLATES[[t.stem for t in TEMPLATES].index("demo")]
    fast_path, _ = renders["demo"]
    timeline = prepare(RenderJob.of(demo, quality="draft"), Workspace.from_environment()).timeline
    starts = sorted({event.range.start for event in timeline.texts if event.role == "caption"})
    # Every line's first frame (where the clocks' disagreement showed most; not a pop's later frames).
    indices = [start for start in starts if start - 1 not in starts]
    assert len(indices) >= 10
    rendered = video_frames(fast_path, indices)
    scores = {}
    for index in indices:
        png = frame_png(demo, (index + 0.5) / 30, tmp_path / f"f{index}.png", quality="draft")
        scores[index] = round(psnr(np.asarray(Image.open(png).convert("RGB")), rendered[index]), 1)
    assert min(scores.values()) >= MIN_PSNR, scores


def test_to_moviepy_gives_a_clip_of_the_document(tmp_path: Path):
    from reelforge import to_moviepy

    demo = TEMPLATES[[t.stem for t in TEMPLATES].index("demo")]
    work = Path(os.environ["REELFORGE_CACHE"]) / "work"
    before = set(work.iterdir()) if work.exists() else set()
    with to_moviepy(demo, quality="draft") as clip:
        frame = clip.get_frame(3.0)
        assert frame.shape == (960, 540, 3)
        assert frame.std() > 5  # a picture, not a blank
        assert clip.audio is not None and clip.audio.duration == pytest.approx(clip.duration, abs=1 / 30)
        assert len(set(work.iterdir()) - before) == 1  # its work folder, while it is open
    assert set(work.iterdir()) == before  # closing the clip removed it


@pytest.mark.parametrize("visual, seconds", [
    ({"trimStart": 0.33}, 3.3),  # 25 fps into 30: the picks between source frames
    ({"trimStart": 0.5, "trimEnd": 0.87}, 3.0),  # a loop of 0.37 s (9.25 source frames)
    ({"trimEnd": 1.01, "loop": False}, 2.0),  # held from its end on
], ids=["25fps", "loop", "held"])
def test_both_backends_show_the_same_source_frame_of_a_clip(visual: dict, seconds: float, tmp_path: Path):
    from mediatools import best_source_frame, make_test_clip, resize

    clip = make_test_clip(tmp_path / "clip25.mp4", seconds=4, fps=25)
    document = {
        "version": "1", "name": "Clip frames", "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
        "scenes": [{"id": "clip", "duration": seconds, "visual": {"type": "video", "source": {"path": str(clip)}, **visual}}],
    }
    source = video_frames(clip)
    expected = [resize(source[i], 480, 360)[:, 60:420] for i in sorted(source)]  # cover: 4:3 into 1:1
    sampled = list(range(0, int(seconds * 30)))
    shown = {}
    for backend in ("ffmpeg", "moviepy"):
        out = video_frames(render(document, tmp_path / f"{backend}.mp4", backend=backend).path, sampled)
        shown[backend] = [best_source_frame(out[n], expected)[0] for n in sampled]
    assert shown["ffmpeg"] == shown["moviepy"]
