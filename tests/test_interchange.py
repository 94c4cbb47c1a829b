"""OpenTimelineIO export and import, checked by the adapters and by a real third-party consumer.

One document (two clips, a held last frame, a narrated gradient with text, a color, a transparent card block,
a still block and a sound block) is exported once in every format. Each export is read back with OTIO's adapters
and compared with `reelforge timeline`; Debian's `melt` (the engine Kdenlive renders with) renders the .mlt and
.kdenlive exports, compared frame by frame with reelforge's own render of the document (text layers off); the
.otioz bundle is opened in another folder; the .otio export imported and rendered again gives the same frames.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
otio = pytest.importorskip("opentimelineio")
pytest.importorskip("av")

from conftest import private_cache, run_cli  # noqa: E402
from mediatools import probe, run_ffmpeg, video_frames, write_wav_tone  # noqa: E402
from reelforge import RenderJob, Workspace  # noqa: E402
from reelforge.interchange import FORMATS, export, import_timeline  # noqa: E402
from reelforge.interchange.mlt import MELT_FAILURES, melt_command  # noqa: E402
from reelforge.job import prepare, render_prepared  # noqa: E402

FPS = 30
WIDTH, HEIGHT = 540, 960  # 9:16 1080p at draft quality

DOCUMENT = {
    "version": "1",
    "name": "Interchange",
    "output": {"quality": "draft"},
    "scenes": [
        {"id": "a", "duration": 2, "visual": {"type": "video", "source": {"path": "assets/a.mp4"}, "trimStart": 0.5,
                                               "volume": 0.8},
         "transition": {"type": "crossfade", "duration": 0.5}},
        {"id": "b", "duration": 2.5, "visual": {"type": "video", "source": {"path": "assets/b.mp4"}, "loop": False},
         "transition": {"type": "wipe_left", "duration": 0.4}},
        {"id": "c", "narration": {"text": "The sea is deep."}, "padding": 0.2,
         "visual": {"type": "gradient", "colors": ["#c03020", "#2040c0"]}, "overlays": [{"text": "Deep"}],
         "transition": {"type": "crossfade", "duration": 0.4}},
        {"id": "d", "duration": 1.5, "visual": {"type": "color", "color": "#208040"}},
    ],
    "blocks": [
        {"type": "card", "start": 0.5, "duration": 1.2, "card": {"card": "title", "title": "Hi"}},
        {"type": "audio", "start": 0, "duration": 2, "source": {"path": "assets/tone.wav"}, "volume": 0.5,
         "fadeIn": 0.2},
    ],
}


def make_clip(path: Path, pattern: str, seconds: float, tone: int | None) -> Path:
    audio = ["-f", "lavfi", "-i", f"sine=f={tone}:d={seconds}:sample_rate=48000"] if tone else []
    run_ffmpeg("-f", "lavfi", "-i", f"{pattern}=s={WIDTH}x{HEIGHT}:r={FPS}:d={seconds}", *audio,
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", str(FPS),
               *(["-c:a", "aac", "-shortest"] if tone else []), path)
    return path


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory: pytest.TempPathFactory):
    with private_cache(tmp_path_factory, "reelforge-cache") as folder:
        yield folder


@pytest.fixture(scope="module")
def workspace(cache: Path) -> Workspace:
    return Workspace(cache)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The document file, with its clips (at the frame's size: no fitting to compare), a still and a tone."""
    folder = tmp_path_factory.mktemp("project")
    (folder / "assets").mkdir()
    make_clip(folder / "assets" / "a.mp4", "testsrc2", 3, 440)
    make_clip(folder / "assets" / "b.mp4", "testsrc", 2, None)
    write_wav_tone(folder / "assets" / "tone.wav", 3.0, 300)
    path = folder / "document.json"
    path.write_text(json.dumps(DOCUMENT), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def exports(project: Path, workspace: Workspace) -> dict:
    """Every format, exported once into `exports/`."""
    out = project.parent / "exports"
    results = {}
    for suffix in FORMATS:
        results[suffix] = export(RenderJob.of(project), workspace, out / f"edit{suffix}")
    return results


@pytest.fixture(scope="module")
def timeline_json(project: Path) -> dict:
    result = run_cli("timeline", project)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def render_without_text(document, out: Path, workspace: Workspace, base_dir: Path) -> Path:
    """reelforge's own render through the seam, with the text layers (overlays, captions) taken out."""
    prepared = prepare(RenderJob.of(document, out, base_dir=base_dir, subtitles=False), workspace)
    prepared.timeline.texts = []
    prepared.timeline.cues = []
    render_prepared(prepared, workspace)
    return out


@pytest.fixture(scope="module")
def reference(project: Path, workspace: Workspace) -> Path:
    return render_without_text(project, project.parent / "reference.mp4", workspace, project.parent)


# -- reading back ---------------------------------------------------------------------------------------------


def read_back(path: Path, extract: Path | None = None):
    kwargs = {"rate": FPS} if path.suffix == ".edl" else {}
    if extract is not None:
        kwargs["extract_to_directory"] = str(extract)
    with contextlib.redirect_stdout(io.StringIO()):
        result = otio.adapters.read_from_file(str(path), **kwargs)
    if not isinstance(result, otio.schema.Timeline):
        result = next(result.find_children(descended_from_type=otio.schema.Timeline))
    return result


def extents(track) -> list[tuple[int, int, int]]:
    """Each clip as (first frame, frames, first source frame) over all it shows, transitions included: the same
    however a format places the cut inside a transition (an EDL puts it at the start)."""
    items = list(track)
    out = []
    for index, item in enumerate(items):
        if not isinstance(item, otio.schema.Clip):
            continue
        span = track.range_of_child_at_index(index)
        before = items[index - 1] if index else None
        after = items[index + 1] if index + 1 < len(items) else None
        lead = before.in_offset.to_frames() if isinstance(before, otio.schema.Transition) else 0
        tail = after.out_offset.to_frames() if isinstance(after, otio.schema.Transition) else 0
        out.append((span.start_time.to_frames() - lead, span.duration.to_frames() + lead + tail,
                    item.source_range.start_time.to_frames() - lead))
    return out


def by_kind(timeline, kind) -> list:
    return [track for track in timeline.tracks if track.kind == kind]


def scene_spans(timeline) -> dict[str, tuple[int, int]]:
    """Per scene (clip names up to '#'), the frames its clips cover with their transitions."""
    spans: dict[str, tuple[int, int]] = {}
    track = timeline.tracks[0]
    for (start, frames, _), clip in zip(extents(track), track.find_clips()):
        name = clip.name.split("#")[0]
        low, high = spans.get(name, (start, start + frames))
        spans[name] = (min(low, start), max(high, start + frames))
    return spans


@pytest.mark.slow
def test_otio_export_matches_the_timeline(exports: dict, timeline_json: dict) -> None:
    built = read_back(exports[".otio"].path)
    assert built.duration().to_frames() == timeline_json["frames"]
    assert built.duration().rate == FPS
    spans = scene_spans(built)
    assert spans == {s["name"]: (s["range"]["start"], s["range"]["start"] + s["range"]["duration"])
                     for s in timeline_json["scenes"]}
    names = [t.name for t in built.tracks]
    assert names == ["Scenes", "Overlays", "Text", "Narration", "Sound", "Sound 2"]  # the tone block overlaps a's sound
    overlays = [(c.range_in_parent().start_time.to_frames(), c.duration().to_frames())
                for c in built.tracks[1].find_clips()]
    assert overlays == [(o["range"]["start"], o["range"]["duration"]) for o in timeline_json["overlays"]]
    sounds = sorted((c.range_in_parent().start_time.to_frames(), c.duration().to_frames())
                    for t in by_kind(built, otio.schema.TrackKind.Audio) for c in t.find_clips())
    assert sounds == sorted((a["range"]["start"], a["range"]["duration"]) for a in timeline_json["audio"])
    texts = [(c.range_in_parent().start_time.to_frames(), c.duration().to_frames()) for c in built.tracks[2].find_clips()]
    assert texts == [(t["range"]["start"], t["range"]["duration"]) for t in timeline_json["texts"]
                     if t["role"] == "overlay"]
    assert [m.marked_range.start_time.to_frames() for m in built.tracks.markers] == \
        [c["range"]["start"] for c in timeline_json["cues"]]
    transitions = [t for t in built.tracks[0] if isinstance(t, otio.schema.Transition)]
    assert [(t.name, t.in_offset.to_frames() + t.out_offset.to_frames()) for t in transitions] == \
        [(s["transition_out"], s["transition_frames"]) for s in timeline_json["scenes"] if s["transition_frames"]]


@pytest.mark.slow
def test_generated_media_is_written_beside_the_export(exports: dict) -> None:
    result = exports[".otio"]
    media = result.path.with_name("edit_media")
    names = sorted(p.name for p in media.iterdir())
    assert any(n.startswith("card-") and n.endswith(".mov") for n in names), names  # the rendered, lossless card
    assert "narration-c.wav" in names
    assert any(n.startswith("gradient-") for n in names) and any(n.startswith("color-208040") for n in names)
    assert any(n.startswith("held-") for n in names)  # scene b's clip ends before the scene: its last frame held
    card = probe(next(media.glob("card-*.mov")))
    assert card.video.codec == "qtrle" and card.video.packets == round(1.2 * FPS)
    srt = result.path.with_suffix(".srt")
    assert srt.is_file() and "sea" in srt.read_text(encoding="utf-8")
    for clip in read_back(result.path).find_clips():
        url = getattr(clip.media_reference, "target_url", None)
        if url:
            assert Path(otio.url_utils.filepath_from_url(url)).is_file(), url


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".otioz", ".edl", ".xml", ".fcpxml", ".kdenlive"])
def test_every_export_reads_back_as_written(suffix: str, exports: dict, tmp_path: Path, timeline_json: dict) -> None:
    result = exports[suffix]
    written = result.written
    back = read_back(result.path, tmp_path if suffix == ".otioz" else None)
    assert back.duration().to_frames() == timeline_json["frames"] == written.duration().to_frames()
    for kind in (otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio):
        mine, theirs = by_kind(written, kind), by_kind(back, kind)
        assert len(theirs) == len(mine), f"{suffix}: {kind} tracks"
        for a, b in zip(mine, theirs):
            assert extents(b) == extents(a), f"{suffix}: track {a.name}"
    # What the format could not take was said, one line a thing.
    notes = result.notes
    if suffix == ".edl":
        for name in ("Overlays", "Text", "Narration", "Sound"):
            assert sum(f'track "{name}"' in n and "left out" in n for n in notes) == 1, notes
        assert any("wipe_left" in n and "dissolve" in n for n in notes)
        assert len(back.tracks) == 1
    if suffix in (".fcpxml", ".kdenlive"):
        assert sum("transition" in n and "left out" in n for n in notes) == 3, notes  # a -> b, b -> c, c -> d
    if suffix != ".otioz":
        assert any('track "Text"' in n and "left out" in n for n in notes), notes
    assert len(notes) == len(set(notes))


@pytest.mark.slow
def test_otioz_opens_in_another_folder(exports: dict, project: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere" / "edit.otioz"
    moved.parent.mkdir()
    shutil.copy(exports[".otioz"].path, moved)
    with zipfile.ZipFile(moved) as bundle:
        inside = bundle.read("content.otio").decode()
        names = bundle.namelist()
    assert str(project.parent) not in inside  # no original path, of an asset or of the media folder
    assert "edit_media" not in inside
    (tmp_path / "unpacked").mkdir()
    timeline = read_back(moved, tmp_path / "unpacked")
    media = [clip.media_reference.target_url for clip in timeline.find_clips()
             if hasattr(clip.media_reference, "target_url")]
    assert media and all(url.startswith("media/") for url in media), media
    assert all((tmp_path / "unpacked" / url).is_file() for url in media)
    assert len([n for n in names if n.startswith("media/")]) == len(set(media))


def frames_of(path: Path) -> dict[int, np.ndarray]:
    return {k: v.astype(np.float32) for k, v in video_frames(path).items()}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse < 1e-6 else 10 * np.log10(255.0 ** 2 / mse)


def cut_frames(timeline_json: dict) -> list[int]:
    """The frames either side of every cut and every transition (outside them)."""
    frames = []
    incoming = 0
    for scene in timeline_json["scenes"]:
        start = scene["range"]["start"] + incoming
        end = scene["range"]["start"] + scene["range"]["duration"] - scene["transition_frames"]
        frames += [start, end - 1]
        incoming = scene["transition_frames"]
    return frames


def assert_same_frames_at_cuts(rendered: Path, reference: Path, timeline_json: dict, floor: float) -> list[float]:
    ours, theirs = frames_of(reference), frames_of(rendered)
    assert len(theirs) == len(ours) == timeline_json["frames"]
    scores = []
    for index in cut_frames(timeline_json):
        same = psnr(theirs[index], ours[index])
        scores.append(same)
        assert same >= floor, f"frame {index}: {same:.1f} dB"
        # The frame itself, not a neighbour (a cut one frame early or late): where the picture moves between
        # them, the frame is much nearer ours than the neighbour is.
        for offset in (-1, 1):
            if not 0 <= index + offset < len(ours):
                continue
            neighbour = ours[index + offset]
            moved = np.abs(ours[index] - neighbour).max(axis=-1) > 40
            if moved.sum() < 50:
                continue
            error = np.abs(theirs[index] - ours[index]).max(axis=-1)[moved].mean()
            error_next = np.abs(theirs[index] - neighbour).max(axis=-1)[moved].mean()
            assert error < error_next / 2, f"frame {index} is nearer our frame {index + offset}"
    return scores


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".mlt", ".kdenlive"])
def test_melt_renders_the_export_as_reelforge_does(suffix: str, exports: dict, reference: Path, timeline_json: dict,
                                                   tmp_path: Path) -> None:
    if shutil.which("melt") is None:
        pytest.fail("melt is not installed (scripts/setup.sh installs the Debian package)")
    out = tmp_path / "melt.mp4"
    done = subprocess.run(melt_command(exports[suffix].path, out), capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"})
    # melt's exit code says little (0 with a missing file): its complaints are on stderr.
    assert done.returncode == 0 and not any(f in done.stderr for f in MELT_FAILURES), done.stderr[-2000:]
    rendered = probe(out)
    assert rendered.video.packets == timeline_json["frames"]
    assert (rendered.video.width, rendered.video.height) == (WIDTH, HEIGHT)
    assert abs(rendered.audio.seconds - timeline_json["seconds"]) < 0.1
    scores = assert_same_frames_at_cuts(out, reference, timeline_json, floor=30.0)
    # The overlay card is composited with its alpha: inside its span the frames still match.
    assert min(scores) >= 30.0


@pytest.mark.slow
def test_export_import_render_gives_the_same_cuts(exports: dict, project: Path, reference: Path, workspace: Workspace,
                                                  timeline_json: dict) -> None:
    out = project.parent / "imported" / "document.json"
    out.parent.mkdir(exist_ok=True)
    result = run_cli("import", exports[".otio"].path, "-o", out)
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    assert [s["id"] for s in document["scenes"]] == ["a", "b", "b-2", "c", "d"]  # b's held frame: a scene of its own
    assert document["scenes"][0]["transition"] == {"type": "crossfade", "duration": 0.5}
    assert document["scenes"][2]["transition"]["type"] == "wipe_left"
    assert {b["type"] for b in document["blocks"]} == {"card", "text", "audio"}
    # The narration comes back as scene c's recording, its caption lines as the transcript; and it is said.
    narration = document["scenes"][3]["narration"]
    assert narration["transcript"] == "The sea is deep." and narration["audio"]["path"].endswith("narration-c.wav")
    assert "transcripts" in result.stderr
    assert not any(b["type"] == "audio" and "narration" in b["source"]["path"] for b in document["blocks"])
    back = run_cli("timeline", out)
    assert back.returncode == 0, back.stderr
    again = json.loads(back.stdout)
    assert again["frames"] == timeline_json["frames"]
    rendered = render_without_text(out, out.with_suffix(".mp4"), workspace, out.parent)
    assert_same_frames_at_cuts(rendered, reference, timeline_json, floor=35.0)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".otioz", ".edl", ".xml", ".fcpxml", ".kdenlive"])
def test_every_readable_export_imports_with_its_cuts(suffix: str, exports: dict, tmp_path: Path,
                                                     workspace: Workspace, timeline_json: dict) -> None:
    out = tmp_path / "document.json"
    result = import_timeline(exports[suffix].path, out)
    out.write_text(json.dumps(result.document), encoding="utf-8")
    imported = prepare(RenderJob.of(out), workspace).timeline
    assert imported.frames == timeline_json["frames"]
    assert (imported.width, imported.height) == (WIDTH, HEIGHT)  # from the metadata, else from the first clip
    scenes = [(layer.range.start, layer.range.duration, layer.transition_frames) for layer in imported.scenes]
    written = exports[suffix].written.tracks[0]
    transitions = [t.in_offset.to_frames() + t.out_offset.to_frames() for t in written
                   if isinstance(t, otio.schema.Transition)]
    assert [(start, frames) for start, frames, _ in scenes] == [(a, n) for a, n, _ in extents(written)]
    assert [t for _, _, t in scenes if t] == transitions
    assert len(result.notes) == len(set(result.notes))


# -- handles, errors ----------------------------------------------------------------------------------------------


def test_a_transition_the_media_cannot_cover_is_shortened_and_said(tmp_path: Path, workspace: Workspace) -> None:
    # a.mp4 lasts 60 frames and loops in a 65-frame scene: at the crossfade's middle (frame 57) the clip before the
    # cut has 3 of the 8 frames it needs after it (the next repeat starts at frame 60).
    make_clip(tmp_path / "a.mp4", "testsrc2", 2, None)
    document = {"version": "1", "name": "Handles", "output": {"quality": "draft"}, "scenes": [
        {"id": "a", "duration": 65 / FPS, "visual": {"type": "video", "source": {"path": "a.mp4"}},
         "transition": {"type": "crossfade", "duration": 0.5}},
        {"id": "b", "duration": 1, "visual": {"type": "color", "color": "#000000"}}]}
    path = tmp_path / "handles.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = export(RenderJob.of(path), workspace, tmp_path / "handles.edl")
    assert any("transition a -> b" in n and "shortened to 10" in n and "3 of the 8" in n for n in result.notes), \
        result.notes
    transition = next(t for t in result.timeline.tracks[0] if isinstance(t, otio.schema.Transition))
    assert (transition.in_offset.to_frames(), transition.out_offset.to_frames()) == (7, 3)
    assert "D 010" in (tmp_path / "handles.edl").read_text()  # the EDL writer took it


def test_unknown_formats_fail_in_one_line(tmp_path: Path, project: Path) -> None:
    result = run_cli("export", project, "-o", tmp_path / "out.avi")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "unknown timeline format" in result.stderr
    (tmp_path / "t.mlt").write_text("<mlt/>")
    result = run_cli("import", tmp_path / "t.mlt", "-o", tmp_path / "d.json")
    assert result.returncode == 2 and "only writes" in result.stderr and result.stderr.count("\n") == 1
    (tmp_path / "broken.otio").write_text("{not json")
    result = run_cli("import", tmp_path / "broken.otio", "-o", tmp_path / "d.json")
    assert result.returncode == 2 and "not a readable" in result.stderr and result.stderr.count("\n") == 1
    assert not (tmp_path / "d.json").exists()
