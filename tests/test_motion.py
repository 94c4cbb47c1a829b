"""A still's zoom at studio quality: the picture's window moves by fractions of a pixel, so its centre stays put
and its zoom grows by an even step each frame. Measured on the renderer's own graph by the centroids of four
soft dots, as `bench.zoom` measures it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("numpy")
pytest.importorskip("imageio_ffmpeg")

from bench import zoom  # noqa: E402


@pytest.mark.parametrize("motion, end", [("zoom_in", 1.15), ("zoom_out", 1 / 1.15)])
def test_a_studio_still_zooms_without_wobbling(motion: str, end: float, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(zoom, "ROUNDS", 1)
    still = tmp_path / "dots.png"
    zoom.dot_still(still)
    frames, _cpu = zoom.frames_of(still, motion, 0.15, 2.0, tmp_path, quality="studio")
    measured = zoom.measure(frames)
    assert measured["frames"] == 60
    assert measured["zoom_end"] == pytest.approx(end, rel=0.005)
    # zoompan on a 2x picture (web quality): the centre moves up to 1 px between frames, the step by half itself
    assert measured["centre_move_px"] < 0.05 and measured["centre_drift_px"] < 0.05
    assert measured["step_unevenness"] < 0.15
