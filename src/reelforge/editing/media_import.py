"""`reelforge new --from-media IMAGE... AUDIO`: a project from pictures and a voiceover, ready to render.

The recording's words are recognized (offline, `reelforge.speech.asr`), so the project carries them as the
narration's transcript: the render aligns them to the audio for exact captions, and the user can correct them
(which re-aligns). One image gives one scene: the whole recording as its narration, the image with a slow camera
move. Several images give one scene per image (never more than there are sentences), the recording cut at the
sentence boundaries nearest to an even split, at the quietest moment between the sentences and on a frame
boundary: the pieces are written as WAV files beside the project, and every scene but the last lasts exactly its
piece, so the video lasts as long as the recording (to the next whole frame).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reelforge.errors import ReelforgeError
from reelforge.model import Document
from reelforge.speech import Speech
from reelforge.workspace import Workspace

FPS = 30
MOTIONS = ("zoom_in", "pan_right", "zoom_out", "pan_left")
MOTION_AMOUNT = 0.08  # a slow move: 8% over the scene
MAX_SCENE_CHARS = 4000  # transcript characters per scene at most (a narration's limit is 5000)


class MediaImportError(ReelforgeError):
    """The images or the recording cannot make a project; the message names the file."""

    exit_code = 2


@dataclass(frozen=True)
class MediaProject:
    document: Document
    pieces: tuple[Path, ...]  # audio files written beside the project (none for a single image)
    words: int


def project_from_media(images: Sequence[Path], audio: Path, project_path: Path, workspace: Workspace, *,
                       aspect_ratio: str = "9:16", name: str | None = None, model: Path | None = None) -> MediaProject:
    """Build the project (and write the audio pieces it needs next to `project_path`); the caller writes the JSON."""
    from reelforge.document.loader import load_document, validate_data
    from reelforge.model.document import CURRENT_VERSION
    from reelforge.resolve.media import MediaError, probe
    from reelforge.speech.asr import recorded_speech, transcript_of

    if not images:
        raise MediaImportError("--from-media needs at least one image and then the recording")
    for image in images:
        try:
            info = probe(Path(image), str(image), workspace)
        except MediaError as error:
            raise MediaImportError(str(error)) from None
        if not info.has_video or not info.is_image:
            raise MediaImportError(f"{image}: not an image (give the images first, then the recording)")
    speech = recorded_speech(Path(audio), None, workspace, model=model)
    folder = project_path.absolute().parent
    sentences = _sentences(speech)
    # a narration's transcript holds at most 5000 characters: a long recording takes several scenes per image
    wanted = max(len(images), -(-len(transcript_of(speech)) // MAX_SCENE_CHARS))
    count = max(min(wanted, len(sentences)), 1)
    pieces: list[Path] = []
    if count == 1:
        narrations = [(Path(audio), transcript_of(speech) or None, None)]
    else:
        narrations = _cut(speech, sentences, count, folder / f"{project_path.stem}-voice")
        pieces = [path for path, _, _ in narrations]
    scenes = []
    for index, (piece, text, frames) in enumerate(narrations):
        narration: dict = {"audio": {"path": _relative(piece, folder)}}
        if text:
            narration["transcript"] = text
        scene: dict = {
            "id": f"part-{index + 1}",
            "narration": narration,
            "visual": {"type": "image", "source": {"path": _relative(Path(images[index * len(images) // count]), folder)},
                       "motion": MOTIONS[index % len(MOTIONS)], "motionAmount": MOTION_AMOUNT},
            "padding": 0,
        }
        if frames is not None:
            scene["duration"] = frames / FPS
        scenes.append(scene)
    data = {"version": CURRENT_VERSION, "name": name or Path(audio).stem or "Voiceover",
            "output": {"aspectRatio": aspect_ratio, "fps": FPS}, "scenes": scenes}
    document = validate_data(data)
    load_document(document)  # the same checks as any project
    return MediaProject(document, tuple(pieces), len(speech.words))


def _sentences(speech: Speech) -> list[tuple[int, int]]:
    from reelforge.speech.asr.text import split_sentences

    return split_sentences([word.text for word in speech.words])


def _cut(speech: Speech, sentences: list[tuple[int, int]], count: int, folder: Path) -> list[tuple[Path, str, int | None]]:
    """Cut the recording into `count` runs of whole sentences; write each as WAV. (path, text, frames or None)."""
    from reelforge.fileio import write_atomic
    from reelforge.speech.asr.audio import read_native_mono
    from reelforge.speech.tts.store import wav_bytes

    samples, rate = read_native_mono(speech.audio_path)
    total = len(samples) / rate
    words = speech.words
    boundaries = []  # (sentence index after which to cut, earliest, latest cut time)
    for number, (_first, end) in enumerate(sentences[:-1]):
        boundaries.append((number, float(words[end - 1].end), float(words[end].start)))
    chosen: list[int] = []
    for k in range(1, count):
        target = total * k / count
        free = [b for b in range(len(boundaries)) if b not in chosen and (not chosen or b > chosen[-1])
                and len(boundaries) - b >= count - k]
        chosen.append(min(free, key=lambda b: abs((boundaries[b][1] + boundaries[b][2]) / 2 - target)))
    cuts_frames = [0]
    for b in chosen:
        _, earliest, latest = boundaries[b]
        at = _quietest(samples, rate, earliest, latest)
        frame = max(round(at * FPS), cuts_frames[-1] + 1)
        cuts_frames.append(frame)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    runs = [0] + [boundaries[b][0] + 1 for b in chosen] + [len(sentences)]
    for index in range(count):
        first_sample = round(cuts_frames[index] * rate / FPS)
        last = index == count - 1
        end_sample = len(samples) if last else round(cuts_frames[index + 1] * rate / FPS)
        path = folder / f"part-{index + 1:02d}.wav"
        write_atomic(path, wav_bytes(samples[first_sample:end_sample].tobytes(), rate))
        first_word, end_word = sentences[runs[index]][0], sentences[runs[index + 1] - 1][1]
        text = " ".join(word.text for word in words[first_word:end_word])
        out.append((path, text, None if last else cuts_frames[index + 1] - cuts_frames[index]))
    return out


def _quietest(samples: np.ndarray, rate: int, earliest: float, latest: float) -> float:
    """The quietest 10 ms between two sentences (their middle when the gap is too short to tell)."""
    hop = max(rate // 100, 1)
    a, b = int(earliest * rate), int(latest * rate)
    if b - a < 3 * hop:
        return (earliest + latest) / 2
    piece = samples[a:b].astype(np.float64)
    count = len(piece) // hop
    energy = (piece[: count * hop].reshape(count, hop) ** 2).mean(axis=1)
    return (a + (int(np.argmin(energy)) + 0.5) * hop) / rate


def _relative(path: Path, folder: Path) -> str:
    return Path(os.path.relpath(Path(path).absolute(), folder)).as_posix()


def cmd_new_from_media(args, workspace: Workspace) -> int:
    """The body of `reelforge new --from-media IMAGE... AUDIO -o PROJECT.json`."""
    from reelforge.editing.project import document_json
    from reelforge.fileio import write_atomic

    out = Path(args.output)
    if out.exists() and not args.force:
        raise ReelforgeError(f"{out} exists; pass --force to overwrite it")
    if len(args.from_media) < 2:
        raise MediaImportError("--from-media takes one or more images and then the recording: IMAGE... AUDIO")
    *images, audio = [Path(p) for p in args.from_media]
    project = project_from_media(images, audio, out, workspace, aspect_ratio=args.aspect, name=args.name)
    write_atomic(out, document_json(project.document), keep_backup=out.exists())
    pieces = f", the recording cut into {len(project.pieces)} pieces beside it" if project.pieces else ""
    print(f"wrote {out}: {len(project.document.scenes)} scenes, {project.words} words recognized{pieces}")
    return 0
