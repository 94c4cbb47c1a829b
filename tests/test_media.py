"""Probing media: results remembered in the workspace's cache by the file's content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("av")
pytest.importorskip("imageio_ffmpeg")
pytestmark = pytest.mark.slow  # every test renders a small clip with ffmpeg first

from mediatools import make_test_clip  # noqa: E402
from reelforge.resolve.media import MediaError, probe  # noqa: E402
from reelforge.workspace import Workspace  # noqa: E402


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def workspace(cache: Path) -> Workspace:
    return Workspace(cache)


def test_an_unchanged_file_is_answered_from_the_cache(cache: Path, workspace: Workspace, tmp_path: Path):
    clip = make_test_clip(tmp_path / "clip.mp4")
    first = probe(clip, "scenes[0].visual.source", workspace)
    assert (first.width, first.height, first.has_audio, first.is_image) == (320, 240, True, False)
    assert first.duration is not None and abs(float(first.duration) - 2.0) < 0.1
    entries = list((cache / "probe").glob("*.json"))
    assert len(entries) == 1
    # The entry is what a second probe answers: change it on disk and the answer follows.
    data = json.loads(entries[0].read_text())
    entries[0].write_text(json.dumps({**data, "width": 4321}))
    assert probe(clip, "scenes[0].visual.source", workspace).width == 4321


def test_a_changed_file_is_probed_again(cache: Path, workspace: Workspace, tmp_path: Path):
    clip = make_test_clip(tmp_path / "clip.mp4")
    probe(clip, "scenes[0].visual.source", workspace)
    clip.write_bytes(b"\x00" * 20_000)  # the same name, now not media
    with pytest.raises(MediaError, match=r"scenes\[0\]\.visual\.source: not a readable media file"):
        probe(clip, "scenes[0].visual.source", workspace)


def test_a_file_that_is_not_media_is_never_remembered(cache: Path, workspace: Workspace, tmp_path: Path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"<html>not a video</html>" * 100)
    for _ in range(2):
        with pytest.raises(MediaError):
            probe(junk, "music.source", workspace)
    assert not list(cache.rglob("*.json"))


def test_a_cache_that_cannot_be_written_does_not_fail_a_good_probe(cache: Path, workspace: Workspace, tmp_path: Path):
    clip = make_test_clip(tmp_path / "clip.mp4")
    cache.mkdir()
    (cache / "probe").write_text("a file where the probe folder should be")
    info = probe(clip, "scenes[0].visual.source", workspace)
    assert (info.width, info.height) == (320, 240)


def test_the_same_bytes_elsewhere_are_answered_from_the_cache(cache: Path, workspace: Workspace, tmp_path: Path):
    clip = make_test_clip(tmp_path / "clip.mp4")
    probe(clip, "scenes[0].visual.source", workspace)
    entry = next((cache / "probe").glob("*.json"))
    entry.write_text(json.dumps({**json.loads(entry.read_text()), "width": 1234}))
    moved = tmp_path / "moved" / "renamed.mp4"
    moved.parent.mkdir()
    clip.rename(moved)
    assert probe(moved, "scenes[0].visual.source", Workspace(cache)).width == 1234  # a new process: hashed again
    assert len(list((cache / "probe").glob("*.json"))) == 1


def test_without_a_workspace_nothing_is_remembered(tmp_path: Path):
    clip = make_test_clip(tmp_path / "clip.mp4")
    assert probe(clip, "scenes[0].visual.source").width == 320


def _noisy_picture(path: Path, size: tuple[int, int] = (640, 400)) -> Path:
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(5).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_a_picture_is_checked_whole_without_decoding_it_at_full_size(suffix: str, tmp_path: Path):
    """PNG and JPEG pictures are checked by Pillow (a PNG's chunks against their CRCs, a JPEG decoded at an eighth
    of its size): a cut file, or a PNG with a changed byte, is refused like any unreadable media."""
    picture = _noisy_picture(tmp_path / f"still{suffix}")
    info = probe(picture, "scenes[0].visual.source")
    assert (info.width, info.height, info.is_image, info.has_video, info.has_audio, info.duration) == (
        640, 400, True, True, False, None)
    data = picture.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(MediaError, match=r"scenes\[1\]\.visual\.source: not a readable media file"):
        probe(cut, "scenes[1].visual.source")
    if suffix == ".png":
        damaged = bytearray(data)
        damaged[len(data) // 2] ^= 0xFF  # inside the image data: its chunk's CRC no longer matches
        (tmp_path / "damaged.png").write_bytes(bytes(damaged))
        with pytest.raises(MediaError, match=r"scenes\[2\]\.visual\.source: not a readable media file"):
            probe(tmp_path / "damaged.png", "scenes[2].visual.source")
