"""The reference compositor: any frame of a Timeline as an RGB array, in plain numpy/Pillow.

The moviepy backend, `reelforge frame` and `to_moviepy` use it. It is written independently of the
ffmpeg filter graphs (same timeline, same formulas: xfade's transitions, zoompan's camera) so that the
two backends check each other. Text is drawn by libass through ffmpeg, as in the fast path.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import numpy as np

from reelforge.colors import rgb
from reelforge.errors import RenderError
from reelforge.process import ffmpeg_exe, start_child, stop_child
from reelforge.timeline import Layer, LayerVisual, Timeline
from reelforge.workspace import Workspace

Frame = np.ndarray  # (height, width, 3) uint8


class _Source:
    """Frames of one layer's visual by the layer's own frame index."""

    def frame(self, index: int) -> Frame:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


class _ColorSource(_Source):
    def __init__(self, color: str, size: tuple[int, int]):
        self._frame = np.empty((size[1], size[0], 3), np.uint8)
        self._frame[:] = rgb(color)

    def frame(self, index: int) -> Frame:
        return self._frame


def _fit_image(image, fit: str, width: int, height: int):
    """Cover (centre crop) or contain (over a dimmed, blurred fill of itself), as PIL images."""
    from PIL import Image, ImageEnhance, ImageFilter

    iw, ih = image.size
    if fit == "cover":
        scale = max(width / iw, height / ih)
        w, h = max(round(iw * scale), width), max(round(ih * scale), height)
        resized = image.resize((w, h), Image.BICUBIC)
        left, top = (w - width) // 2, (h - height) // 2
        return resized.crop((left, top, left + width, top + height))
    small = _fit_image(image, "cover", max(width // 8, 2), max(height // 8, 2))
    background = small.filter(ImageFilter.BoxBlur(4)).resize((width, height), Image.BILINEAR)
    background = ImageEnhance.Brightness(background).enhance(0.85)
    scale = min(width / iw, height / ih)
    w, h = max(round(iw * scale), 1), max(round(ih * scale), 1)
    background.paste(image.resize((w, h), Image.BICUBIC), ((width - w) // 2, (height - h) // 2))
    return background


class _ImageSource(_Source):
    """A still with zoompan's camera: zoom z and window origin (x, y) as the ffmpeg path computes them.

    Cover-fitted stills are sampled straight from the original picture with one sub-pixel box resize per
    frame (fit and camera folded into one box); contain-fitted ones are composed once, then sampled."""

    def __init__(self, visual: LayerVisual, layer_frames: int, size: tuple[int, int]):
        from PIL import Image

        self.width, self.height = size
        self.visual = visual
        self.span = max(layer_frames - 1, 1)
        image = Image.open(visual.path).convert("RGB")
        if visual.fit == "cover":
            iw, ih = image.size
            scale = max(self.width / iw, self.height / ih)
            w, h = self.width / scale, self.height / scale
            self.image, self.region = image, ((iw - w) / 2, (ih - h) / 2, w, h)
        else:
            self.image = _fit_image(image, visual.fit, self.width, self.height)
            self.region = (0.0, 0.0, float(self.width), float(self.height))
        self.still = None
        if visual.motion == "none" or visual.motion_amount == 0:
            self.still = self._sample(1.0, 0.5, 0.5)

    def _sample(self, zoom: float, fx: float, fy: float) -> Frame:
        """The window 1/zoom of the fitted region, its origin at fractions (fx, fy) of the free space."""
        from PIL import Image

        left, top, w, h = self.region
        ww, wh = w / zoom, h / zoom
        x, y = left + (w - ww) * fx, top + (h - wh) * fy
        if (x, y, ww, wh) == (0, 0, self.width, self.height) and self.image.size == (self.width, self.height):
            return np.asarray(self.image)  # the whole picture at its own size (a gradient, a fitted still): as is
        return np.asarray(self.image.resize((self.width, self.height), Image.BICUBIC, box=(x, y, x + ww, y + wh)))

    def frame(self, index: int) -> Frame:
        if self.still is not None:
            return self.still
        p = index / self.span
        a = self.visual.motion_amount
        motion = self.visual.motion
        zoom = {"zoom_in": 1 + a * p, "zoom_out": 1 + a * (1 - p)}.get(motion, 1 + a)
        fx = {"pan_left": 1 - p, "pan_right": p}.get(motion, 0.5)
        fy = {"pan_up": 1 - p, "pan_down": p}.get(motion, 0.5)
        return self._sample(zoom, fx, fy)


class _VideoSource(_Source):
    """A clip read with moviepy, trimmed, looped or held on its last frame, then fitted."""

    def __init__(self, visual: LayerVisual, size: tuple[int, int], fps: float):
        from moviepy import VideoFileClip

        self.visual = visual
        self.size = size
        self.fps = fps
        self.clip = VideoFileClip(str(visual.path), audio=False)

    def frame(self, index: int) -> Frame:
        from PIL import Image

        v = self.visual
        # As the ffmpeg backend: frame `index` shows what the clip has on screen just before half an output
        # frame later (the source frame nearest the output frame's time, ties to the earlier one), within the
        # used part of the clip; a loop wraps at its length, a clip that does not loop holds its last shown frame.
        local = index / self.fps
        length = v.source_length
        if length is not None:
            if v.loop:
                local = local % float(length)
            else:
                local = min(local, (math.ceil(float(length) * self.fps - 1e-9) - 1) / self.fps)
        t = float(v.source_in) + local + 0.5 / self.fps - 1e-6
        if length is not None:
            t = min(t, float(v.source_in + length) - 1e-6)
        t = min(t, self.clip.duration - 1 / max(self.clip.fps, 1))
        picture = Image.fromarray(self.clip.get_frame(max(t, 0)))
        return np.asarray(_fit_image(picture, v.fit, *self.size))

    def close(self) -> None:
        self.clip.close()


class _CardSource(_Source):
    """A rendered card read with PyAV: frames decoded forward, a seek only on a jump (previews)."""

    def __init__(self, path: Path, fps: float, transparent: bool):
        import av

        self.container = av.open(str(path))
        self.stream = self.container.streams.video[0]
        self.fps = fps
        self.pixels = "rgba" if transparent else "rgb24"
        self._decoder = None
        self._position = -1
        self._last: np.ndarray | None = None

    def _decoded(self, index: int) -> np.ndarray:
        if self._last is not None and index == self._position:
            return self._last
        if self._decoder is None or not (self._position < index <= self._position + 60):
            target = int(index / self.fps / self.stream.time_base)
            self.container.seek(target, stream=self.stream, backward=True)
            self._decoder = self.container.decode(self.stream)
        for frame in self._decoder:
            position = int(round(float(frame.pts * self.stream.time_base) * self.fps))
            if position >= index:
                self._position, self._last = position, frame.to_ndarray(format=self.pixels)
                return self._last
        raise RenderError(f"card video {Path(self.container.name).name} has no frame {index}")

    def frame(self, index: int) -> Frame:
        return self._decoded(index)[..., :3]

    def rgba(self, index: int) -> np.ndarray:
        return self._decoded(index)

    def close(self) -> None:
        self.container.close()


def blend(picture: Frame, color: np.ndarray, alpha: np.ndarray, *, premultiplied: bool) -> Frame:
    """`color` over `picture` with coverage `alpha` (uint8), computed only on the rows that have any."""
    rows = np.flatnonzero(alpha.any(axis=1))
    if rows.size == 0:
        return picture
    top, bottom = rows[0], rows[-1] + 1
    a = alpha[top:bottom, :, None].astype(np.float32) / 255
    over = color[top:bottom].astype(np.float32)
    band = picture[top:bottom].astype(np.float32) * (1 - a) + (over if premultiplied else over * a)
    out = picture.copy()
    out[top:bottom] = np.clip(band + 0.5, 0, 255).astype(np.uint8)
    return out


def _smoothstep(edge0: float, edge1: float, x: float) -> float:
    t = min(max((x - edge0) / (edge1 - edge0), 0.0), 1.0)
    return t * t * (3 - 2 * t)


def transition_frame(kind: str, a: Frame, b: Frame, progress: float) -> Frame:
    """xfade's transitions: `progress` runs from 1 (all `a`) to 0 (all `b`)."""
    height, width = a.shape[:2]
    if kind == "fade":
        return (a * progress + b * (1 - progress) + 0.5).astype(np.uint8)
    if kind == "fadeblack":
        phase = 0.2
        fa = a * (1 - _smoothstep(1 - phase, 1, progress))
        fb = b * _smoothstep(phase, 1, progress)
        return (fa * progress + fb * (1 - progress) + 0.5).astype(np.uint8)
    if kind in ("wipeleft", "wiperight"):
        z = int(width * progress) if kind == "wipeleft" else int(width * (1 - progress))
        xs = np.arange(width)
        take_b = xs > z if kind == "wipeleft" else xs <= z
        return np.where(take_b[None, :, None], b, a)
    if kind in ("wipeup", "wipedown"):
        z = int(height * progress) if kind == "wipeup" else int(height * (1 - progress))
        ys = np.arange(height)
        take_b = ys > z if kind == "wipeup" else ys <= z
        return np.where(take_b[:, None, None], b, a)
    if kind in ("slideleft", "slideright"):
        z = int(-progress * width) if kind == "slideleft" else int(progress * width)
        zx = z + np.arange(width)
        zz = zx % width
        inside = (zx >= 0) & (zx < width)
        return np.where(inside[None, :, None], b[:, zz], a[:, zz])
    if kind in ("slideup", "slidedown"):
        z = int(-progress * height) if kind == "slideup" else int(progress * height)
        zy = z + np.arange(height)
        zz = zy % height
        inside = (zy >= 0) & (zy < height)
        return np.where(inside[:, None, None], b[zz], a[zz])
    raise RenderError(f"unknown transition {kind!r}")


class _TextRenderer:
    """libass through ffmpeg: the text layer of a frame as premultiplied RGB plus alpha.

    The text is drawn over transparent black with the `ass` filter's `alpha` option, so libass writes the
    coverage too: a pixel's color is the premultiplied color, its alpha the coverage (within one level of
    drawing it over black and over white and taking the difference, which took two libass instances and
    twice the pixels). Frames are streamed from one ffmpeg process while they are asked for in order (a
    render), and the stream restarts at any other frame (a preview)."""

    def __init__(self, timeline: Timeline, workdir: Path, workspace: Workspace):
        self.timeline = timeline
        self.workdir = workdir
        self.workspace = workspace
        self._process: subprocess.Popen | None = None
        self._next = -1
        self._ass_written = False

    def _start(self, index: int) -> None:
        from reelforge.fonts import fontconfig_env, fonts_dir
        from reelforge.timeline.captions import build_ass

        self.close()
        if not self._ass_written:
            subs = build_ass(self.timeline.texts, self.timeline.styles, (self.timeline.width, self.timeline.height),
                             self.timeline.rate)
            (self.workdir / "text.ass").write_text(subs.to_string("ass"), encoding="utf-8")
            self._ass_written = True
        fonts = str(fonts_dir(self.workspace)).replace("\\", "/").replace(":", "\\:").replace("'", "\\'")
        rate = self.timeline.rate
        w, h = self.timeline.width, self.timeline.height
        remaining = max(self.timeline.frames - index, 1)
        start_us = round(rate.seconds(index) * 1_000_000)
        graph = (f"color=c=black@0:s={w}x{h}:r={rate.ffmpeg()},format=rgba,trim=end_frame={remaining},"
                 f"settb=1/1000000,setpts=PTS+{start_us},ass=filename=text.ass:fontsdir='{fonts}':alpha=1")
        # Not tied to the starting thread's life (frames may be asked for from any thread): it streams to a pipe
        # and gets SIGPIPE as soon as the reader is gone.
        self._process = start_child(
            [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", graph,
             "-f", "rawvideo", "-pix_fmt", "rgba", "pipe:1"],
            cwd=self.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=fontconfig_env(self.workspace),
            dies_with_parent=False)
        self._next = index

    def shows_text(self, index: int) -> bool:
        return any(e.range.start <= index < e.range.end for e in self.timeline.texts)

    def ready(self, index: int) -> None:
        """Have a stream that reaches frame `index` running (started now when not): its process can start and
        load its fonts while the caller composes the picture under the text."""
        if self._process is None or not (self._next <= index < self._next + 90):
            self._start(index)

    def frame(self, index: int) -> np.ndarray | None:
        if not self.shows_text(index):
            return None
        self.ready(index)
        w, h = self.timeline.width, self.timeline.height
        while True:  # skip the frames not asked for since the last call (e.g. ones with no text)
            raw = self._read(w * h * 4, index)
            if self._next > index:
                break
        return np.frombuffer(raw, np.uint8).reshape(h, w, 4)

    def _read(self, size: int, index: int) -> bytes:
        assert self._process is not None and self._process.stdout is not None
        raw = self._process.stdout.read(size)
        if len(raw) != size:
            error = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
            self.close()
            raise RenderError(f"text layer failed at frame {index}: {error.strip()[-300:]}")
        self._next += 1
        return raw

    def close(self) -> None:
        if self._process is not None:
            stop_child(self._process)
            for stream in (self._process.stdout, self._process.stderr):
                if stream is not None:
                    stream.close()
            self._process = None


class Compositor:
    """Frames of a timeline, composed in numpy. Not thread-safe; close() when done."""

    def __init__(self, timeline: Timeline, workdir: Path, workspace: Workspace, cancel=None):
        from concurrent.futures import ThreadPoolExecutor

        from reelforge.renderers.card_layers import render_missing_cards, with_card_files

        timeline = with_card_files(timeline, workspace)
        with ThreadPoolExecutor(max_workers=2) as pool:  # cards first: frames of a card scene need its video
            for future in render_missing_cards(timeline, pool, workspace, cancel).values():
                future.result()
        self.timeline = timeline
        self.workspace = workspace
        self.size = (timeline.width, timeline.height)
        self._sources: dict[int, _Source] = {}
        self._text = _TextRenderer(timeline, workdir, workspace)
        self._black = np.zeros((timeline.height, timeline.width, 3), np.uint8)

    def _source(self, layer: Layer) -> _Source:
        key = id(layer)
        if key not in self._sources:
            v = layer.visual
            if v.kind == "color":
                source: _Source = _ColorSource(v.colors[0], self.size)
            elif v.kind == "gradient":
                from reelforge.renderers.stills import gradient_png

                png = gradient_png(v.colors, v.angle, *self.size, self.workspace.folder("stills"))
                source = _ImageSource(LayerVisual("image", path=png, motion=v.motion, motion_amount=v.motion_amount),
                                      layer.range.duration, self.size)
            elif v.kind == "image":
                source = _ImageSource(v, layer.range.duration, self.size)
            elif v.kind == "card":
                source = _CardSource(v.path, float(self.timeline.rate.value), v.transparent)
            else:
                source = _VideoSource(v, self.size, float(self.timeline.rate.value))
            self._sources[key] = source
        return self._sources[key]

    def picture(self, index: int) -> Frame:
        """Frame `index` without text: scenes (with transitions), then block overlays."""
        scenes = self.timeline.scenes
        frame = self._black
        for number, layer in enumerate(scenes):
            if not (layer.range.start <= index < layer.range.end):
                continue
            local = index - layer.range.start
            frame = self._source(layer).frame(local)
            into = layer.range.end - layer.transition_frames
            if layer.transition_frames and index >= into and number + 1 < len(scenes):
                following = scenes[number + 1]
                other = self._source(following).frame(index - following.range.start)
                from reelforge.renderers.ffmpeg.segments import XFADE

                progress = 1 - (index - into) / layer.transition_frames
                frame = transition_frame(XFADE[layer.transition_out or "crossfade"], frame, other, progress)
            break
        for layer in self.timeline.overlays:
            if layer.range.start <= index < layer.range.end:
                source = self._source(layer)
                local = index - layer.range.start
                if isinstance(source, _CardSource) and layer.visual.transparent:
                    rgba = source.rgba(local)
                    frame = blend(frame, rgba[..., :3], rgba[..., 3], premultiplied=False)
                else:
                    frame = source.frame(local)
        return frame

    def frame(self, index: int) -> Frame:
        index = min(max(index, 0), max(self.timeline.frames - 1, 0))
        if not self._text.shows_text(index):
            return self.picture(index)
        self._text.ready(index)  # its ffmpeg starts while the picture is composed
        picture = self.picture(index)
        text = self._text.frame(index)
        if text is None:
            return picture
        return blend(picture, text[..., :3], text[..., 3], premultiplied=True)

    def close(self) -> None:
        for source in self._sources.values():
            source.close()
        self._sources.clear()
        self._text.close()
