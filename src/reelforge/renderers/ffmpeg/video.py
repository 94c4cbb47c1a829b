"""The ffmpeg backend's video pass: one filter graph per segment, encoded once, cached by content."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from reelforge.colors import ffmpeg_color
from reelforge.renderers.ffmpeg.segments import Segment
from reelforge.timebase import FrameRange, Rate, seconds_str
from reelforge.timeline import Layer, LayerVisual, TextEvent, Timeline
from reelforge.timeline.captions import build_ass

# Where a segment's first frame sits on the clock of its subtitle file: far enough in that lines which began in
# earlier segments keep non-negative times (ASS has none below zero).
TEXT_CLOCK_SECONDS = 3600
# A run's subtitle file, beside its graph in the run's folder.
ASS_NAME = "text.ass"

# Most inputs one looping clip opens for one range (a cycle each): more only for clips of a frame or two.
MAX_LOOP_PIECES = 64
# Decoded before a clip's first shown frame, so its first output frames pick source frames as they would in
# the middle of the clip: longer than one source frame (sources of 5 fps and up) plus half an output frame.
LEAD_IN_SECONDS = Fraction(1, 5)

# Qualities whose stills zoom and pan smoothly: the window moves and grows by fractions of a pixel each frame
# (ffmpeg's perspective filter, bilinear), where zoompan crops whole pixels of a 2x picture, so the zoom's centre
# wobbles by half a pixel and its step from frame to frame by half of itself, which shimmers on fine detail. It
# costs 3.3x zoompan's CPU (15 against 4.5 ms a 1080x1920 frame): beside studio's x264 (medium) a few per cent,
# at web quality 1.9 s more on W (BENCHMARKS.md, "The stills' zoom").
SMOOTH_MOTION = frozenset({"studio"})

ENCODER = {
    # quality: (x264 preset, crf)
    "draft": ("ultrafast", 30),
    "web": ("veryfast", 21),
    "studio": ("medium", 16),
}


def encoder_args(quality: str, rate: Rate, muxer: bool = True) -> list[str]:
    """libx264 at the quality's preset and crf; closed GOPs of 2 s, so segments join without re-encoding.
    `muxer`: add the MP4 muxer's time scale (a run's segment muxer takes it as a format option instead)."""
    preset, crf = ENCODER[quality]
    gop = max(int(rate.value * 2), 1)
    args = ["-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-g", str(gop), "-x264-params", "scenecut=0:open-gop=0"]
    return args + ["-video_track_timescale", "90000"] if muxer else args


@dataclass
class GraphBuilder:
    """Accumulates ffmpeg inputs and filter chains for one segment."""

    timeline: Timeline
    stills: Path  # where generated stills (gradients) are written: a workspace's folder("stills")
    inputs: list[list[str]] = field(default_factory=list)
    chains: list[str] = field(default_factory=list)
    _labels: int = 0

    @property
    def size(self) -> str:
        return f"{self.timeline.width}x{self.timeline.height}"

    @property
    def fps(self) -> str:
        return self.timeline.rate.ffmpeg()

    def label(self, stem: str = "v") -> str:
        self._labels += 1
        return f"{stem}{self._labels}"

    def add_input(self, args: list[str]) -> int:
        self.inputs.append(args)
        return len(self.inputs) - 1

    def seconds(self, frames: int) -> Fraction:
        return self.timeline.rate.seconds(frames)

    # -- a layer's visual over `frames` frames of its own time, from `offset` -----------------------
    def visual(self, layer: Layer, offset: int, frames: int) -> str:
        visual = layer.visual
        if visual.kind == "card":
            return self._card(visual, offset, frames)
        if visual.kind == "color":
            return self._source(f"color=c={ffmpeg_color(visual.colors[0])}:s={self.size}:r={self.fps}", frames)
        if visual.kind == "gradient":
            return self._gradient(visual, layer.range.duration, offset, frames)
        if visual.kind == "image":
            return self._image(visual, layer.range.duration, offset, frames)
        return self._video(visual, offset, frames)

    def _card(self, visual: LayerVisual, offset: int, frames: int) -> str:
        """A rendered card (lossless RLE at the frame's size and rate); transparent ones keep their alpha."""
        index = self.add_input(["-i", str(visual.path)])
        out = self.label()
        pixels = "yuva420p" if visual.transparent else "yuv420p"
        # fps= only sets the time base the other layers have (xfade and overlay need equal ones); the file
        # already holds one frame per output frame.
        self.chains.append(f"[{index}:v]fps={self.fps},trim=start_frame={offset}:end_frame={offset + frames},"
                           f"setpts=PTS-STARTPTS,format={pixels},setsar=1[{out}]")
        return out

    def _finish(self, head: str, frames: int) -> str:
        out = self.label()
        # settb: every layer ends on the output rate's time base (concat, for one, leaves another), which
        # xfade and overlay require of their inputs.
        self.chains.append(f"{head},trim=end_frame={frames},setpts=PTS-STARTPTS,settb=1/({self.fps}),"
                           f"format=yuv420p,setsar=1[{out}]")
        return out

    def _source(self, source: str, frames: int) -> str:
        return self._finish(f"{source}:d={seconds_str(self.seconds(frames + 1))}", frames)

    def _gradient(self, visual: LayerVisual, layer_frames: int, offset: int, frames: int) -> str:
        from reelforge.renderers.stills import gradient_png

        png = gradient_png(visual.colors, visual.angle, self.timeline.width, self.timeline.height, self.stills)
        still = LayerVisual("image", path=png, fit="cover", motion=visual.motion, motion_amount=visual.motion_amount)
        return self._image(still, layer_frames, offset, frames)

    def _fit(self, label_in: str, fit: str, scale: int = 1, media_size: tuple[int, int] | None = None) -> str:
        """Cover (crop) or contain (over a blurred fill of itself) at `scale` × the frame size."""
        w, h = self.timeline.width * scale, self.timeline.height * scale
        out = self.label()
        if media_size is not None and min(media_size) < 2:
            # A source a pixel wide or high: 4:2:0 pictures are cropped in steps of two pixels, so give it two.
            grown = self.label()
            self.chains.append(f"[{label_in}]scale=w='max(iw,2)':h='max(ih,2)':flags=neighbor[{grown}]")
            label_in = grown
        if fit == "cover":
            # Crop the source to the frame's shape first, then scale: far fewer pixels to scale than
            # scaling the whole source up and cropping (a 16:9 clip into 9:16 scales a third as much).
            # At least two pixels each way (4:2:0 crops in steps of two): a source far thinner than the frame
            # (2000x1) crops to its middle.
            self.chains.append(
                f"[{label_in}]crop=w='max(2,min(iw,ih*{w}/{h}))':h='max(2,min(ih,iw*{h}/{w}))',"
                f"scale={w}:{h}:flags=bicubic,setsar=1[{out}]")
            return out
        bg, fg, small = self.label("bg"), self.label("fg"), self.label("s")
        self.chains.append(f"[{label_in}]split[{small}][{fg}i]")
        self.chains.append(
            f"[{small}]scale={max(w // 8, 2)}:{max(h // 8, 2)}:force_original_aspect_ratio=increase,crop={max(w // 8, 2)}:{max(h // 8, 2)},"
            f"boxblur=8:2,scale={w}:{h},eq=brightness=-0.08[{bg}]")
        # The largest size that fits, each side rounded and at least a pixel (a 2000x1 line stays visible).
        fits = f"min({w}/iw,{h}/ih)"
        self.chains.append(f"[{fg}i]scale=w='max(1,round(iw*{fits}))':h='max(1,round(ih*{fits}))':flags=bicubic[{fg}]")
        self.chains.append(f"[{bg}][{fg}]overlay=(W-w)/2:(H-h)/2,setsar=1[{out}]")
        return out

    def _image(self, visual: LayerVisual, layer_frames: int, offset: int, frames: int) -> str:
        index = self.add_input(["-i", str(visual.path)])
        first = self.label()
        self.chains.append(f"[{index}:v]format=yuv420p[{first}]")
        still = visual.motion == "none" or visual.motion_amount == 0
        # Studio quality moves the picture by sub-pixel amounts (SMOOTH_MOTION); below it, motion is computed on a
        # 2x frame so zoompan's crop moves in half-pixel steps.
        smooth = not still and self.timeline.quality in SMOOTH_MOTION
        scale = 1 if still or smooth else 2
        fitted = self._fit(first, visual.fit, scale, visual.media_size)
        if still:
            out = self.label()
            self.chains.append(f"[{fitted}]loop=loop={frames}:size=1:start=0,fps={self.fps}[{out}]")
            return self._finish(f"[{out}]null", frames)
        span = max(layer_frames - 1, 1)
        p = f"(({offset}+on)/{span})"
        a = visual.motion_amount
        zoom = {"zoom_in": f"1+{a}*{p}", "zoom_out": f"1+{a}*(1-{p})"}.get(visual.motion, f"1+{a}")

        def window(w: str, h: str, z: str) -> tuple[str, str]:
            """The left and top edges of the part shown of a w x h picture at zoom z."""
            return {
                "zoom_in": (f"({w}-{w}/{z})/2", f"({h}-{h}/{z})/2"),
                "zoom_out": (f"({w}-{w}/{z})/2", f"({h}-{h}/{z})/2"),
                "pan_left": (f"({w}-{w}/{z})*(1-{p})", f"({h}-{h}/{z})/2"),
                "pan_right": (f"({w}-{w}/{z})*{p}", f"({h}-{h}/{z})/2"),
                "pan_up": (f"({w}-{w}/{z})/2", f"({h}-{h}/{z})*(1-{p})"),
                "pan_down": (f"({w}-{w}/{z})/2", f"({h}-{h}/{z})*{p}"),
            }[visual.motion]

        out = self.label()
        if smooth:
            # The window's corners in exact (fractional) pixels of the fitted picture, resampled to the frame
            # (`on`, perspective's frame number, is zoompan's too).
            left, top = window("W", "H", f"({zoom})")
            wide, high = f"W/({zoom})", f"H/({zoom})"
            corners = {"x0": left, "y0": top, "x1": f"{left}+{wide}", "y1": top, "x2": left, "y2": f"{top}+{high}",
                       "x3": f"{left}+{wide}", "y3": f"{top}+{high}"}
            looped = self.label()
            self.chains.append(f"[{fitted}]loop=loop={frames}:size=1:start=0,fps={self.fps}[{looped}]")
            self.chains.append(f"[{looped}]perspective=" + ":".join(f"{k}='{v}'" for k, v in corners.items())
                               + f":interpolation=linear:sense=source:eval=frame[{out}]")
            return self._finish(f"[{out}]null", frames)
        x, y = window("iw", "ih", "zoom")
        self.chains.append(
            f"[{fitted}]zoompan=z='{zoom}':x='{x}':y='{y}':d={frames}:s={self.size}:fps={self.fps}[{out}]")
        return self._finish(f"[{out}]null", frames)

    def _video(self, visual: LayerVisual, offset: int, frames: int) -> str:
        """Frames [offset, offset + frames) of a clip layer. Layer frame k shows the clip at
        source_in + k / rate; a looping clip wraps every source_length seconds, one that does not loop holds its
        last frame from source_in + source_length on. Each frame is the same whichever range it is asked in
        (a segment alone or a run), so pieces rendered either way join."""
        rate = self.timeline.rate
        length = visual.source_length
        end = None if length is None else visual.source_in + length  # nothing of the source from here on
        pieces: list[tuple[Fraction, int, int]] = []  # (source time of layer frame 0 in this cycle, first, count)
        if length is None or not visual.loop:
            live = frames + offset if length is None else max(rate.frames(length, "ceil"), 1)  # frames before `end`
            first = min(offset, live - 1)  # past the end: the last frame the clip showed, held
            pieces.append((visual.source_in, first, max(min(offset + frames, live) - first, 1)))
        else:
            period = length * rate.value  # layer frames per cycle (a fraction)
            cycle = int(Fraction(offset) / period)
            while len(pieces) < MAX_LOOP_PIECES:
                first = max(offset, -int(-cycle * period // 1))
                last = min(offset + frames, -int(-(cycle + 1) * period // 1))
                if first >= offset + frames:
                    break
                if last > first:
                    pieces.append((visual.source_in - cycle * length, first, last - first))
                cycle += 1
        labels = []
        for base, first, count in pieces:
            source_start = base + rate.seconds(first)
            # Which source frame an output frame shows must not depend on where decoding started: decode from a
            # few output frames earlier with fps's grid anchored there (every output frame at base + k / rate,
            # showing the source frame on screen then, whatever came first), then drop the lead-in.
            lead = self._lead_in(first, source_start)
            decode_from = source_start - rate.seconds(lead)
            decode_to = base + rate.seconds(first + count) + rate.seconds(1) / 2
            if end is not None:
                decode_to = min(decode_to, end)
            # One decoding thread: a run's decoders work beside x264's threads, and each more thread holds
            # more frames in memory without making the run faster.
            index = self.add_input(["-threads", "1", "-ss", seconds_str(decode_from),
                                    "-t", seconds_str(decode_to - decode_from), "-i", str(visual.path)])
            label = self.label()
            # trim=end: input -t lets through a frame that starts after it (one frame past a trimEnd or a loop's
            # end). tpad: exactly `count` frames even when the file ends early, so the pieces after keep their
            # places.
            self.chains.append(f"[{index}:v]trim=end={seconds_str(decode_to - decode_from)},"
                               f"fps={self.fps}:start_time=0,trim=start_frame={lead},setpts=PTS-STARTPTS,"
                               f"tpad=stop_mode=clone:stop={count},trim=end_frame={count},format=yuv420p,setsar=1"
                               f"[{label}]")
            labels.append(label)
        if len(labels) > 1:
            joined = self.label()
            self.chains.append("".join(f"[{l}]" for l in labels) + f"concat=n={len(labels)}:v=1:a=0[{joined}]")
            current = joined
        else:
            current = labels[0]
        fitted = self._fit(current, visual.fit, media_size=visual.media_size)
        # Hold the last frame for the rest (a clip that does not loop, past its end).
        padded = self.label()
        self.chains.append(f"[{fitted}]tpad=stop_mode=clone:stop={frames}[{padded}]")
        return self._finish(f"[{padded}]null", frames)

    def _lead_in(self, first: int, source_start: Fraction) -> int:
        """Output frames to decode before `source_start`, the source time of layer frame `first`.

        At least LEAD_IN_SECONDS, and where it can be, so many that decoding starts at a layer frame that is a
        multiple of `step` (3 at 30 fps, a whole number of microseconds): ffmpeg takes -ss in microseconds, and
        fps rounds a source frame that falls halfway between two output frames the same way each time only
        when every start lies exactly on the one grid."""
        rate = self.timeline.rate
        step = (Fraction(10**6) / rate.value).denominator
        room = rate.frames(source_start, "floor")  # the file has nothing before its start
        lead = rate.frames(LEAD_IN_SECONDS, "ceil")
        lead += (first - lead) % step
        if lead > room:
            lead = room - (room - first) % step
        return lead if lead >= 0 else room

    def text_clock_frames(self) -> int:
        return self.timeline.rate.frames(TEXT_CLOCK_SECONDS)

    # -- consecutive segments in one graph ---------------------------------------------------------
    def run(self, segments: list[Segment], ass_name: str | None, fonts_dir: Path) -> str:
        """The frames of consecutive `segments` as one stream: each scene layer is decoded (or its still
        scaled) once for all the segments that show it, then cut for each body and transition."""
        uses: dict[int, list[tuple[int, str, int, int]]] = {}  # layer id -> (segment, role, offset, frames)
        layers: dict[int, Layer] = {}
        for number, segment in enumerate(segments):
            frames = segment.range.duration
            parts = []
            if segment.transition is not None:
                parts = [("out", segment.transition[0]), ("in", segment.transition[1])]
            elif segment.scene is not None:
                parts = [("body", segment.scene)]
            for role, part in parts:
                layers[id(part.layer)] = part.layer
                uses.setdefault(id(part.layer), []).append((number, role, part.offset, frames))
        cut: dict[tuple[int, str], str] = {}
        for key, items in uses.items():
            low = min(offset for _, _, offset, _ in items)
            high = max(offset + frames for _, _, offset, frames in items)
            stream = self.visual(layers[key], low, high - low)
            branches = [stream]
            if len(items) > 1:
                branches = [self.label() for _ in items]
                self.chains.append(f"[{stream}]split={len(items)}" + "".join(f"[{b}]" for b in branches))
            for (number, role, offset, frames), branch in zip(items, branches):
                if (offset, frames) != (low, high - low):
                    trimmed = self.label()
                    self.chains.append(f"[{branch}]trim=start_frame={offset - low}:end_frame={offset - low + frames},"
                                       f"setpts=PTS-STARTPTS[{trimmed}]")
                    branch = trimmed
                cut[(number, role)] = branch
        pieces = []
        for number, segment in enumerate(segments):
            frames = segment.range.duration
            if segment.transition is not None:
                kind = segment.transition[2]
                piece, padded = self.label(), self.label()
                # xfade over the whole segment: both inputs last `frames`; the output then lasts `frames` too
                # when duration equals the segment, so pad the incoming side by the same length.
                duration = seconds_str(self.seconds(frames))
                self.chains.append(f"[{cut[(number, 'in')]}]tpad=stop_mode=clone:stop={frames}[{padded}]")
                self.chains.append(f"[{cut[(number, 'out')]}][{padded}]xfade=transition={kind}:duration={duration}:"
                                   f"offset=0,trim=end_frame={frames},setpts=PTS-STARTPTS,settb=1/({self.fps})[{piece}]")
            elif segment.scene is not None:
                piece = cut[(number, "body")]
            else:
                piece = self._source(f"color=c=black:s={self.size}:r={self.fps}", frames)
            pieces.append(piece)
        base = pieces[0]
        if len(pieces) > 1:
            base = self.label()
            # concat hands out microsecond timestamps; frame numbers again, or an overlay placed by time can
            # land one frame late.
            self.chains.append("".join(f"[{p}]" for p in pieces) + f"concat=n={len(pieces)}:v=1:a=0,"
                               f"settb=1/({self.fps}),setpts=N[{base}]")
        span = FrameRange(segments[0].range.start, segments[-1].range.end - segments[0].range.start)
        for layer in self.timeline.overlays:
            if not layer.range.overlaps(span):
                continue
            first = max(layer.range.start, span.start)
            shown = min(layer.range.end, span.end) - first
            over = self.visual(layer, first - layer.range.start, shown)
            shifted, out = self.label(), self.label()
            self.chains.append(f"[{over}]setpts=PTS+{first - span.start}/({self.fps})/TB[{shifted}]")
            self.chains.append(f"[{base}][{shifted}]overlay=eof_action=pass:repeatlast=0[{out}]")
            base = out
        if ass_name is not None:
            out = self.label()
            fonts = str(fonts_dir).replace("\\", "/").replace(":", "\\:").replace("'", "\\'")
            # The run plays from TEXT_CLOCK_SECONDS on the subtitle clock, so a line that began before it keeps
            # its place in its animation (\t, \fad) instead of starting it again here.
            self.chains.append(f"[{base}]settb=1/({self.fps}),setpts=PTS-STARTPTS+{self.text_clock_frames()},"
                               f"ass=filename={ass_name}:fontsdir='{fonts}'[{out}]")
            base = out
        self.chains.append(f"[{base}]format=yuv420p,trim=end_frame={span.duration},setpts=PTS-STARTPTS[vout]")
        return "vout"


# The fonts folder as a segment's identity names it: what the fonts hold counts (in the key), not where they are.
FONTS_PLACEHOLDER = Path("fonts")


def _run_graph(timeline: Timeline, segments: list[Segment], fonts_dir: Path, stills: Path) -> tuple[GraphBuilder, str, str]:
    """The graph (text) for `segments` and its subtitle file's text ("" when no text shows)."""
    builder = GraphBuilder(timeline, stills)
    span = FrameRange(segments[0].range.start, segments[-1].range.end - segments[0].range.start)
    texts = [_ending_by(event, span.end) for event in timeline.texts if event.range.overlaps(span)]
    ass_text = ""
    if texts:
        subs = build_ass(texts, timeline.styles, (timeline.width, timeline.height), timeline.rate,
                         offset=span.start - builder.text_clock_frames())
        ass_text = subs.to_string("ass")
    builder.run(segments, ASS_NAME if ass_text else None, fonts_dir)
    return builder, ";\n".join(builder.chains), ass_text


def _ending_by(event: TextEvent, end: int) -> TextEvent:
    """`event`, when it goes on after frame `end` and nothing of how it looks depends on when it ends, cut there:
    the same frames, and the same subtitle text (so the same key) for a segment however long a line shown at
    its end goes on (a caption line stays until the next one starts, which an edit of the next sentence moves)."""
    if event.range.end <= end or _end_matters(event.text):
        return event
    return replace(event, range=FrameRange(event.range.start, end - event.range.start))


def _end_matters(text: str) -> bool:
    """Whether an ASS line's override tags time anything from its end: a fade-out (\\fad's second time, \\fade),
    or a \\t or \\move over the whole line (without times of their own)."""
    for name, args in re.findall(r"\\(fade|fad|t|move)\(([^)]*)\)", text):
        parts = [part.strip() for part in args.split(",")]
        if name == "fade" or (name == "fad" and len(parts) > 1 and parts[1] not in ("0", "")):
            return True
        if name == "t" and not (len(parts) > 2 and all(_number(part) for part in parts[:2])):
            return True
        if name == "move" and len(parts) < 6:
            return True
    return False


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def segment_identity(timeline: Timeline, segment: Segment, quality: str, stills: Path) -> tuple[str, list[str]]:
    """What one segment's frames depend on: its graph and subtitles when rendered alone (the fonts folder named
    by a placeholder), and its input arguments (files named, to be replaced by their content). A segment
    rendered inside a run has the same frames."""
    builder, graph, ass_text = _run_graph(timeline, [segment], FONTS_PLACEHOLDER, stills)
    inputs = [arg for input_args in builder.inputs for arg in input_args]
    return graph + "\n" + ass_text + "\n" + " ".join(encoder_args(quality, timeline.rate)), inputs


def run_inputs(timeline: Timeline, segments: list[Segment], stills: Path) -> int:
    """How many files ffmpeg opens to render consecutive `segments` as one run (a looping clip opens its file
    once per repeat)."""
    builder = GraphBuilder(timeline, stills)
    builder.run(segments, None, FONTS_PLACEHOLDER)
    return len(builder.inputs)


def run_parts(timeline: Timeline, segments: list[Segment], stills: Path) -> tuple[list[list[str]], str, str]:
    """What one ffmpeg process rendering consecutive `segments` is made of: its inputs (each an argument list
    ending in `-i FILE`), its filter graph (libass's fonts folder named `fonts`, relative to the run's folder) and
    its subtitle file's text ("" when no text shows). `runs.RunSpec` turns these into plain data."""
    builder, graph, ass_text = _run_graph(timeline, segments, FONTS_PLACEHOLDER, stills)
    return builder.inputs, graph, ass_text


def run_output_args(rate: Rate, quality: str, frame_counts: list[int], threads: int | None = None) -> list[str]:
    """ffmpeg's arguments after the inputs of a run (run in its folder, beside `graph.txt`): one encode of the
    graph's [vout] with a keyframe at every segment's first frame, cut there into `piece000.mp4`,
    `piece001.mp4`, ... `threads`: x264's threads (its own choice when None; fewer when runs share the cores;
    x264's bitstream depends on it)."""
    boundaries, total = [], 0
    for frames in frame_counts:
        total += frames
        boundaries.append(total)
    boundaries.pop()
    args = ["-/filter_complex", "graph.txt", "-map", "[vout]", "-frames:v", str(total), "-r", rate.ffmpeg(),
            *encoder_args(quality, rate, muxer=False), *(["-threads", str(threads)] if threads else []), "-an"]
    if boundaries:
        args += ["-force_key_frames", "expr:" + "+".join(f"eq(n,{b})" for b in boundaries)]
    # The segment muxer cuts at the first keyframe at or after each boundary: exactly there.
    args += ["-f", "segment", "-segment_format", "mp4", "-segment_format_options", "video_track_timescale=90000",
             "-segment_frames", ",".join(map(str, boundaries or [total + 1])), "-reset_timestamps", "1",
             "piece%03d.mp4"]
    return args


def piece_path(workdir: Path, number: int) -> Path:
    """Where a run (`run_output_args`) writes the `number`th segment of its run."""
    return workdir / f"piece{number:03d}.mp4"
