"""What `reelforge tts` and `reelforge voices` do, as plain functions for cli.py to call."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from reelforge.fileio import write_atomic
from reelforge.model.audio import Voice
from reelforge.speech.tts import BUNDLED_VOICE_ID, TTSError, VoiceInfo, synthesize
from reelforge.workspace import Workspace


def run_tts(
    text: str,
    out_path: Path,
    workspace: Workspace,
    voice_id: str = BUNDLED_VOICE_ID,
    speed: float = 1.0,
) -> Path:
    """Speak `text` into the WAV file `out_path` (written atomically; cached audio is reused)."""
    try:
        voice = Voice(voice_id=voice_id, speed=speed)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise TTSError(f"invalid voice settings: {problems}") from error
    speech = synthesize(text, voice, workspace=workspace)
    out_path = Path(out_path)
    if not out_path.parent.is_dir():
        raise TTSError(f"cannot write {out_path}: folder {out_path.parent} does not exist")
    write_atomic(out_path, speech.audio_path.read_bytes())
    return out_path


def format_voices(voices: Sequence[VoiceInfo]) -> str:
    """A table of voices: id, language, quality, sample rate, and where the voice comes from."""
    header = ("ID", "LANGUAGE", "QUALITY", "RATE", "SOURCE")
    rows = [
        (v.voice_id, v.language, v.quality, str(v.sample_rate), "bundled" if v.bundled else str(v.model_path))
        for v in voices
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1] for row in [header, *rows]]
    return "\n".join(line.rstrip() for line in lines)
