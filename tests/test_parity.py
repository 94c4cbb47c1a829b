"""The moviepy backend is the reference: every template rendered both ways gives the same video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mediatools import probe, video_frames
from reelforge.render.pipeline import render

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

    from reelforge.preview import frame_png

    fast_path, _ = renders["demo"]
    index = 250
    png = frame_png(TEMPLATES[[t.stem for t in TEMPLATES].index("demo")], index / 30, tmp_path / "f.png", quality="draft")
    picture = np.asarray(Image.open(png).convert("RGB"))
    rendered = video_frames(fast_path, [index])[index]
    assert picture.shape == rendered.shape
    assert psnr(picture, rendered) >= MIN_PSNR


def test_to_moviepy_gives_a_clip_of_the_document(tmp_path: Path):
    from reelforge import to_moviepy

    demo = TEMPLATES[[t.stem for t in TEMPLATES].index("demo")]
    clip = to_moviepy(demo, quality="draft")
    try:
        frame = clip.get_frame(3.0)
        assert frame.shape == (960, 540, 3)
        assert frame.std() > 5  # a picture, not a blank
        assert clip.audio is not None and clip.audio.duration == pytest.approx(clip.duration, abs=1 / 30)
    finally:
        clip.compositor.close()
        clip.close()
