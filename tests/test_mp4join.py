"""Joining a render's pieces by their sample tables (`mp4join`), against ffmpeg's concat demuxer."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

av = pytest.importorskip("av")
pytest.importorskip("imageio_ffmpeg")

from mediatools import run_ffmpeg  # noqa: E402
from reelforge.renderers.ffmpeg.mp4join import JoinError, join_pieces  # noqa: E402
from reelforge.renderers.ffmpeg.video import encoder_args, piece_path  # noqa: E402
from reelforge.timebase import Rate  # noqa: E402


def pieces(folder: Path, boundaries: list[int], size: str = "320x240", frames: int = 150) -> list[Path]:
    """One x264 encode cut into pieces at `boundaries` by the segment muxer, the way a run writes them (B-frames,
    a keyframe at each cut, timestamps from 0 in each piece)."""
    folder.mkdir()
    run_ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={size}:r=30", "-frames:v", str(frames),
               *encoder_args("web", Rate.of(30), muxer=False), "-threads", "1",
               "-force_key_frames", "expr:" + "+".join(f"eq(n,{b})" for b in boundaries),
               "-f", "segment", "-segment_format", "mp4", "-segment_format_options", "video_track_timescale=90000",
               "-segment_frames", ",".join(map(str, boundaries)), "-reset_timestamps", "1", folder / "piece%03d.mp4")
    return [piece_path(folder, n) for n in range(len(boundaries) + 1)]


def packets_and_frames(path: Path) -> tuple[list[tuple], list[str]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [(float(p.pts * p.time_base), float(p.dts * p.time_base), p.is_keyframe)
                   for p in container.demux(stream) if p.size]
    with av.open(str(path)) as container:
        frames = [hashlib.md5(f.to_ndarray(format="yuv420p").tobytes()).hexdigest() for f in container.decode(video=0)]
    return packets, frames


def test_joined_pieces_play_as_the_concat_demuxer_joins_them(tmp_path: Path):
    parts = pieces(tmp_path / "pieces", [40, 47, 100])  # a 7-frame piece among them, like a transition
    joined = tmp_path / "joined.mp4"
    assert join_pieces(parts, joined) == 150
    listing = tmp_path / "list.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    concat = tmp_path / "concat.mp4"
    run_ffmpeg("-f", "concat", "-safe", "0", "-i", listing, "-c", "copy", concat)
    # Both remuxed the same way, as the render's final mux does.
    remuxed = tmp_path / "remuxed.mp4"
    run_ffmpeg("-i", joined, "-c", "copy", "-movflags", "+faststart", remuxed)
    ours, theirs = packets_and_frames(remuxed), packets_and_frames(concat)
    assert ours[0] == theirs[0]  # every packet's times and keyframe flag
    assert ours[1] == theirs[1] and len(ours[1]) == 150  # every decoded frame
    assert [k for k, (_, _, key) in enumerate(ours[0]) if key] == [0, 40, 47, 100]  # each piece starts on one


def test_pieces_encoded_differently_are_not_joined(tmp_path: Path):
    parts = pieces(tmp_path / "small", [30], size="160x120", frames=60) + pieces(tmp_path / "large", [30], frames=60)
    with pytest.raises(JoinError, match="is not encoded like"):
        join_pieces(parts, tmp_path / "joined.mp4")
    assert not (tmp_path / "joined.mp4").exists()
    with pytest.raises(JoinError, match="not a whole MP4"):
        (tmp_path / "text.mp4").write_bytes(b"\x00\x00\x00\x10ftypisom\x00\x00\x02\x00")
        join_pieces([tmp_path / "text.mp4"], tmp_path / "joined.mp4")
