"""Fonts for burned-in text, from pip-installed font packages only (never whatever the system has)."""

from __future__ import annotations

import importlib.util
import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from reelforge.errors import ReelforgeError

if TYPE_CHECKING:
    from reelforge.workspace import Workspace


@dataclass(frozen=True)
class FontFace:
    family: str  # the family name libass matches
    package: str  # the pip package (import name) that ships the file
    file: str


# Theme font family -> (regular face, heavy face used for bold captions and titles).
FACES: dict[str, tuple[FontFace, FontFace]] = {
    "sans": (FontFace("Roboto", "font_roboto", "Roboto-Bold.ttf"), FontFace("Roboto Black", "font_roboto", "Roboto-Black.ttf")),
    "serif": (
        FontFace("Source Serif Pro", "font_source_serif_pro", "SourceSerifPro-Semibold.ttf"),
        FontFace("Source Serif Pro Black", "font_source_serif_pro", "SourceSerifPro-Black.ttf"),
    ),
    "display": (FontFace("Fjalla One", "font_fjallaone", "FjallaOne-Regular.ttf"), FontFace("Fjalla One", "font_fjallaone", "FjallaOne-Regular.ttf")),
}
EXTRA_FILES = [("font_roboto", "Roboto-Regular.ttf"), ("font_source_serif_pro", "SourceSerifPro-It.ttf")]
REGULAR_FAMILY = "Roboto"  # Roboto-Regular.ttf, for plain captions


def _package_file(package: str, name: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ReelforgeError(f"font package {package!r} is not installed: run `make setup` (pip install 'reelforge[render]')")
    path = Path(next(iter(spec.submodule_search_locations))) / "files" / name
    if not path.is_file():
        raise ReelforgeError(f"font file {name} missing from package {package}")
    return path


_FONTS_LOCK = threading.Lock()


def fonts_dir(workspace: "Workspace") -> Path:
    """The workspace's fonts folder, holding exactly reelforge's font files (links), for libass's `fontsdir`.

    Checked on every call (a few stat calls): the folder may have been cleaned since the last render."""
    folder = workspace.fonts
    with _FONTS_LOCK:  # threads (cards rendering side by side) must not race on the same temp link
        folder.mkdir(parents=True, exist_ok=True)
        for package, name in _wanted_files():
            target = _package_file(package, name)
            link = folder / name
            if link.is_symlink() and os.readlink(link) == str(target):
                continue
            tmp = folder / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"  # other processes too
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(target)
            os.replace(tmp, link)
    return folder


def fonts_fingerprint(workspace: "Workspace") -> str:
    """What drawn text depends on besides the text: the font files' content (never the folder they are in)."""
    from reelforge.workspace import content_key

    return content_key("fonts", [(name, workspace.file_hash(_package_file(package, name)))
                                 for package, name in _wanted_files()])


@lru_cache(maxsize=1)
def _wanted_files() -> tuple[tuple[str, str], ...]:
    return tuple(sorted({(face.package, face.file) for pair in FACES.values() for face in pair} | set(EXTRA_FILES)))


def font_file(family: str = "sans", heavy: bool = False) -> Path:
    face = FACES[family][1 if heavy else 0]
    return _package_file(face.package, face.file)


def family_name(family: str = "sans", heavy: bool = False) -> str:
    return FACES[family][1 if heavy else 0].family


FONTCONFIG_TEMPLATE = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<!-- Written by reelforge: text is drawn only with the fonts of its pip font packages. -->
<fontconfig>
  <dir>{fonts}</dir>
  <cachedir>{cache}</cachedir>
</fontconfig>
"""


def fontconfig_env(workspace: "Workspace") -> dict[str, str]:
    """Environment for a process that draws text (libass in ffmpeg, Pango in manim): ours, with a fontconfig
    that knows only reelforge's fonts, so what renders never depends on the fonts a machine happens to have."""
    from xml.sax.saxutils import escape

    from reelforge.fileio import write_atomic

    folder = fonts_dir(workspace)
    config = workspace.cache / "fonts.conf"
    text = FONTCONFIG_TEMPLATE.format(fonts=escape(str(folder)), cache=escape(str(workspace.cache / "fontconfig")))
    if not config.is_file() or config.read_text(encoding="utf-8") != text:
        write_atomic(config, text)
    return {**os.environ, "FONTCONFIG_FILE": str(config)}
