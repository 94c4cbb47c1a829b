"""What the MLT and Kdenlive adapters leave out, put back so that MLT (melt, Kdenlive) plays the file as we do.

Found by rendering their output with melt (otio-mlt-adapter 0.3.0, otio-kdenlive-adapter 0.0.3):
- neither writes transitions between tracks, so an upper track replaces everything under it (an overlay with
  transparent parts shows black around them) and only one track is heard: a `composite` per video track (it
  keeps the picture bit-exact) and a `mix` per track are added;
- a video track's clips are heard, an audio track's would be seen: tracks hide what they are not;
- the MLT writer gives file:// URLs as resources and no producer for stills: plain paths, `pixbuf` for stills,
  also instead of the Kdenlive writer's `qimage` (which needs a display, and headless, under
  QT_QPA_PLATFORM=offscreen, drew a red-blue gradient PNG wrong: 3 dB against the file; `importer` reads
  `pixbuf` stills back as Kdenlive's reader expects them);
- the Kdenlive writer always writes a 1920x1080 16:9 profile, a black background track of MLT's default
  length (15000 frames) and no length on the main tractor: the profile, the lengths and the frame rate are set.
MLT converts untagged pictures with BT.601 under 720 lines and BT.709 from 720 on: the profile says the same.
"""

from __future__ import annotations

import math
import urllib.parse
from xml.etree import ElementTree as ET

from reelforge.resolve.media import IMAGE_SUFFIXES


def colorspace(width: int, height: int) -> int:
    return 709 if min(width, height) >= 720 else 601


def profile(timeline) -> dict[str, str]:
    """The profile attributes of a timeline's frame: size, square pixels, progressive, rate, colorspace."""
    w, h = timeline.width, timeline.height
    g = math.gcd(w, h)
    rate = timeline.rate.value
    return {"description": f"reelforge {w}x{h} {timeline.rate.ffmpeg()} fps", "width": str(w), "height": str(h),
            "progressive": "1", "sample_aspect_num": "1", "sample_aspect_den": "1",
            "display_aspect_num": str(w // g), "display_aspect_den": str(h // g),
            "frame_rate_num": str(rate.numerator), "frame_rate_den": str(rate.denominator),
            "colorspace": str(colorspace(w, h))}


def _property(parent, name: str, value) -> ET.Element:
    element = ET.SubElement(parent, "property", name=name)
    element.text = str(value)
    return element


def _fix_resources(root: ET.Element, still_service: str | None = "pixbuf") -> None:
    """Plain paths for file:// URLs; `still_service` for stills without a producer (and instead of `qimage`,
    unless None: Kdenlive's own files keep `qimage`, which Kdenlive and its reader know)."""
    for producer in root.iter("producer"):
        resource = producer.find("./property[@name='resource']")
        if resource is None or not resource.text:
            continue
        if resource.text.startswith("file://"):
            resource.text = urllib.parse.unquote(urllib.parse.urlparse(resource.text).path)
        service = producer.find("./property[@name='mlt_service']")
        if resource.text.lower().endswith(tuple(IMAGE_SUFFIXES)) and still_service is not None:
            if service is None:
                _property(producer, "mlt_service", still_service)
            elif service.text == "qimage":
                service.text = still_service


def _add_track_transitions(tractor: ET.Element, audio_indices: set[int], count: int, extra: dict | None = None) -> None:
    """A `mix` (sound summed) for every track over the background, a `composite` for every video track."""
    for index in range(1, count):
        mix = ET.SubElement(tractor, "transition")
        for name, value in (("a_track", 0), ("b_track", index), ("mlt_service", "mix"), ("combine", 1),
                            ("always_active", 1), ("sum", 1), *(extra or {}).items()):
            _property(mix, name, value)
        if index not in audio_indices:
            composite = ET.SubElement(tractor, "transition")
            for name, value in (("a_track", 0), ("b_track", index), ("mlt_service", "composite"),
                                ("always_active", 1), ("geometry", "0/0:100%x100%"), ("fill", 1),
                                *(extra or {}).items()):
                _property(composite, name, value)


def _text(root: ET.Element) -> str:
    ET.indent(root, "    ")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def fix_mlt(xml_text: str, otio_timeline, timeline) -> str:
    """The MLT adapter's output, made to play as reelforge renders it."""
    import opentimelineio as otio

    root = ET.fromstring(xml_text)
    _fix_resources(root)
    audio_ids = {track.name for track in otio_timeline.tracks if track.kind == otio.schema.TrackKind.Audio}
    main = root.find("./tractor[@id='tractor0']")
    tracks = main.find("multitrack").findall("track")
    audio_indices = set()
    for index, track in enumerate(tracks):
        if index == 0:
            continue
        if track.get("producer") in audio_ids:
            track.set("hide", "video")
            audio_indices.add(index)
        else:
            track.set("hide", "audio")
    _add_track_transitions(main, audio_indices, len(tracks))
    main.set("in", "0")
    main.set("out", str(timeline.frames - 1))
    return _text(root)


def fix_kdenlive(xml_text: str, otio_timeline, timeline) -> str:
    """The Kdenlive adapter's output with our profile, lengths, still producers and track transitions."""
    root = ET.fromstring(xml_text)
    frames = timeline.frames
    element = root.find("profile")
    for name, value in profile(timeline).items():
        element.set(name, value)
    _fix_resources(root)
    black = root.find("./producer[@id='black_track']")
    black.set("in", "0")
    black.set("out", str(frames - 1))
    _property(black, "length", frames)
    main = root.findall("tractor")[-1]
    main.set("in", "0")
    main.set("out", str(frames - 1))
    tractors = {t.get("id"): t for t in root.findall("tractor")}
    tracks = main.findall("track")
    audio_indices = set()
    for index, track in enumerate(tracks):
        sub = tractors.get(track.get("producer"))
        if sub is not None and sub.findtext("./property[@name='kdenlive:audio_track']") == "1":
            audio_indices.add(index)
    _add_track_transitions(main, audio_indices, len(tracks), {"internal_added": 237})
    return _text(root)


MELT_FAILURES = ("failed to load", "requires a X11", "Failed to load")


def melt_command(project, output, *, crf: int = 18) -> list[str]:
    """The melt command line that renders an .mlt or .kdenlive file to H.264 + AAC MP4 without a display."""
    return ["melt", "-quiet", str(project), "-consumer", f"avformat:{output}", "vcodec=libx264", "preset=veryfast",
            f"crf={crf}", "pix_fmt=yuv420p", "acodec=aac", "ab=160k", "real_time=-2"]
