"""`reelforge transcribe`: captions for audio and video files in batch, offline.

Each item is a file (a folder stands for the audio and video files in it, recursively). A video whose
subtitle track is text (mov_text, SubRip, ASS, WebVTT) gives that track's cues (status `embedded`) unless
recognition is forced; anything else is recognized in bounded memory (`recognize.recognize_file`). Outputs go to
OUTDIR/<name>.<format> for each format: srt and vtt (cues of at most N words that never cross a sentence end),
txt (the text, a line per sentence) and json (every word with start, end and confidence, and the cues). A file
that holds no speech is a `no speech` item, not a failure; a file that is not readable audio is `failed`, with
the reason on its status line. Exit status: 0 when every item succeeded, 1 when some failed, 2 for bad arguments.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from reelforge.errors import ReelforgeError
from reelforge.fileio import write_atomic
from reelforge.speech.asr.errors import AsrError, ModelError
from reelforge.speech.asr.words import TimedWord
from reelforge.workspace import Workspace

FORMATS = ("srt", "vtt", "txt", "json")
DEFAULT_FORMATS = ("srt",)
DEFAULT_WORDS_PER_LINE = 7
MEDIA_SUFFIXES = frozenset({
    ".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".oga", ".opus", ".wma", ".aif", ".aiff",
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".3gp",
})
TEXT_SUBTITLE_CODECS = frozenset({"mov_text", "subrip", "srt", "ass", "ssa", "webvtt", "text"})


class TranscribeArgumentError(ReelforgeError):
    """The command line names no usable input, format or output folder."""

    exit_code = 2


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


@dataclass
class ItemResult:
    """What became of one input file."""

    path: Path
    status: str  # "completed", "embedded", "no speech" or "failed"
    reason: str = ""
    words: list[TimedWord] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    duration: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def line(self) -> str:
        """The item's status line."""
        if self.status == "failed":
            return f"failed     {self.path}: {self.reason}"
        if self.status == "no speech":
            return f"no speech  {self.path} ({self.duration:.1f} s)"
        if self.status == "embedded":
            return f"embedded   {self.path}: {len(self.cues)} cues from its subtitle track"
        return f"completed  {self.path}: {len(self.words)} words, {self.duration:.1f} s"


def parse_formats(text: str) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    unknown = [name for name in wanted if name not in FORMATS]
    if unknown or not wanted:
        raise TranscribeArgumentError(f"unknown format {', '.join(unknown) or repr(text)}: use any of {', '.join(FORMATS)}")
    return wanted


def collect_inputs(paths: Sequence[Path]) -> list[Path]:
    """The files to transcribe: each file as given, and the audio and video files inside each folder (sorted)."""
    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES)
        elif path.exists():
            found.append(path)
        else:
            raise TranscribeArgumentError(f"{path}: no such file or folder")
    if not found:
        raise TranscribeArgumentError("no audio or video files to transcribe in " + ", ".join(map(str, paths)))
    return list(dict.fromkeys(found))


def run_transcribe(inputs: Sequence[Path], outdir: Path, workspace: Workspace, *, formats: Sequence[str] = DEFAULT_FORMATS,
                   words_per_line: int = DEFAULT_WORDS_PER_LINE, model: Path | None = None, force_asr: bool = False,
                   language: str | None = None, report: Callable[[str], None] = print,
                   on_progress: Callable[[float, str], None] | None = None) -> list[ItemResult]:
    """Transcribe every input into `outdir`; `report` gets one status line per item as it finishes and
    `on_progress` (fraction of the audio done, file name) follows along. TranscribeArgumentError or ModelError
    (exit 2) for bad arguments, before any item runs."""
    from reelforge.speech.asr.engine import load_model, model_folder, model_label

    if words_per_line < 1:
        raise TranscribeArgumentError(f"--words-per-line must be at least 1, not {words_per_line}")
    files = collect_inputs(inputs)
    if outdir.exists() and not outdir.is_dir():
        raise TranscribeArgumentError(f"{outdir} exists and is not a folder")
    folder = model_folder(model if model is not None else workspace.asr_model)  # a bad --model fails first
    outdir.mkdir(parents=True, exist_ok=True)
    lengths = [_duration(path) for path in files]
    total = sum(lengths) or 1.0
    names = _output_names(files, inputs)
    results: list[ItemResult] = []
    done = 0.0
    for path, length, name in zip(files, lengths, names):
        def progress(seconds: float, _done: float = done, _path: Path = path) -> None:
            if on_progress is not None:
                on_progress(min((_done + min(seconds, length)) / total, 1.0), _path.name)

        progress(0.0)
        item = ItemResult(path, "failed", duration=length)
        try:
            cues = None if force_asr else embedded_cues(path, workspace)
            if cues is not None:
                item.status, item.cues = "embedded", cues
            else:
                words = _recognize(load_model(folder), path, language, progress)
                item.words = words
                item.cues = word_cues(words, words_per_line)
                item.status = "completed" if words else "no speech"
            item.outputs = write_outputs(item, outdir / name, formats, model_label(folder))
        except ModelError:
            raise
        except (AsrError, ReelforgeError, OSError) as error:
            item.status, item.reason = "failed", _reason(error, path)
        done += length
        progress(length)
        results.append(item)
        report(item.line())
    return results


def _recognize(model, path: Path, language: str | None, progress: Callable[[float], None]) -> list[TimedWord]:
    from reelforge.speech.asr.recognize import recognize_file

    return recognize_file(model, path, language, on_progress=progress)


def _reason(error: Exception, path: Path) -> str:
    text = str(error)
    for prefix in (f"{path}: ", f"{path.name}: "):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text or type(error).__name__


def _duration(path: Path) -> float:
    """The file's length from its header (for the progress bar only; 0 when it cannot be read)."""
    try:
        import av

        with av.open(str(path), metadata_errors="ignore") as container:
            return float(container.duration or 0) / 1_000_000
    except Exception:  # a bad file is reported when its turn comes
        return 0.0


def _output_names(files: Sequence[Path], inputs: Sequence[Path]) -> list[Path]:
    """Output base names: a file inside a given folder keeps its path under it; duplicates get -2, -3..."""
    folders = [Path(p).resolve() for p in inputs if Path(p).is_dir()]
    names, seen = [], set()
    for path in files:
        name = Path(path.stem)
        resolved = path.resolve()
        for folder in folders:
            if resolved.is_relative_to(folder):
                name = resolved.relative_to(folder).with_suffix("")
                break
        candidate, counter = name, 2
        while str(candidate) in seen:
            candidate = name.with_name(f"{name.name}-{counter}")
            counter += 1
        seen.add(str(candidate))
        names.append(candidate)
    return names


# --- embedded subtitles ---------------------------------------------------------------------------------------

def embedded_cues(path: Path, workspace: Workspace) -> list[Cue] | None:
    """The cues of the file's first text subtitle track, or None when it has none."""
    import av

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            tracks = [s for s in container.streams.subtitles if s.codec_context.name in TEXT_SUBTITLE_CODECS]
            if not tracks:
                return None
            index = list(container.streams.subtitles).index(tracks[0])
    except Exception:  # not media at all: recognition reports it
        return None
    import pysubs2

    from reelforge.process import run_ffmpeg

    with workspace.work_folder("transcribe-") as work:
        srt = work / "track.srt"
        run_ffmpeg(["-i", str(path), "-map", f"0:s:{index}", "-f", "srt", str(srt)], what="reading the subtitle track")
        subs = pysubs2.load(str(srt), encoding="utf-8")
    return [Cue(event.start / 1000, event.end / 1000, event.plaintext.replace("\n", " ").strip())
            for event in subs if event.type == "Dialogue" and event.plaintext.strip()]


# --- outputs --------------------------------------------------------------------------------------------------

def word_cues(words: Sequence[TimedWord], per_line: int) -> list[Cue]:
    """Cues of at most `per_line` words that never cross a sentence end (the render's caption rule)."""
    from reelforge.speech import WordTiming
    from reelforge.timeline.captions import group_words

    if not words:
        return []
    timed = [WordTiming(w.text, Fraction(w.start).limit_denominator(1000), Fraction(w.end).limit_denominator(1000))
             for w in words]
    groups = group_words(timed, per_line, timed[-1].end + 1)
    return [Cue(round(float(g.start), 3), round(float(g.end), 3), g.text) for g in groups]


def write_outputs(item: ItemResult, base: Path, formats: Sequence[str], model_name: str) -> list[Path]:
    """Write each format beside `base` (atomically); the paths written."""
    written = []
    base.parent.mkdir(parents=True, exist_ok=True)
    for fmt in formats:
        target = base.with_name(base.name + "." + fmt)
        write_atomic(target, render_format(item, fmt, model_name))
        written.append(target)
    return written


def render_format(item: ItemResult, fmt: str, model_name: str) -> str:
    if fmt == "json":
        return json.dumps({
            "file": str(item.path),
            "source": "embedded" if item.status == "embedded" else "asr",
            "model": None if item.status == "embedded" else model_name,
            "duration": round(item.duration, 3),
            "text": _text(item),
            "words": [{"text": w.text, "start": w.start, "end": w.end, "confidence": w.probability} for w in item.words],
            "cues": [{"start": c.start, "end": c.end, "text": c.text} for c in item.cues],
        }, ensure_ascii=False, indent=1) + "\n"
    if fmt == "txt":
        return _text(item, lines=True) + ("\n" if item.cues else "")
    import pysubs2

    subs = pysubs2.SSAFile()
    for cue in item.cues:
        subs.append(pysubs2.SSAEvent(start=round(cue.start * 1000), end=round(cue.end * 1000), text=cue.text))
    return subs.to_string(fmt)


def _text(item: ItemResult, lines: bool = False) -> str:
    if not item.words:
        return ("\n" if lines else " ").join(c.text for c in item.cues)
    from reelforge.speech.asr.text import ends_sentence

    out, line = [], []
    for word in item.words:
        line.append(word.text)
        if lines and ends_sentence(word.text):
            out.append(" ".join(line))
            line = []
    if line:
        out.append(" ".join(line))
    return "\n".join(out)
