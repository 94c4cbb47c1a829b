"""Errors of speech recognition and alignment: a model that cannot be used, audio that cannot be read."""

from __future__ import annotations

from reelforge.errors import ReelforgeError


class AsrError(ReelforgeError):
    """Speech could not be recognized or aligned; the message says what to change."""

    exit_code = 1


class ModelError(AsrError):
    """The speech model is not installed, or a configured model folder is missing or not a faster-whisper model."""

    exit_code = 2


class AudioError(AsrError):
    """A file holds no decodable audio (empty, corrupt, or not media); the message names the file."""

    exit_code = 2


class NoSpeechError(AsrError):
    """A transcript was given for a recording that holds no speech at all (silence)."""

    exit_code = 2
