"""Real renders, small and quick (draft quality, 1-3 s scenes), measured rather than trusted.

Durations are counted in decoded frames and audio samples, sizes read from the streams, loudness measured
with ffmpeg's ebur128, ducking and captions compared between two renders that differ in one setting only.
Every render shares one module-wide `$REELFORGE_CACHE`, so each narration is spoken once.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import threading
import time
import wave
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import get_args

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("av")
pytest.importorskip("imageio_ffmpeg")
pytest.importorskip("piper")
pytest.importorskip("pysubs2")

import pysubs2  # noqa: E402
from PIL import Image  # noqa: E402

from conftest import private_cache, run_cli  # noqa: E402
from mediatools import (  # noqa: E402
    audio_samples,
    band_db,
    best_source_frame,
    changed,
    closed_port,
    frame_means,
    loudness,
    make_test_clip,
    make_test_image,
    mean_abs_diff,
    onsets,
    probe,
    resize,
    rms_db,
    serving,
    sidecar_cues,
    subtitle_cues,
    video_frames,
    write_wav_tone,
)
from reelforge import CancelToken, Progress, RenderCancelled, RenderResult, Workspace, render  # noqa: E402
from reelforge.model.audio import Voice  # noqa: E402
from reelforge.model.scene import TransitionKind  # noqa: E402
from reelforge.resolve.media import MediaError  # noqa: E402
from reelforge.speech import Speech  # noqa: E402
from reelforge.speech.tts import synthesize  # noqa: E402
from test_timeline import FULL_SIZE, color_document, draft_size  # noqa: E402

pytestmark = pytest.mark.slow

FPS = 30
FRAME = 1 / FPS
PADDING = 0.4  # a scene's default padding after its narration
NARRATION_INTRO = "Hello there, friend. The ocean is wide and deep."
NARRATION_MIDDLE = "Boats sail home at dusk."

# Three scenes, 9:16 1080p at draft quality (540x960): two narrated ('auto' length), one silent of 1.5 s.
NARRATED = {
    "version": "1",
    "name": "Narrated",
    "output": {"quality": "draft"},
    "scenes": [
        {"id": "intro", "narration": {"text": NARRATION_INTRO}, "visual": {"type": "color", "color": "#204060"}},
        {"id": "middle", "narration": {"text": NARRATION_MIDDLE},
         "visual": {"type": "gradient", "colors": ["#607080", "#0000ff"]}},
        {"id": "outro", "duration": 1.5, "visual": {"type": "color", "color": "#a05020"}},
    ],
}


def with_changes(document: dict, **changes) -> dict:
    return {**copy.deepcopy(document), **copy.deepcopy(changes)}


# -- the module's cache, assets and renders -----------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory: pytest.TempPathFactory):
    """A fresh `$REELFORGE_CACHE` for the whole module (the CLI's subprocesses inherit it)."""
    with private_cache(tmp_path_factory, "reelforge-cache") as folder:
        yield folder


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Documents, their `assets/` folder and the renders."""
    return tmp_path_factory.mktemp("renders")


@pytest.fixture(scope="module")
def assets(workdir: Path) -> Path:
    folder = workdir / "assets"
    folder.mkdir()
    make_test_clip(folder / "clip.mp4")  # 320x240, 2 s at 30 fps, with a 440 Hz tone
    make_test_clip(folder / "steps.mp4", sound=f"sin(2*PI*if(lt(t,1),{LOW_HZ},{HIGH_HZ})*t)")  # low, then high
    make_test_image(folder / "still.png")  # 800x800
    write_wav_tone(folder / "tone.wav", 3.0)
    (folder / "empty.mp4").write_bytes(b"")
    (folder / "corrupt.mp4").write_bytes(np.random.default_rng(7).integers(0, 256, 20_000, dtype=np.uint8).tobytes())
    return folder


@dataclass
class Rendered:
    result: RenderResult
    progress: list[Progress] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return self.result.path


def render_document(document: dict, out: Path, assets: Path | None = None, **options) -> Rendered:
    progress: list[Progress] = []
    result = render(document, out, assets=assets, on_progress=progress.append, **options)
    return Rendered(result, progress)


@pytest.fixture(scope="module")
def narrated(workdir: Path) -> Rendered:
    return render_document(NARRATED, workdir / "narrated.mp4")


@pytest.fixture(scope="module")
def uncaptioned(workdir: Path, narrated: Rendered) -> Rendered:
    return render_document(with_changes(NARRATED, captions={"enabled": False}), workdir / "uncaptioned.mp4")


@pytest.fixture(scope="module")
def speeches() -> dict[str, Speech]:
    """The narration of each narrated scene: spoken once into the module's cache, which the renders share."""
    workspace = Workspace.from_environment()  # the module's $REELFORGE_CACHE
    return {"intro": synthesize(NARRATION_INTRO, Voice(), workspace=workspace),
            "middle": synthesize(NARRATION_MIDDLE, Voice(), workspace=workspace)}


def wav_duration(path: Path) -> Fraction:
    with wave.open(str(path), "rb") as wav:
        return Fraction(wav.getnframes(), wav.getframerate())


def wav_seconds(path: Path) -> float:
    return float(wav_duration(path))


def scene_boundaries(path: Path) -> list[int]:
    """Frames where the picture's top strip (clear of captions) changes color: where scenes cut."""
    means = frame_means(path, rows=slice(0, 100))
    jumps = np.abs(np.diff(means, axis=0)).max(axis=1)
    return [int(index) + 1 for index in np.flatnonzero(jumps > 15)]


# -- streams, sizes, durations ----------------------------------------------------------------------------


def test_narrated_render_has_video_audio_and_captions_at_the_draft_frame_size(narrated: Rendered):
    media = probe(narrated.path)
    assert media.kinds() == ["video", "audio", "subtitle"]
    assert (media.video.codec, media.audio.codec, media.stream("subtitle").codec) == ("h264", "aac", "mov_text")
    assert (media.video.width, media.video.height) == (540, 960)  # 1080x1920 halved for draft
    assert (narrated.result.width, narrated.result.height) == (540, 960)
    assert narrated.result.size_bytes == narrated.path.stat().st_size > 0


def test_each_narrated_scene_lasts_its_narration_plus_padding(narrated: Rendered, speeches):
    media = probe(narrated.path)
    frames = media.video.packets
    boundaries = scene_boundaries(narrated.path)
    assert len(boundaries) == 2, f"expected 3 scenes, found cuts at frames {boundaries}"
    lengths = [boundaries[0], boundaries[1] - boundaries[0], frames - boundaries[1]]
    for scene_id, length in zip(("intro", "middle"), lengths):
        expected = wav_seconds(speeches[scene_id].audio_path) + PADDING
        assert abs(length * FRAME - expected) <= 0.050, f"{scene_id}: {length} frames for {expected:.3f} s"
    assert lengths[2] == 45  # the fixed 1.5 s outro
    # The streams end together, at the timeline's length.
    assert narrated.result.duration == pytest.approx(frames * FRAME, abs=1e-9)
    assert media.audio.seconds == pytest.approx(frames * FRAME, abs=FRAME)
    assert media.seconds == pytest.approx(frames * FRAME, abs=FRAME)


def test_loudness_is_minus_14_lufs_under_a_minus_1_dbtp_peak(narrated: Rendered):
    measured = loudness(narrated.path)
    assert measured.integrated_lufs == pytest.approx(-14.0, abs=1.0)
    assert measured.true_peak_dbtp <= -1.0 + 0.2


def test_progress_rises_to_one(narrated: Rendered):
    fractions = [p.fraction for p in narrated.progress]
    assert fractions and all(0 <= f <= 1 for f in fractions)
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0 and narrated.progress[-1].stage == "done"


# -- captions -------------------------------------------------------------------------------------------


def caption_band(width: int, height: int) -> tuple[slice, slice]:
    """Where bottom captions of a vertical video may draw: above the lowest 26% (the platform's UI), within
    8% side margins, and no higher than the middle of the frame."""
    bottom = int(height * (1 - 0.26)) + 4  # + a few pixels of outline and shadow
    return slice(height // 2, bottom), slice(int(width * 0.08), width - int(width * 0.08))


def test_captions_show_in_the_caption_band_only(narrated: Rendered, uncaptioned: Rendered, tmp_path: Path):
    assert probe(uncaptioned.path).kinds() == ["video", "audio"]  # no subtitle track without captions
    cues = subtitle_cues(narrated.path, tmp_path)
    during = [int((cue.start + cue.end) / 2 * FPS) for cue in cues]
    after = probe(narrated.path).video.packets - 10  # the silent outro: no captions
    with_captions = video_frames(narrated.path, during + [after])
    without = video_frames(uncaptioned.path, during + [after])
    rows, cols = caption_band(540, 960)
    inside = np.zeros((960, 540), dtype=bool)
    inside[rows, cols] = True
    for index in during:
        difference = changed(with_captions[index], without[index])
        assert difference[inside].sum() > 1000, f"frame {index}: no caption drawn in the caption band"
        assert difference[~inside].sum() <= 20, f"frame {index}: pixels changed outside the caption band"
    assert not changed(with_captions[after], without[after]).any(), "captions drawn over a silent scene"


def test_caption_track_says_the_narration_words_in_order(narrated: Rendered, tmp_path: Path):
    cues = subtitle_cues(narrated.path, tmp_path)
    assert " ".join(cue.text for cue in cues).split() == (NARRATION_INTRO + " " + NARRATION_MIDDLE).split()
    assert all(a.end <= b.start + 0.001 for a, b in zip(cues, cues[1:])), "captions overlap"


def test_each_caption_starts_with_its_first_word(narrated: Rendered, speeches, tmp_path: Path):
    cues = subtitle_cues(narrated.path, tmp_path)
    intro_frames = scene_boundaries(narrated.path)[0]
    words = [(w, 0.0) for w in speeches["intro"].words] + [(w, intro_frames * FRAME) for w in speeches["middle"].words]
    sound_starts = onsets(audio_samples(narrated.path), threshold_db=-45)
    position = 0
    for cue in cues:
        count = len(cue.text.split())
        first, scene_start = words[position]
        spoken_at = scene_start + float(first.start)
        assert abs(cue.start - spoken_at) <= 0.100, f"{cue.text!r} shows at {cue.start:.3f} s, spoken at {spoken_at:.3f} s"
        previous = words[position - 1][0] if position else None
        if previous is None or previous.ends_sentence:
            # After a pause the word's sound starts in the rendered audio where its caption does.
            nearest = min(sound_starts, key=lambda t: abs(t - cue.start))
            assert abs(nearest - cue.start) <= 0.100, f"{cue.text!r} at {cue.start:.3f} s; sound starts at {nearest:.3f} s"
        position += count
    assert position == len(words)


def test_a_recorded_narration_sets_the_scene_length_and_captions(workdir: Path, assets: Path, tmp_path: Path):
    transcript = "A steady tone for three seconds."
    document = {
        "version": "1", "name": "Recorded", "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
        "scenes": [{"id": "recorded", "narration": {"audio": {"uploadName": "tone.wav"}, "transcript": transcript},
                    "visual": {"type": "color", "color": "#204060"}}],
    }
    rendered = render_document(document, workdir / "recorded.mp4", assets=assets)
    media = probe(rendered.path)
    assert abs(media.video.packets * FRAME - (wav_seconds(assets / "tone.wav") + PADDING)) <= 0.050
    samples = audio_samples(rendered.path)
    assert rms_db(samples[int(0.1 * 48000):int(2.9 * 48000)]) > -25, "the recording is not heard"
    assert rms_db(samples[int(3.1 * 48000):int(3.35 * 48000)]) < -50, "sound in the padding after the recording"
    cues = subtitle_cues(rendered.path, tmp_path)
    assert " ".join(c.text for c in cues).split() == transcript.split()
    assert cues[0].start <= 0.05 and 2.5 <= cues[-1].end <= 3.4


@pytest.fixture(scope="module")
def cut_short(workdir: Path) -> Path:
    """The narrated document with a fixed duration of 2 s: it ends during the intro's second sentence."""
    path = workdir / "cut-short.json"
    path.write_text(json.dumps(with_changes(NARRATED, duration=2)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cut_short_render(cut_short: Path, workdir: Path) -> Path:
    return render(cut_short, workdir / "cut-short.mp4").path


def test_a_fixed_document_duration_cuts_the_picture_and_sound(cut_short_render: Path):
    media = probe(cut_short_render)
    assert media.video.packets == 60
    assert media.audio.seconds == pytest.approx(2.0, abs=FRAME)


def test_a_fixed_document_duration_ends_the_caption_track_with_the_video(cut_short_render: Path, tmp_path: Path):
    assert probe(cut_short_render).seconds == pytest.approx(2.0, abs=FRAME)
    assert all(cue.end <= 2.0 + 0.001 for cue in subtitle_cues(cut_short_render, tmp_path))


def test_a_fixed_document_duration_ends_the_sidecar_captions_with_the_video(cut_short: Path, tmp_path: Path):
    out = tmp_path / "cut-short.srt"
    assert run_cli("captions", cut_short, "-o", out).returncode == 0
    cues = sidecar_cues(out)
    assert cues and all(cue.end <= 2.0 + 0.001 for cue in cues), [(c.start, c.end, c.text) for c in cues]


# -- music ----------------------------------------------------------------------------------------------


MUSIC_ONLY_SECONDS = 2.0
VOICE_FREE_BAND = (11_500.0, 16_000.0)  # the voice (22.05 kHz) has nothing above 11 kHz; the music does


def music_document(ducking: bool) -> dict:
    return {
        "version": "1", "name": "Music", "output": {"quality": "draft"}, "captions": {"enabled": False},
        "music": {"mood": "calm", "ducking": ducking, "fadeIn": 0, "fadeOut": 0},
        "scenes": [
            {"id": "music-only", "duration": MUSIC_ONLY_SECONDS, "visual": {"type": "color", "color": "#503020"}},
            {"id": "spoken", "narration": {"text": NARRATION_INTRO}, "visual": {"type": "color", "color": "#204060"}},
        ],
    }


@pytest.fixture(scope="module")
def music_renders(workdir: Path) -> dict[bool, Rendered]:
    return {ducking: render_document(music_document(ducking), workdir / f"music-ducking-{ducking}.mp4")
            for ducking in (True, False)}


def test_music_is_quieter_under_narration_when_ducking(music_renders, speeches):
    """The music's level under the narration relative to its level alone, each in the same render (so the
    loudness normalization cancels out), measured in a band the voice does not reach."""
    words = speeches["intro"].words
    spoken = (MUSIC_ONLY_SECONDS + float(words[0].start), MUSIC_ONLY_SECONDS + float(words[-1].end))
    drops = {}
    for ducking, rendered in music_renders.items():
        samples = audio_samples(rendered.path)
        assert rms_db(samples[int(0.2 * 48000):int(1.9 * 48000)]) > -35, "no music where nobody speaks"
        alone = band_db(samples, 0.2, MUSIC_ONLY_SECONDS - 0.1, *VOICE_FREE_BAND)
        under = band_db(samples, *spoken, *VOICE_FREE_BAND)
        drops[ducking] = under - alone
    assert abs(drops[False]) <= 3.0, f"without ducking the music changed by {drops[False]:.1f} dB under the voice"
    assert drops[True] <= -5.0, f"ducked music only dropped {drops[True]:.1f} dB under the voice"
    assert drops[True] - drops[False] <= -6.0


# -- the segment cache ----------------------------------------------------------------------------------


def segments_per_scene(document: dict) -> list[int]:
    """How many cached segments each scene of `document` is cut into."""
    from reelforge.job import RenderJob, prepare
    from reelforge.renderers.ffmpeg.segments import plan_segments

    timeline = prepare(RenderJob.of(document), Workspace.from_environment()).timeline
    segments = plan_segments(timeline)
    return [sum(1 for s in segments if s.scene is not None and s.scene.layer is layer) for layer in timeline.scenes]


def test_changing_one_narration_rerenders_only_that_scene(narrated: Rendered, workdir: Path, tmp_path: Path):
    again = render(NARRATED, workdir / "narrated-again.mp4")
    assert (again.cache_hits, again.cache_misses) == (sum(segments_per_scene(NARRATED)) + 1, 0)  # + the audio

    edited = copy.deepcopy(NARRATED)
    edited["scenes"][0]["narration"]["text"] = "Hello again, friend. The ocean is wide and deep."
    result = render(edited, workdir / "narrated-edited.mp4")
    # The intro and the mixed audio change; the later scenes moved in time but their segments are reused.
    intro, *later = segments_per_scene(edited)
    assert (result.cache_hits, result.cache_misses) == (sum(later), intro + 1)
    cues = subtitle_cues(result.path, tmp_path)
    assert " ".join(c.text for c in cues).split()[:3] == ["Hello", "again,", "friend."]
    assert probe(result.path).video.packets * FRAME == pytest.approx(result.duration, abs=1e-9)


KEEPER = "The old lighthouse keeper climbed the spiral stairs every evening at dusk."


def test_editing_a_later_sentence_keeps_the_pieces_of_the_sentences_before_it(workdir: Path):
    """The first sentence ends about 3.9 s in, within a second of where the scene's first cut would fall: the cut
    moves there, and an edit of the second sentence re-renders the scene from there on."""
    from reelforge.job import RenderJob, prepare
    from reelforge.renderers.ffmpeg.segments import plan_segments

    def document(second: str) -> dict:
        return {"version": "1", "name": "Keeper", "output": {"quality": "draft"},
                "scenes": [{"id": "keeper", "narration": {"text": f"{KEEPER} {second}"},
                            "visual": {"type": "color", "color": "#203040"}}]}

    before = document("He lit the great lamp for the ships out at sea.")
    after = document("Then he lit the great lamp for the fishing boats far out at sea.")
    cuts = {}
    for name, doc in (("before", before), ("after", after)):
        timeline = prepare(RenderJob.of(doc), Workspace.from_environment()).timeline
        second = [cue for cue in timeline.cues if cue.text.split()[0] in ("He", "Then")][0]
        last_of_first = [cue for cue in timeline.cues if cue.range.start < second.range.start][-1]
        assert last_of_first.text.endswith("dusk.")
        assert len(timeline.breaks) == 1 and last_of_first.range.start < timeline.breaks[0] <= second.range.start
        cuts[name] = [segment.range.end for segment in plan_segments(timeline)]
        assert cuts[name][0] == timeline.breaks[0], "the first piece ends where the first sentence does"
    assert cuts["before"][0] == cuts["after"][0]
    made = render(before, workdir / "keeper.mp4")
    assert made.cache_hits == 0
    result = render(after, workdir / "keeper-edited.mp4")
    assert (result.cache_hits, result.cache_misses) == (1, len(cuts["after"]))  # the first piece; the rest + audio
    assert probe(result.path).video.packets * FRAME == pytest.approx(result.duration, abs=1e-9)


# -- cancellation and failure ---------------------------------------------------------------------------


@pytest.mark.parametrize("existing", [False, True], ids=["no-file", "existing-file"])
def test_cancelling_a_render_leaves_no_file_and_keeps_the_old_one(existing: bool, assets: Path, tmp_path: Path, cache: Path):
    # 30 s of a zooming still at full size: many seconds of work, stopped as soon as the video starts.
    long_render = {
        "version": "1", "name": "Long", "output": {"quality": "web"},
        "scenes": [{"id": "long", "duration": 30, "visual": {"type": "image", "source": {"uploadName": "still.png"}}}],
    }
    out = tmp_path / "out" / "long.mp4"
    out.parent.mkdir()
    if existing:
        out.write_bytes(b"the previous render")
    segments_before = set((cache / "segments").glob("*.mp4"))
    token = CancelToken()
    fallback = threading.Timer(20, token.cancel)  # never hang the suite
    fallback.start()

    def on_progress(progress: Progress) -> None:
        if progress.stage == "video":
            token.cancel()

    started = time.monotonic()
    try:
        with pytest.raises(RenderCancelled) as error:
            render(long_render, out, assets=assets, cancel=token, on_progress=on_progress)
    finally:
        fallback.cancel()
    assert time.monotonic() - started < 15
    assert error.value.exit_code == 130
    assert sorted(p.name for p in out.parent.iterdir()) == (["long.mp4"] if existing else [])
    if existing:
        assert out.read_bytes() == b"the previous render"
    assert set((cache / "segments").glob("*.mp4")) == segments_before, "a cancelled segment reached the cache"
    assert not list((cache / "work").iterdir()), "the render's work folder was left behind"


@pytest.fixture(scope="module")
def web_server():
    html = b"<!doctype html><html><body>Not a video</body></html>"
    with serving({"/page.mp4": ("text/html; charset=utf-8", html), "/lying.mp4": ("video/mp4", html)}) as base:
        yield base


def video_scene(source: dict) -> dict:
    return {"version": "1", "name": "Bad", "output": {"quality": "draft"},
            "scenes": [{"id": "clip", "duration": 1, "visual": {"type": "video", "source": source}}]}


# (document, the JSON path the message must name, words it must say); "{server}" is the local web server.
BAD_ASSETS = {
    "missing-upload": (video_scene({"uploadName": "missing.mp4"}), "scenes[0].visual.source.uploadName", "not in the assets folder"),
    "missing-path": (video_scene({"path": "nowhere/missing.mp4"}), "scenes[0].visual.source.path", "file not found"),
    "zero-bytes": (video_scene({"uploadName": "empty.mp4"}), "scenes[0].visual.source", "empty"),
    "corrupt": (video_scene({"uploadName": "corrupt.mp4"}), "scenes[0].visual.source", "not a readable media file"),
    "still-as-video": (video_scene({"uploadName": "still.png"}), "scenes[0].visual.source", "not a video"),
    "music-without-sound": (
        {**video_scene({"uploadName": "clip.mp4"}), "music": {"source": {"uploadName": "still.png"}}},
        "music.source", "no audio"),
    "unreachable-url": (video_scene({"url": "http://127.0.0.1:{closed}/clip.mp4"}), "scenes[0].visual.source.url", "cannot fetch"),
    "url-serving-html": (video_scene({"url": "{server}/page.mp4"}), "scenes[0].visual.source.url", "text/html"),
    "url-serving-html-as-video": (video_scene({"url": "{server}/lying.mp4"}), "scenes[0].visual.source", "not a readable media file"),
}


def bad_document(name: str, server: str) -> tuple[dict, str, str]:
    document, where, words = BAD_ASSETS[name]
    text = json.dumps(document).replace("{server}", server).replace("{closed}", str(closed_port()))
    return json.loads(text), where, words


@pytest.mark.parametrize("name", list(BAD_ASSETS))
def test_a_bad_asset_is_one_line_naming_where_it_is(name: str, assets: Path, web_server: str, tmp_path: Path, cache: Path):
    document, where, words = bad_document(name, web_server)
    with pytest.raises(MediaError) as error:
        render(document, tmp_path / "out.mp4", assets=assets)
    message = str(error.value)
    assert "\n" not in message and message.startswith(where) and words in message, message
    assert not (tmp_path / "out.mp4").exists()
    assert not list(cache.glob("downloads/.download-*")), "a failed download was left in the cache"


@pytest.mark.parametrize("name", list(BAD_ASSETS))
def test_cli_render_of_a_bad_asset_exits_2_with_one_line(name: str, assets: Path, web_server: str, tmp_path: Path):
    document, where, words = bad_document(name, web_server)
    source = tmp_path / "doc.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    out = tmp_path / "out.mp4"
    out.write_bytes(b"the previous render")
    result = run_cli("render", source, "-o", out, "--assets", assets)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"reelforge: error: {where}") and words in lines[0], result.stderr
    assert out.read_bytes() == b"the previous render"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.json", "out.mp4"]


# -- the command line -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def narrated_file(workdir: Path) -> Path:
    path = workdir / "narrated.json"
    path.write_text(json.dumps(NARRATED), encoding="utf-8")
    return path


def test_cli_render_exits_0_and_reuses_the_library_renders_pieces(narrated: Rendered, tmp_path: Path):
    source = tmp_path / "narrated-web.json"
    source.write_text(json.dumps(with_changes(NARRATED, output={"quality": "web"})), encoding="utf-8")
    out = tmp_path / "cli.mp4"
    result = run_cli("render", source, "-o", out, "--quality", "draft", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "540x960" in result.stdout and "0 rendered" in result.stdout, result.stdout
    assert probe(out).video.packets == probe(narrated.path).video.packets


def all_frame_numbers(value, key: str = "") -> list[tuple[str, object]]:
    """Every (key, value) in the timeline JSON whose key counts frames."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += all_frame_numbers(v, k)
    elif isinstance(value, list):
        for item in value:
            found += all_frame_numbers(item, key)
    elif key in ("start", "duration", "frames", "transition_frames"):
        found.append((key, value))
    return found


def test_cli_timeline_prints_integer_frames_matching_the_render(narrated: Rendered, narrated_file: Path):
    result = run_cli("timeline", narrated_file)
    assert result.returncode == 0, result.stderr
    timeline = json.loads(result.stdout)
    numbers = all_frame_numbers(timeline)
    assert len(numbers) > 10
    assert all(type(value) is int for _, value in numbers), [n for n in numbers if type(n[1]) is not int]
    assert (timeline["width"], timeline["height"], timeline["fps"]) == (540, 960, "30")
    assert timeline["frames"] == probe(narrated.path).video.packets
    assert timeline["seconds"] == pytest.approx(timeline["frames"] / FPS)
    scenes = [scene["range"] for scene in timeline["scenes"]]
    assert [s["start"] for s in scenes] == [0, scenes[0]["duration"], scenes[0]["duration"] + scenes[1]["duration"]]
    assert sum(s["duration"] for s in scenes) == timeline["frames"]


@pytest.mark.parametrize("suffix", [".srt", ".vtt", ".ass"])
def test_cli_captions_writes_a_sidecar_with_the_narration_words(suffix: str, narrated: Rendered, narrated_file: Path,
                                                                tmp_path: Path):
    out = tmp_path / f"captions{suffix}"
    result = run_cli("captions", narrated_file, "-o", out)
    assert result.returncode == 0, result.stderr
    cues = sidecar_cues(out)
    assert " ".join(c.text for c in cues).split() == (NARRATION_INTRO + " " + NARRATION_MIDDLE).split()
    in_video = subtitle_cues(narrated.path, tmp_path)
    assert [c.start for c in cues] == pytest.approx([c.start for c in in_video], abs=0.011)
    if suffix == ".ass":
        subs = pysubs2.load(str(out))
        assert (subs.info["PlayResX"], subs.info["PlayResY"]) == ("540", "960")


def test_cli_captions_ass_keeps_karaoke_highlights_and_the_words(speeches, tmp_path: Path):
    source = tmp_path / "karaoke.json"
    source.write_text(json.dumps(with_changes(NARRATED, captions={"style": "karaoke_neon"})), encoding="utf-8")
    out = tmp_path / "karaoke.ass"
    assert run_cli("captions", source, "-o", out).returncode == 0
    events = [e for e in pysubs2.load(str(out)) if e.type == "Dialogue"]
    assert any("\\c&H" in e.text for e in events), "no highlighted word"
    # A line may repeat, once per highlighted word: read each line once; karaoke lines hold two words, up to four
    # when two were spoken in under half a second (Captions.min_cue_seconds).
    lines = [e.plaintext for i, e in enumerate(events) if i == 0 or e.plaintext != events[i - 1].plaintext]
    assert " ".join(lines).split() == (NARRATION_INTRO + " " + NARRATION_MIDDLE).split()
    assert all(len(line.split()) <= 4 for line in lines)
    assert all(a.end <= b.start for a, b in zip(events, events[1:])), "captions overlap"


def test_cli_tts_writes_the_spoken_text(speeches, tmp_path: Path):
    out = tmp_path / "spoken.wav"
    result = run_cli("tts", NARRATION_MIDDLE, "-o", out)
    assert result.returncode == 0, result.stderr
    with wave.open(str(out), "rb") as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (1, 22050)
        assert wav.getnframes() == speeches["middle"].samples
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2") / 32768
    assert rms_db(pcm) > -30


# -- visuals --------------------------------------------------------------------------------------------


CLIP_SCENE_SECONDS = 2.9  # longer than the 2 s clip: it loops
CLIP_SCENE_FRAMES = 87
ZOOM_FRAMES = 60


@pytest.fixture(scope="module")
def media_render(workdir: Path, assets: Path) -> Rendered:
    def clip(fit: str) -> dict:
        return {"id": fit, "duration": CLIP_SCENE_SECONDS,
                "visual": {"type": "video", "source": {"uploadName": "clip.mp4"}, "fit": fit}}

    document = {
        "version": "1", "name": "Media", "output": {"quality": "draft"},
        "scenes": [clip("cover"), clip("contain"),
                   {"id": "zoom", "duration": ZOOM_FRAMES / FPS,
                    "visual": {"type": "image", "source": {"uploadName": "still.png"}, "motion": "zoom_in",
                               "motionAmount": 0.15}}],
    }
    return render_document(document, workdir / "media.mp4", assets=assets)


def test_clip_scenes_last_exactly_their_duration(media_render: Rendered):
    media = probe(media_render.path)
    assert media.video.packets == 2 * CLIP_SCENE_FRAMES + ZOOM_FRAMES
    assert media.audio.seconds == pytest.approx(media.video.packets * FRAME, abs=FRAME)


SAMPLED = [0, 10, 45, 59, 60, 61, 75, 86]  # frames of a clip scene; from 60 on the 2 s clip has looped


@pytest.mark.parametrize("fit", ["cover", "contain"])
def test_a_clip_is_fitted_and_loops_when_shorter_than_its_scene(fit: str, media_render: Rendered, assets: Path):
    source = video_frames(assets / "clip.mp4")
    assert len(source) == 60
    first = 0 if fit == "cover" else CLIP_SCENE_FRAMES
    out = video_frames(media_render.path, [first + k for k in SAMPLED])
    if fit == "cover":  # 320x240 scaled to 1280x960 to fill 540x960, the middle 540 columns kept
        expected = [resize(source[i], 1280, 960)[:, 370:910] for i in range(60)]
        region = (slice(None), slice(None))
    else:  # the whole clip at 540x405, centred, over a blurred fill
        expected = [resize(source[i], 540, 405) for i in range(60)]
        region = (slice(277, 682), slice(None))
    for k in SAMPLED:
        frame = out[first + k]
        index, error, median = best_source_frame(frame[region], expected)
        assert min((index - k) % 60, (k - index) % 60) <= 1, f"frame {k} shows clip frame {index}, not {k % 60}"
        assert error < 0.4 * median, f"frame {k}: the picture does not match a {fit} fit ({error:.1f} vs {median:.1f})"
        if fit == "contain":
            fill = frame[:250].astype(np.float32)
            assert fill.mean() > 20, "the fill above the contained clip is black"
            sharpness = lambda part: float(np.abs(np.diff(part.astype(np.float32), axis=1)).mean())  # noqa: E731
            assert sharpness(fill) < sharpness(frame[region]) / 3, "the fill above the clip is not blurred"


LOW_HZ, HIGH_HZ = 300, 1200  # steps.mp4 sounds LOW_HZ in its first second, HIGH_HZ in its second


@pytest.fixture(scope="module")
def trimmed_loop(workdir: Path, assets: Path) -> Rendered:
    """A 3 s scene looping the 1 s from 0.5 to 1.5 s of steps.mp4, with the clip's own sound."""
    document = {
        "version": "1", "name": "Trimmed loop", "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
        "scenes": [{"id": "loop", "duration": 3, "visual": {"type": "video", "source": {"uploadName": "steps.mp4"},
                                                          "trimStart": 0.5, "trimEnd": 1.5, "volume": 1}}],
    }
    return render_document(document, workdir / "trimmed-loop.mp4", assets=assets)


def test_a_trimmed_clip_loops_its_trimmed_part(trimmed_loop: Rendered, assets: Path):
    source = video_frames(assets / "steps.mp4")
    expected = [resize(source[i], 480, 360)[:, 60:420] for i in range(60)]  # cover: 4:3 into 1:1
    sampled = [0, 10, 29, 30, 45, 60, 89]
    out = video_frames(trimmed_loop.path, sampled)
    assert probe(trimmed_loop.path).video.packets == 90
    for k in sampled:
        index, error, median = best_source_frame(out[k], expected)
        wanted = 15 + k % 30  # 0.5 s in, looping every second
        assert abs(index - wanted) <= 1 and error < 0.4 * median, f"frame {k} shows clip frame {index}, not {wanted}"


def test_a_short_clip_keeps_looping_to_the_end_of_a_long_scene(workdir: Path, assets: Path):
    # 0.5 s of clip under a 36 s scene: 72 repeats. Rendered by one process (workers=1) the scene's segments
    # would share a run and its repeats; a run opens only a few files, so they go in several.
    document = {
        "version": "1", "name": "Long loop", "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
        "scenes": [{"id": "loop", "duration": 36, "visual": {"type": "video", "source": {"uploadName": "steps.mp4"},
                                                           "trimStart": 0.5, "trimEnd": 1.0}}],
    }
    rendered = render_document(document, workdir / "long-loop.mp4", assets=assets, workers=1)
    source = video_frames(assets / "steps.mp4")
    expected = [resize(source[i], 480, 360)[:, 60:420] for i in range(60)]
    sampled = [7, 500, 1000, 1041, 1052, 1079]
    out = video_frames(rendered.path, sampled)
    for k in sampled:
        index, error, median = best_source_frame(out[k], expected)
        wanted = 15 + k % 15  # 0.5 s in, looping every half second
        assert abs(index - wanted) <= 1 and error < 0.4 * median, f"frame {k} shows clip frame {index}, not {wanted}"


def test_a_25_fps_clip_shows_every_source_frame_in_order_however_its_segments_were_grouped(
        workdir: Path, tmp_path_factory: pytest.TempPathFactory):
    # 10.7 s of a 25 fps clip from 0.33 s: three segments whose cuts fall between source frames. Rendered as one
    # run and with every segment alone (both from empty caches), each output frame shows the same source frame,
    # and no source frame is skipped at a cut (a segment's pieces are cached under one key either way).
    clip = make_test_clip(tmp_path_factory.mktemp("clip25") / "clip25.mp4", seconds=12, fps=25)
    document = {
        "version": "1", "name": "25 fps", "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
        "scenes": [{"id": "clip", "duration": 10.7, "visual": {"type": "video", "source": {"path": str(clip)},
                                                             "trimStart": 0.33}}],
    }
    source = video_frames(clip)
    expected = [resize(source[i], 480, 360)[:, 60:420] for i in sorted(source)]
    total = 321
    sampled = sorted({n for cut in (0, total // 3, 2 * total // 3, total - 3) for n in range(max(cut - 3, 0), cut + 3)})
    shown = {}
    for workers in (1, 99):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("REELFORGE_CACHE", str(tmp_path_factory.mktemp(f"clip25-{workers}")))
            rendered = render_document(document, workdir / f"clip25-{workers}.mp4", workers=workers)
        assert probe(rendered.path).video.packets == total
        out = video_frames(rendered.path, sampled)
        shown[workers] = [best_source_frame(out[n], expected)[0] for n in sampled]
    assert shown[1] == shown[99]
    for n, index in zip(sampled, shown[1]):
        assert abs(index - (0.33 + n / 30) * 25) <= 1, f"frame {n} shows source frame {index}"
    for (a, first), (b, second) in zip(zip(sampled, shown[1]), zip(sampled[1:], shown[1][1:])):
        if b == a + 1:
            assert second - first in (0, 1), f"frames {a} and {b} show source frames {first} and {second}"


def frames_both_ways(document: dict, name: str, workdir: Path, assets: Path, sampled: list[int],
                     tmp_path_factory: pytest.TempPathFactory) -> dict[int, list[int]]:
    """The steps.mp4 frame shown at each sampled frame, rendered as one run (workers=1) and with every segment
    alone (workers=99), each from an empty cache."""
    source = video_frames(assets / "steps.mp4")
    expected = [resize(source[i], 480, 360)[:, 60:420] for i in sorted(source)]  # cover: 4:3 into 1:1
    shown = {}
    for workers in (1, 99):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("REELFORGE_CACHE", str(tmp_path_factory.mktemp(f"{name}-{workers}")))
            rendered = render_document(document, workdir / f"{name}-{workers}.mp4", assets=assets, workers=workers)
        out = video_frames(rendered.path, sampled)
        shown[workers] = [best_source_frame(out[n], expected)[0] for n in sampled]
    return shown


def test_a_clip_that_does_not_loop_holds_its_last_frame_to_the_end_of_its_scene(
        workdir: Path, assets: Path, tmp_path_factory: pytest.TempPathFactory):
    # steps.mp4 from 0 to 1 s (frames 0-29) under a 9 s scene: its later segments start after the clip ended.
    document = {
        "version": "1", "name": "Held", "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
        "scenes": [{"id": "held", "duration": 9, "visual": {"type": "video", "source": {"uploadName": "steps.mp4"},
                                                          "trimEnd": 1.0, "loop": False}}],
    }
    sampled = [0, 15, 29, 30, 31, 100, 134, 135, 136, 200, 269]
    shown = frames_both_ways(document, "held", workdir, assets, sampled, tmp_path_factory)
    assert shown[1] == shown[99] == [0, 15, 29] + [29] * 8, shown


def test_a_loop_of_a_fraction_of_a_frame_keeps_its_period(
        workdir: Path, assets: Path, tmp_path_factory: pytest.TempPathFactory):
    # 0.37 s of clip (11.1 frames) looped for 9.3 s: frame k shows the clip at 0.5 + (k / 30 mod 0.37) s, with
    # no drift over 25 repeats (the clip's own sound loops at exactly 0.37 s).
    document = {
        "version": "1", "name": "Fraction loop", "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
        "scenes": [{"id": "loop", "duration": 9.3, "visual": {"type": "video", "source": {"uploadName": "steps.mp4"},
                                                            "trimStart": 0.5, "trimEnd": 0.87}}],
    }
    sampled = list(range(0, 279, 9)) + [120, 121, 240, 241, 278]
    shown = frames_both_ways(document, "fraction-loop", workdir, assets, sampled, tmp_path_factory)
    assert shown[1] == shown[99]
    for n, index in zip(sampled, shown[1]):
        wanted = (Fraction(1, 2) + Fraction(n, 30) % Fraction(37, 100)) * 30
        assert abs(index - wanted) <= 1, f"frame {n} shows clip frame {index}, not {float(wanted):.1f}"


def test_a_looping_clip_that_wraps_inside_a_transition_renders(workdir: Path, assets: Path):
    # The loop's pieces are joined inside the transition segment; xfade needs both sides on one time base.
    document = {
        "version": "1", "name": "Loop in a transition", "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
        "scenes": [
            {"id": "loop", "duration": 2.5, "transition": {"type": "slide_left", "duration": 0.6},
             "visual": {"type": "video", "source": {"uploadName": "steps.mp4"}, "trimStart": 0.5, "trimEnd": 1.5}},
            {"id": "after", "duration": 1, "visual": {"type": "color", "color": "#336699"}},
        ],
    }
    rendered = render_document(document, workdir / "loop-in-transition.mp4", assets=assets)
    assert probe(rendered.path).video.packets == round((2.5 + 1 - 0.6) * 30)


def test_a_dict_document_resolves_relative_paths_from_base_dir(workdir: Path, assets: Path, monkeypatch):
    # Front ends (the editor) render unsaved documents as dicts: `path` sources resolve from base_dir, not the cwd.
    document = {
        "version": "1", "name": "Relative", "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
        "scenes": [{"id": "clip", "duration": 1, "visual": {"type": "video", "source": {"path": "steps.mp4"}}}],
    }
    monkeypatch.chdir(workdir)
    with pytest.raises(MediaError):
        render_document(document, workdir / "relative-cwd.mp4")
    rendered = render_document(document, workdir / "relative.mp4", base_dir=assets)
    assert probe(rendered.path).video.packets == 30


def pitch_every_quarter_second(samples: np.ndarray, seconds: float) -> str:
    """'L' or 'H' for each quarter second: which of the clip's two tones is louder there."""
    marks = ""
    for start in np.arange(0, seconds - 0.01, 0.25):
        low = band_db(samples, start + 0.03, start + 0.22, LOW_HZ - 50, LOW_HZ + 50)
        high = band_db(samples, start + 0.03, start + 0.22, HIGH_HZ - 100, HIGH_HZ + 100)
        marks += "L" if low > high else "H"
    return marks


def test_a_trimmed_clip_loops_its_sound_with_its_picture(trimmed_loop: Rendered):
    # Clip time 0.5-1.0 s is low, 1.0-1.5 s high; looped each second: low, low, high, high, low, low, ...
    heard = pitch_every_quarter_second(audio_samples(trimmed_loop.path), 3.0)
    assert heard == "LLHH" * 3


def zoom_between(reference: np.ndarray, frame: np.ndarray) -> float:
    """The centred zoom factor that best turns `reference` into `frame`."""
    height, width = reference.shape[:2]
    best = (float("inf"), 1.0)
    for zoom in np.arange(1.0, 1.25, 0.005):
        w, h = round(width / zoom), round(height / zoom)
        x, y = (width - w) // 2, (height - h) // 2
        zoomed = resize(np.ascontiguousarray(reference[y:y + h, x:x + w]), width, height)
        best = min(best, (mean_abs_diff(zoomed, frame), float(zoom)))
    return best[1]


def test_an_image_zooms_smoothly_by_its_motion_amount(media_render: Rendered):
    first = 2 * CLIP_SCENE_FRAMES
    frames = video_frames(media_render.path, list(range(first, first + ZOOM_FRAMES)), gray=True)
    steps = [mean_abs_diff(frames[i], frames[i + 1]) for i in range(first, first + ZOOM_FRAMES - 1)]
    median = float(np.median(steps))
    assert median > 1.0, "the picture does not move"
    assert max(steps) < 2.0 * median, f"a jump: {max(steps):.1f} against a typical step of {median:.1f}"
    assert min(steps) > 0.25 * median, f"a stall: {min(steps):.1f} against a typical step of {median:.1f}"
    colour = video_frames(media_render.path, [first, first + ZOOM_FRAMES // 2 - 1, first + ZOOM_FRAMES - 1])
    start = colour[first]
    assert zoom_between(start, colour[first + ZOOM_FRAMES - 1]) == pytest.approx(1.15, abs=0.011)
    assert zoom_between(start, colour[first + ZOOM_FRAMES // 2 - 1]) == pytest.approx(1 + 0.15 * 29 / 59, abs=0.011)


# -- transitions ----------------------------------------------------------------------------------------


KINDS = [kind for kind in get_args(TransitionKind) if kind != "cut"]
COLORS = ["#ff0000", "#ffff00", "#00ffff", "#ff00ff", "#00ff00", "#0000ff", "#ffffff", "#808000", "#008080",
          "#800080", "#ff8000"]
SCENE_FRAMES, TRANSITION_FRAMES = 30, 9  # 1 s scenes, 0.3 s transitions


def rgb(color: str) -> np.ndarray:
    return np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float32)


@pytest.fixture(scope="module")
def transitions_render(workdir: Path) -> Rendered:
    """Every transition kind in one 1:1 720p video: scene i, a solid color, hands over to scene i + 1."""
    assert len(COLORS) == len(KINDS) + 1
    scenes = []
    for index, color in enumerate(COLORS):
        scene = {"id": f"s{index}", "duration": SCENE_FRAMES / FPS, "visual": {"type": "color", "color": color}}
        if index < len(KINDS):
            scene["transition"] = {"type": KINDS[index], "duration": TRANSITION_FRAMES / FPS}
        scenes.append(scene)
    document = {"version": "1", "name": "Transitions", "output": {"quality": "draft", "aspectRatio": "1:1",
                                                                   "resolution": "720p"}, "scenes": scenes}
    return render_document(document, workdir / "transitions.mp4")


def test_transitions_overlap_scenes_keeping_the_total_duration(transitions_render: Rendered):
    media = probe(transitions_render.path)
    expected = len(COLORS) * SCENE_FRAMES - len(KINDS) * TRANSITION_FRAMES
    assert media.video.packets == expected == 240
    assert transitions_render.result.duration == pytest.approx(expected * FRAME)
    assert media.audio.seconds == pytest.approx(expected * FRAME, abs=FRAME)
    assert (media.video.width, media.video.height) == (360, 360)


# Where the incoming scene is halfway through each directional transition.
INCOMING_SIDE = {"left": "right", "right": "left", "up": "bottom", "down": "top"}


@pytest.mark.parametrize("index", range(len(KINDS)), ids=KINDS)
def test_each_transition_moves_from_one_scene_to_the_next(index: int, transitions_render: Rendered):
    kind = KINDS[index]
    start = (index + 1) * (SCENE_FRAMES - TRANSITION_FRAMES)  # the transition's first frame
    numbers = list(range(start - 1, start + TRANSITION_FRAMES + 1))
    frames = video_frames(transitions_render.path, numbers)
    a, b = rgb(COLORS[index]), rgb(COLORS[index + 1])

    def progress(frame: np.ndarray) -> np.ndarray:
        """Per pixel: 0 at the outgoing color, 1 at the incoming one."""
        return (frame.astype(np.float32) - a) @ (b - a) / float((b - a) @ (b - a))

    assert np.abs(frames[start - 1] - a).max() < 12, "the outgoing scene is not shown before the transition"
    assert np.abs(frames[start + TRANSITION_FRAMES] - b).max() < 12, "the incoming scene is not shown after it"
    middle = frames[start + TRANSITION_FRAMES // 2]
    if kind == "fade_black":
        darkest = min(float(frames[n].max(axis=-1).mean()) for n in numbers[1:-1])
        assert darkest < 0.3 * 255, f"fade_black never gets dark ({darkest:.0f})"
        return
    means = [float(progress(frames[n]).mean()) for n in numbers[1:-1]]
    assert means[0] < 0.2 and means[-1] > 0.8 and means[len(means) // 2] == pytest.approx(0.5, abs=0.15), means
    assert all(later >= earlier - 0.02 for earlier, later in zip(means, means[1:])), means
    incoming = progress(middle) > 0.5
    if kind == "crossfade":
        assert not incoming.all() and (np.abs(progress(middle) - 0.5) < 0.2).mean() > 0.95, "not a blend"
        return
    half = {"left": incoming[:, :180], "right": incoming[:, 180:], "top": incoming[:180], "bottom": incoming[180:]}
    side = INCOMING_SIDE[kind.split("_")[1]]
    opposite = {"left": "right", "right": "left", "top": "bottom", "bottom": "top"}[side]
    assert half[side].mean() > 0.75 and half[opposite].mean() < 0.1, f"{kind}: the next scene does not enter from the {side}"


def test_a_narrated_scene_with_a_transition_keeps_its_narration_and_total(workdir: Path, speeches):
    document = {
        "version": "1", "name": "Narrated transition", "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
        "scenes": [
            {"id": "spoken", "narration": {"text": NARRATION_MIDDLE}, "visual": {"type": "color", "color": "#204060"},
             "transition": {"type": "crossfade", "duration": 0.5}},
            {"id": "after", "duration": 1, "visual": {"type": "color", "color": "#a05020"}},
        ],
    }
    rendered = render_document(document, workdir / "narrated-transition.mp4")
    # 'auto' makes room for the transition after the padding, so the crossfade never cuts the voice.
    auto_seconds = wav_duration(speeches["middle"].audio_path) + Fraction(2, 5) + Fraction(1, 2)
    spoken_frames = -(-auto_seconds * FPS // 1)
    overlap = 15
    media = probe(rendered.path)
    assert media.video.packets == spoken_frames + SCENE_FRAMES - overlap
    samples = audio_samples(rendered.path)
    crossfade_starts = (spoken_frames - overlap) * FRAME
    assert rms_db(samples[int((crossfade_starts - 0.3) * 48000):int(crossfade_starts * 48000)]) < -50, \
        "the narration still sounds when the crossfade starts"


# -- frame sizes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("aspect", "resolution"), [("4:5", "1080p"), ("16:9", "720p")])
def test_a_draft_render_has_the_compiled_frame_size(aspect: str, resolution: str, workdir: Path):
    out = workdir / f"size-{aspect.replace(':', 'x')}-{resolution}.mp4"
    result = render(color_document(aspect, resolution, "draft"), out)
    media = probe(out)
    assert (media.video.width, media.video.height) == (result.width, result.height) == draft_size(FULL_SIZE[(aspect, resolution)])
    assert media.video.packets == FPS


# -- timed blocks ---------------------------------------------------------------------------------------


BLOCKS = {
    "version": "1", "name": "Blocks", "output": {"quality": "draft", "aspectRatio": "16:9", "resolution": "720p"},
    "blocks": [
        {"type": "text", "start": 0, "duration": 1, "text": "Blocks"},
        {"type": "image", "start": 0.5, "duration": 1.7, "source": {"uploadName": "still.png"}},
        {"type": "audio", "start": 0, "duration": 2.2, "source": {"uploadName": "tone.wav"}},
    ],
}


def test_a_blocks_document_lasts_its_last_block_to_the_frame(workdir: Path, assets: Path):
    rendered = render_document(BLOCKS, workdir / "blocks.mp4", assets=assets)
    media = probe(rendered.path)
    assert media.video.packets == 66  # 2.2 s
    assert media.seconds == pytest.approx(2.2, abs=FRAME)
    assert media.audio.seconds == pytest.approx(2.2, abs=FRAME)
    assert rms_db(audio_samples(rendered.path)[4800:96000]) > -30, "the audio block is silent"
    # The image block covers the frame from 0.5 s (frame 15): compare the top strip, clear of the text block.
    still = np.asarray(Image.open(assets / "still.png").convert("RGB"))
    expected = resize(still, 640, 640)[140:500][:60]
    strips = video_frames(rendered.path, [0, 14, 15, 40, 65])
    assert strips[0][:60].mean() < 10 and strips[14][:60].mean() < 10, "the image shows before its start"
    for index in (15, 40, 65):
        assert mean_abs_diff(strips[index][:60], expected) < 12, f"frame {index} does not show the image block"


# -- runs: consecutive segments rendered by one ffmpeg, cut into cached pieces ---------------------------

BLOCK_START = 75  # the clip block's first frame: where the first transition starts, inside a run
BLOCK_SECONDS = 7
# Color scenes joined by transitions (xfade pieces inside a run) under a looping clip block on top of them.
BLOCKS_RUN = {
    "version": "1", "name": "Clip block across segments",
    "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
    "scenes": [{"id": f"s{k}", "duration": 3, "visual": {"type": "color", "color": color},
                **({"transition": {"type": "slide_left", "duration": 0.5}} if k < 2 else {})}
               for k, color in enumerate(["#204060", "#602040", "#406020"])],
    "blocks": [{"type": "video", "start": BLOCK_START / FPS, "duration": BLOCK_SECONDS,
                "source": {"uploadName": "clip.mp4"}, "loop": True, "volume": 0}],
}


@pytest.fixture(scope="module")
def block_runs(workdir: Path, assets: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Rendered, Rendered]:
    """BLOCKS_RUN rendered twice from empty caches: as one run per worker, and with every segment alone."""
    renders = []
    for workers in (1, 99):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("REELFORGE_CACHE", str(tmp_path_factory.mktemp(f"runs-{workers}")))
            renders.append(render_document(BLOCKS_RUN, workdir / f"blocks-{workers}.mp4", assets=assets, workers=workers))
    return renders[0], renders[1]


def test_an_overlay_keeps_its_frame_timing_through_a_run(block_runs, assets: Path):
    together, _ = block_runs
    frames = probe(together.path).video.packets
    assert frames == BLOCK_START + BLOCK_SECONDS * FPS and together.result.cache_misses >= 5  # pieces and the audio
    clip = video_frames(assets / "clip.mp4")
    source = [resize(clip[i], 480, 360)[:, 60:420] for i in range(60)]  # cover: 4:3 into 1:1
    sampled = [BLOCK_START, BLOCK_START + 1, 80, 89, 90, 120, 150, 156, 200, BLOCK_START + BLOCK_SECONDS * FPS - 1]
    out = video_frames(together.path, sampled)
    for n in sampled:
        index, error, median = best_source_frame(out[n], source)
        assert index == (n - BLOCK_START) % 60 and error < 0.4 * median, f"frame {n} shows clip frame {index}"


def test_a_segment_rendered_inside_a_run_matches_it_rendered_alone(block_runs):
    together, alone = block_runs
    assert alone.result.cache_misses == together.result.cache_misses  # every segment and the audio, both times
    frames = probe(together.path).video.packets
    assert probe(alone.path).video.packets == frames
    numbers = list(range(0, frames, 7)) + [frames - 1]
    a, b = video_frames(together.path, numbers), video_frames(alone.path, numbers)
    worst = min(10 * np.log10(255.0**2 / max(float(np.mean((a[n].astype(float) - b[n]) ** 2)), 1e-9)) for n in numbers)
    assert worst > 35, f"a frame differs between the two renders ({worst:.1f} dB)"


# -- cache keys that mean the same on every machine ---------------------------------------------------------


def portable_project(folder: Path) -> Path:
    """A project whose files sit beside it and are named by relative paths: a clip, a still, a narration, music."""
    media = folder / "media"
    media.mkdir(parents=True)
    make_test_clip(media / "clip.mp4", seconds=2.0)
    # Uncompressed, so another picture of its size has its size; and over 4 MB, where a key of (size, time) alone
    # could not tell the two apart.
    make_test_image(media / "still.bmp", 1500, 1100)
    document = {
        "version": "1", "name": "Portable", "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
        "music": {"mood": "calm", "volume": 0.2},
        "scenes": [
            {"id": "clip", "duration": 2, "visual": {"type": "video", "source": {"path": "media/clip.mp4"}},
             "transition": {"type": "crossfade", "duration": 0.4}},
            {"id": "still", "narration": {"text": NARRATION_MIDDLE},
             "visual": {"type": "image", "source": {"path": "media/still.bmp"}, "motion": "zoom_in"}},
        ],
    }
    path = folder / "project.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_moved_project_with_a_copied_cache_renders_nothing_again(tmp_path: Path):
    first = portable_project(tmp_path / "here")
    cache = tmp_path / "cache"
    made = render(first, tmp_path / "here.mp4", workspace=Workspace(cache))
    assert made.cache_misses > 2
    # Another machine: the project folder elsewhere, the cache copied (the memo of file hashes, which holds this
    # machine's paths and inodes, is not worth copying: hashes are made again from the content).
    moved = tmp_path / "elsewhere" / "deeper"
    shutil.copytree(first.parent, moved)
    shutil.rmtree(first.parent)
    copied = tmp_path / "copied-cache"
    shutil.copytree(cache, copied, symlinks=True, ignore=shutil.ignore_patterns("hashes", "work"))
    again = render(moved / "project.json", tmp_path / "moved.mp4", workspace=Workspace(copied))
    assert again.cache_misses == 0 and again.cache_hits == made.cache_hits + made.cache_misses
    assert (tmp_path / "moved.mp4").read_bytes() == (tmp_path / "here.mp4").read_bytes()


def test_a_file_replaced_by_other_bytes_of_the_same_size_and_time_renders_again(tmp_path: Path):
    project = portable_project(tmp_path / "project")
    workspace = Workspace(tmp_path / "cache")
    made = render(project, tmp_path / "first.mp4", workspace=workspace)
    still = project.parent / "media" / "still.bmp"
    stat = still.stat()
    pixels = np.asarray(Image.open(still).convert("RGB"))
    Image.fromarray(255 - pixels).save(still, format="BMP")  # another picture, in place
    os.utime(still, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert (still.stat().st_size, still.stat().st_mtime_ns) == (stat.st_size, stat.st_mtime_ns)
    again = render(project, tmp_path / "second.mp4", workspace=Workspace(tmp_path / "cache"))  # a new process
    assert 0 < again.cache_misses < made.cache_misses  # the still's pieces (and not the clip's) again
    frames = video_frames(tmp_path / "second.mp4", [90])
    before = video_frames(tmp_path / "first.mp4", [90])
    assert mean_abs_diff(frames[90], before[90]) > 20


def test_the_editors_total_is_the_rendered_length_with_a_block_past_a_fixed_duration(tmp_path: Path, speeches):
    from editor_tui.state import EditorState

    document = with_changes(NARRATED, duration=4.2, blocks=[{"type": "text", "start": 3, "duration": 5, "text": "late"}])
    path = tmp_path / "project.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    state = EditorState.open(path)
    for scene_id in ("intro", "middle"):
        request = state.speech_request(scene_id)
        state.record_speech(scene_id, request.text, request.voice, speeches[scene_id].duration)
    seconds, exact = state.total_seconds()
    result = render(path, tmp_path / "out.mp4")
    assert exact and seconds == result.duration == pytest.approx(4.2, abs=FRAME / 2)
    free = with_changes(document)
    del free["duration"]
    path.write_text(json.dumps(free), encoding="utf-8")
    state = EditorState.open(path)
    for scene_id in ("intro", "middle"):
        request = state.speech_request(scene_id)
        state.record_speech(scene_id, request.text, request.voice, speeches[scene_id].duration)
    seconds, exact = state.total_seconds()
    assert exact and seconds == render(path, tmp_path / "free.mp4").duration
    assert probe(tmp_path / "free.mp4").video.packets == round(seconds * FPS)
