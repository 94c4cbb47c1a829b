"""The card render worker: `python -m reelforge.cards.worker '<request JSON>'` draws one card into one video file.

It runs in its own process so manim's global config, its caches and its memory never leak into the caller, and
so several cards render while ffmpeg works. Frames go straight from manim's Cairo camera into an ffmpeg pipe,
never through manim's own movie writer (no partial movie files, no concatenation); ffmpeg writes exactly
`frames` frames. On success it prints one JSON line (frames, size, pixel format, seconds); on failure a
traceback on stderr and exit code 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

FONT_FILES = ("Roboto-Regular.ttf", "Roboto-Bold.ttf", "Roboto-Black.ttf", "SourceSerifPro-Semibold.ttf",
              "SourceSerifPro-Black.ttf", "SourceSerifPro-It.ttf", "FjallaOne-Regular.ttf")
FAMILIES = ("Roboto", "Source Serif Pro", "Fjalla One")


def register_fonts(folder: Path) -> Path:
    """Make reelforge's font files (pip font packages, linked in the workspace's `folder`) known to Pango."""
    import manimpango

    for name in FONT_FILES:
        if not manimpango.register_font(str(folder / name)):
            raise RuntimeError(f"Pango could not register font {folder / name}")
    missing = set(FAMILIES) - set(manimpango.list_fonts())
    if missing:
        raise RuntimeError(f"fonts not visible to Pango after registering: {', '.join(sorted(missing))}")
    return folder


class FrameSink:
    """Streams RGBA frames (premultiplied, as Cairo draws them) to ffmpeg, which writes exactly `frames` frames.

    QuickTime RLE in MOV either way: rgb24 for opaque cards, argb (straight alpha) for transparent ones. A
    picture held for several frames is sent once per frame, except the last one: ffmpeg's `tpad` holds it to
    the end, so a card's final hold (most of its length) costs almost nothing.
    """

    def __init__(self, path: Path, width: int, height: int, fps: int, frames: int, transparent: bool):
        from reelforge.process import ffmpeg_exe, start_child

        self.path, self.width, self.height, self.frames, self.transparent = path, width, height, frames, transparent
        self.count = 0  # frames accounted for: sent, or pending as repeats of the last picture
        self._pending: tuple[memoryview, int] | None = None
        self._straight = StraightAlpha() if transparent else None
        self._log = tempfile.TemporaryFile()
        command = [
            ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{width}x{height}", "-framerate", str(fps), "-i", "pipe:0",
            "-vf", "tpad=stop=-1:stop_mode=clone", "-frames:v", str(frames),
            "-c:v", "qtrle", "-pix_fmt", "argb" if transparent else "rgb24", "-g", str(max(fps * 2, 1)),
            "-f", "mov", str(path),
        ]
        self._ffmpeg = start_child(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log, bufsize=0)

    def write(self, rgba: np.ndarray, repeat: int = 1) -> None:
        repeat = min(repeat, self.frames - self.count)
        if repeat <= 0:
            return
        self._flush_pending()
        # (the buffer may be reused for the next picture: pending repeats were sent above, and a pipe
        # write returns once ffmpeg has the bytes)
        picture = self._straight(rgba) if self._straight is not None else np.ascontiguousarray(rgba)
        data = memoryview(picture).cast("B")
        self._send(data)
        self._pending = (data, repeat - 1)
        self.count += repeat

    def _flush_pending(self) -> None:
        if self._pending is not None:
            data, repeats = self._pending
            for _ in range(repeats):
                self._send(data)
            self._pending = None

    def _send(self, data: memoryview) -> None:
        assert self._ffmpeg.stdin is not None
        try:
            self._ffmpeg.stdin.write(data)
        except BrokenPipeError:
            raise RuntimeError(f"ffmpeg stopped: {self._errors()}") from None

    def _errors(self) -> str:
        self._ffmpeg.wait()
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace").strip()[-2000:]

    def close(self) -> None:
        """End the stream: ffmpeg holds the last picture up to exactly `frames` frames."""
        self._pending = None
        if self._ffmpeg.stdin is not None and not self._ffmpeg.stdin.closed:
            try:
                self._ffmpeg.stdin.close()
            except BrokenPipeError:
                pass
        if self._ffmpeg.wait() != 0:
            raise RuntimeError(f"ffmpeg failed (exit {self._ffmpeg.returncode}): {self._errors()}")

    def abort(self) -> None:
        if self._ffmpeg.poll() is None:
            self._ffmpeg.kill()
            self._ffmpeg.wait()


def probe(path: Path) -> dict:
    """Frames (packets), size and pixel format of the written file."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for packet in container.demux(stream) if packet.size)
        return {"frames": frames, "width": stream.codec_context.width, "height": stream.codec_context.height,
                "pix_fmt": stream.codec_context.pix_fmt}


_RECIPROCAL = np.concatenate([[0.0], 255.0 / np.arange(1, 256)]).astype(np.float32)


def unpremultiply(rgba: np.ndarray) -> np.ndarray:
    """Cairo's premultiplied RGBA to straight alpha (what ffmpeg's overlay expects)."""
    out = np.empty_like(rgba)
    rgb = rgba[..., :3] * _RECIPROCAL[rgba[..., 3]][..., None]
    rgb += 0.5
    np.minimum(rgb, 255, out=rgb)
    out[..., :3] = rgb
    out[..., 3] = rgba[..., 3]
    return out


class StraightAlpha:
    """Unpremultiplies a stream of frames, redoing only the box that changed since the previous frame."""

    def __init__(self) -> None:
        self._source: np.ndarray | None = None
        self._result: np.ndarray | None = None

    def __call__(self, rgba: np.ndarray) -> np.ndarray:
        if self._source is None or self._result is None or self._source.shape != rgba.shape:
            self._source, self._result = rgba.copy(), unpremultiply(rgba)
            return self._result
        differs = rgba.view(np.uint32)[..., 0] != self._source.view(np.uint32)[..., 0]
        rows = np.flatnonzero(differs.any(axis=1))
        if rows.size:
            top, bottom = rows[0], rows[-1] + 1
            cols = np.flatnonzero(differs[top:bottom].any(axis=0))
            left, right = cols[0], cols[-1] + 1
            self._result[top:bottom, left:right] = unpremultiply(rgba[top:bottom, left:right])
            self._source[top:bottom, left:right] = rgba[top:bottom, left:right]
        return self._result


def _card_renderer(sink: FrameSink):
    """A Cairo renderer whose frames go to `sink` and whose movie writer does nothing."""
    from manim.renderer.cairo_renderer import CairoRenderer

    class NullFileWriter:
        sections = [SimpleNamespace(skip_animations=False)]
        output_spec = SimpleNamespace(is_still=False, is_video=True, is_image_sequence=False,
                                      fallback_to_still=True, enabled=False)
        subcaptions: list = []
        final_file_path = None

        def is_already_cached(self, *_: Any) -> bool:
            return False

        def add_sound(self, *_: Any, **__: Any) -> None:
            raise RuntimeError("cards have no sound: reelforge mixes audio separately")

        def write_frame(self, *_: Any, **__: Any) -> None:
            raise RuntimeError("frames go through CardRenderer.add_frame")

        def __getattr__(self, name: str):  # begin/end_animation, add_partial_movie_file, finish, next_section...
            if name.startswith("__"):
                raise AttributeError(name)
            return lambda *args, **kwargs: None

    class CardRenderer(CairoRenderer):
        def init_scene(self, *_: Any, **__: Any) -> None:
            self.file_writer = NullFileWriter()

        def add_frame(self, frame: np.ndarray, num_frames: int = 1) -> None:
            if self.skip_animations:
                return
            self.time += num_frames / self.camera.frame_rate
            sink.write(frame, num_frames)

        @property
        def frames_written(self) -> int:
            return sink.count

        def scene_finished(self, scene: Any) -> None:
            if sink.count == 0:  # a scene that never played: its one picture, held
                self.update_frame(scene)
                sink.write(self.get_frame(), 1)

    return CardRenderer()


def render(request: dict) -> dict:
    """Render the card described by `request` (see reelforge.cards.render) into request["output"]."""
    from reelforge.cards.registry import get_spec
    from reelforge.model.theme import Theme

    clock = time.perf_counter()
    spec = get_spec(request["card"])
    card = spec.model.model_validate_json(request["fields"])
    theme = Theme.model_validate_json(request["theme"])
    width, height, fps, frames = (int(request[key]) for key in ("width", "height", "fps", "frames"))
    transparent = bool(request["transparent"])
    fonts = register_fonts(Path(request["fonts"]))

    from manim import Scene, tempconfig

    from reelforge.cards.scene import FRAME_HEIGHT, CardContext, solid

    scene_class = spec.load_scene()
    if not (isinstance(scene_class, type) and issubclass(scene_class, Scene)):
        raise TypeError(f"card {spec.name!r}: {scene_class!r} is not a manim Scene")
    background = request["background"]
    with tempfile.TemporaryDirectory(prefix="reelforge-card-") as media, tempconfig({
        "renderer": "cairo", "pixel_width": width, "pixel_height": height, "frame_rate": fps,
        "frame_height": FRAME_HEIGHT, "frame_width": FRAME_HEIGHT * width / height,
        # transparent: (0,0,0,0), a valid premultiplied pixel (a colored zero-alpha one would tint every edge)
        "background_color": "#000000" if transparent else solid(background),
        "background_opacity": 0.0 if transparent else 1.0,
        "media_dir": media, "disable_caching": True, "verbosity": "ERROR", "progress_bar": "none",
        "preview": False, "write_to_movie": False, "save_last_frame": False,
    }):
        output = Path(request["output"])
        sink = FrameSink(output, width, height, fps, frames, transparent)
        try:
            scene = scene_class(renderer=_card_renderer(sink))
            scene.ctx = CardContext(card=card, theme=theme, width=width, height=height, fps=fps, frames=frames,
                                    transparent=transparent, background=background, fonts_dir=fonts)
            scene.render()
        except BaseException:
            sink.abort()
            raise
        sink.close()
    return {**probe(output), "seconds": round(time.perf_counter() - clock, 3)}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m reelforge.cards.worker '<request JSON>'", file=sys.stderr)
        return 2
    result = render(json.loads(argv[1]))
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
