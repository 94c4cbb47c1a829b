"""Jobs that are not renders, run by the same executors: a `kind` and its plain-data `params`.

`transcribe`: each item (an uploaded file or a URL fetched under the service's address rules) is read for its own
text subtitle track (the creator's captions) or, without one, its speech is recognized offline. Each item's
outcome is written into the job's output folder as `item-N.json` as soon as it is known (so a client polling the
job sees items finish one by one, and a job run again after a restart skips the items already done); the job's
result lists them all.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

from reelforge.fileio import write_atomic
from reelforge.progress import CancelToken, Progress
from reelforge.workspace import Workspace

KINDS = ("transcribe",)
ITEM_FILE = "item-{}.json"
ITEM_TERMINAL = ("completed", "failed")


class UnknownTask(ValueError):
    pass


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise UnknownTask(f"no task kind {kind!r}")


def run_kind(kind: str, params: dict[str, Any], workspace: Workspace, on_progress: Callable[[Progress], None] | None,
             cancel: CancelToken | None) -> dict[str, Any]:
    check_kind(kind)
    return transcribe(params, workspace, on_progress, cancel)


def item_path(folder: Path, index: int) -> Path:
    return Path(folder) / "output" / ITEM_FILE.format(index)


def read_item(folder: Path, index: int) -> dict[str, Any] | None:
    """An item's state as last written (None before its turn)."""
    try:
        return json.loads(item_path(folder, index).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _iso(stamp: float) -> str:
    from reelforge.service.jobs import iso

    return iso(stamp) or ""


def transcribe(params: dict[str, Any], workspace: Workspace, on_progress: Callable[[Progress], None] | None,
               cancel: CancelToken | None) -> dict[str, Any]:
    """Transcribe `params["items"]` (each `{"url"}` or `{"upload"}`) of the job in `params["folder"]`."""
    folder = Path(params["folder"])
    (folder / "output").mkdir(exist_ok=True)
    items = params["items"]
    outcomes = []
    for index, item in enumerate(items):
        if cancel is not None:
            cancel.raise_if_cancelled()
        done = read_item(folder, index)
        if done is None or done.get("status") not in ITEM_TERMINAL:
            done = _transcribe_item(index, item, params, folder, workspace, cancel)
        outcomes.append(done)
        if on_progress is not None:
            on_progress(Progress((index + 1) / len(items), "transcribing", None))
    return {"items": outcomes, "captions": []}


def _write(folder: Path, index: int, state: dict[str, Any]) -> dict[str, Any]:
    write_atomic(item_path(folder, index), json.dumps(state, ensure_ascii=False))
    return state


def _transcribe_item(index: int, item: dict[str, Any], params: dict[str, Any], folder: Path, workspace: Workspace,
                     cancel: CancelToken | None) -> dict[str, Any]:
    from reelforge.errors import ReelforgeError, RenderCancelled
    from reelforge.resolve.policy import SourcePolicy
    from reelforge.speech.asr.errors import AsrError, ModelError

    language = params.get("language") or "en"
    state: dict[str, Any] = {"status": "processing", "input": item, "started_at": _iso(time.time())}
    _write(folder, index, state)
    try:
        if "upload" in item:
            path = (folder / "uploads" / item["upload"]).resolve()
            if path.parent != (folder / "uploads").resolve() or not path.is_file():
                raise _ItemFailed("INVALID_INPUT", "the uploaded file is not there")
        else:
            from reelforge.resolve.media import MediaError
            from reelforge.resolve.fetch import fetch_url

            policy = SourcePolicy.model_validate(params["policy"])
            try:
                path = fetch_url(item["url"], f"urls[{item.get('index', index)}]", workspace, policy.fetch)
            except MediaError as error:
                text = str(error)
                refused = any(word in text for word in ("refused", "not allowed", "does not fetch", "address"))
                code = "URL_REFUSED" if refused else "FETCH_FAILED"
                raise _ItemFailed(code, str(error).split(": ", 1)[-1]) from None
        duration = _duration(path)
        state = _write(folder, index, {**state, "duration_seconds": duration})
        if cancel is not None:
            cancel.raise_if_cancelled()
        from reelforge.speech.asr.transcribe import embedded_cues

        cues = embedded_cues(path, workspace)
        if cues:
            track, text = "creator", " ".join(cue.text for cue in cues)
            timed = [{"start": cue.start, "end": cue.end, "text": cue.text} for cue in cues]
        else:
            from reelforge.speech.asr import load_model, recognize_file

            try:
                words = recognize_file(load_model(workspace.asr_model), path, language)
            except ModelError as error:
                raise _ItemFailed("TRANSCRIPTION_UNAVAILABLE", str(error)) from None
            if not words:
                raise _ItemFailed("NO_CAPTIONS_AVAILABLE", "no speech was heard in this media, and it carries no "
                                  "subtitle track")
            from reelforge.speech.asr.transcribe import word_cues

            track, text = "asr", " ".join(word.text for word in words)
            timed = [{"start": c.start, "end": c.end, "text": c.text} for c in word_cues(words, 7)]
        return _write(folder, index, {**state, "status": "completed", "selected_track_type": track,
                                      "transcript_text": text, "segments": timed, "source_language": language,
                                      "output_language": language, "completed_at": _iso(time.time())})
    except _ItemFailed as failure:
        return _write(folder, index, {**state, "status": "failed", "error_code": failure.code,
                                      "error_message": failure.message, "completed_at": _iso(time.time())})
    except RenderCancelled:
        raise
    except (AsrError, ReelforgeError, OSError) as error:
        message = str(error).split(": ", 1)[-1] if ": " in str(error) else str(error)
        return _write(folder, index, {**state, "status": "failed", "error_code": "UNSUPPORTED_MEDIA",
                                      "error_message": f"not readable audio or video: {message}"[:300],
                                      "completed_at": _iso(time.time())})


class _ItemFailed(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _duration(path: Path) -> float | None:
    """The media's length from its header, in seconds (None when it cannot be read)."""
    try:
        import av

        with av.open(str(path), metadata_errors="ignore") as container:
            return round(float(container.duration or 0) / 1_000_000, 3) or None
    except Exception:  # a bad file is reported by the step that reads it
        return None
