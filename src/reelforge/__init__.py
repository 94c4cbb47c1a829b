"""reelforge: offline-first toolkit for narrated short videos."""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("reelforge")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
