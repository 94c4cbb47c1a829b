"""Compile a resolved document into a frame-exact Timeline: scenes laid out by `document.lengths`, text placed,
captions timed, sounds and cards put on their tracks."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from reelforge.document.lengths import lay_out, video_frames
from reelforge.model import CardVisual, ColorVisual, GradientVisual, ImageVisual, VideoVisual
from reelforge.model.blocks import AudioBlock, CardBlock, ImageBlock, TextBlock, VideoBlock
from reelforge.resolve.resolver import ResolvedDocument, ResolvedScene
from reelforge.timebase import FrameRange, to_fraction
from reelforge.timeline import AudioClip, Layer, LayerVisual, MusicMix, Timeline
from reelforge.timeline.captions import caption_styles, scene_captions, sentence_breaks
from reelforge.timeline.text_layout import TextLayout

DRAFT_SCALE = Fraction(1, 2)


def frame_size(resolved: ResolvedDocument) -> tuple[int, int]:
    width, height = resolved.document.output.frame_size()
    if resolved.document.output.quality == "draft":
        width, height = int(width * DRAFT_SCALE) // 2 * 2, int(height * DRAFT_SCALE) // 2 * 2
    return width, height


def compile_timeline(resolved: ResolvedDocument) -> Timeline:
    document = resolved.document
    rate = resolved.rate
    width, height = frame_size(resolved)
    layout = TextLayout(width, height, rate, document.theme)
    timeline = Timeline(rate, width, height, 0, name=document.name)

    track = lay_out([item.scene for item in resolved.scenes], [item.frames for item in resolved.scenes], rate)
    incoming = 0
    for index, (item, start) in enumerate(zip(resolved.scenes, track.starts)):
        scene = item.scene
        transition_frames = track.transitions[index]
        transition = scene.transition.type if transition_frames else None
        timeline.scenes.append(Layer(FrameRange(start, item.frames), _scene_visual(item, document.theme),
                                     scene.id, transition, transition_frames))
        # A scene's own text (card, overlays) shows while the scene is fully on screen, not during the
        # transitions in and out, where it would not move with the picture.
        text_start, text_end = start + incoming, start + item.frames - transition_frames
        incoming = transition_frames
        if scene.card_overlay is not None:
            overlay_card = scene.card_overlay
            a = start + rate.frames(overlay_card.start)
            b = start + item.frames if overlay_card.duration is None else min(
                start + rate.frames(overlay_card.start + overlay_card.duration), start + item.frames)
            if b > a:
                timeline.overlays.append(Layer(FrameRange(a, b - a), _card_visual(overlay_card.card, document.theme, None, True),
                                               f"{scene.id}.cardOverlay"))
        for o_index, overlay in enumerate(scene.overlays):
            a = max(start + rate.frames(overlay.start), text_start)
            b = text_end if overlay.duration is None else min(start + rate.frames(overlay.start + overlay.duration), text_end)
            layout.placed(overlay.text, overlay.placement, overlay.style, a, b, f"{scene.id}.overlays[{o_index}]")
        if item.speech is not None:
            spoken = min(rate.frames(item.speech.duration, rounding="ceil"), item.frames)
            timeline.audio.append(AudioClip(item.speech.audio_path, FrameRange(start, spoken), "narration", owner=scene.id))
            if document.captions.enabled and item.speech.words:
                # Captions end where the next scene starts: two scenes' lines never share the screen.
                events, cues = scene_captions(item.speech.words, document.captions, rate, start,
                                              item.frames - transition_frames, scene.id)
                layout.events.extend(events)
                timeline.cues.extend(cues)
                timeline.breaks.extend(sentence_breaks(item.speech.words, rate, start))
        if isinstance(scene.visual, VideoVisual) and scene.visual.volume > 0 and item.media and item.media.has_audio:
            v = scene.visual
            trim_end = to_fraction(v.trim_end) if v.trim_end is not None else None
            timeline.audio.append(_media_sound(item.media, FrameRange(start, item.frames), to_fraction(v.trim_start),
                                               trim_end, v.volume, v.loop, scene.id))

    for index, block in enumerate(document.blocks):
        a, b = rate.frames(block.start), rate.frames(block.end)
        owner = f"blocks[{index}]"
        media = resolved.block_media.get(index)
        if isinstance(block, (VideoBlock, ImageBlock)) and media is not None:
            visual = _media_visual(media, block.fit, to_fraction(getattr(block, "trim_start", 0)), None,
                                   getattr(block, "loop", False), "none", 0.0)
            timeline.overlays.append(Layer(FrameRange(a, b - a), visual, owner))
            if isinstance(block, VideoBlock) and block.volume > 0 and media.has_audio:
                timeline.audio.append(_media_sound(media, FrameRange(a, b - a), to_fraction(block.trim_start), None,
                                                   block.volume, block.loop, owner))
        elif isinstance(block, CardBlock):
            timeline.overlays.append(Layer(FrameRange(a, b - a), _card_visual(block.card, document.theme, None, True), owner))
        elif isinstance(block, TextBlock):
            layout.placed(block.text, block.placement, block.style, a, b, owner, layer=6)
        elif isinstance(block, AudioBlock) and media is not None:
            sound = _media_sound(media, FrameRange(a, b - a), to_fraction(block.trim_start), None, block.volume,
                                 block.loop, owner)
            timeline.audio.append(replace(sound, fade_in=to_fraction(block.fade_in), fade_out=to_fraction(block.fade_out)))
    total = video_frames(document, track, rate)
    timeline.frames = total

    music = document.music
    if resolved.music is not None and music is not None:
        timeline.audio.append(AudioClip(resolved.music.path, FrameRange(0, total), "music", volume=music.volume,
                                        fade_in=to_fraction(music.fade_in), fade_out=to_fraction(music.fade_out),
                                        loop=True, owner="music"))
        timeline.music_mix = MusicMix(music.ducking, music.duck_amount)
    timeline.styles = {**caption_styles(document.captions, document.theme, width, height), **layout.styles}
    # A fixed document duration cuts everything that would run past it.
    timeline.texts = [replace(e, range=r) for e in layout.events if (r := _clip(e.range, total))]
    timeline.cues = [replace(c, range=r) for c in timeline.cues if (r := _clip(c.range, total))]
    timeline.audio = [replace(a, range=r) for a in timeline.audio if (r := _clip(a.range, total))]
    return timeline


def _clip(span: FrameRange, total: int) -> FrameRange | None:
    end = min(span.end, total)
    return FrameRange(span.start, end - span.start) if end > span.start else None


def _media_sound(media, span: FrameRange, trim_start: Fraction, trim_end: Fraction | None, volume: float,
                 loop: bool, owner: str) -> AudioClip:
    """A clip's own sound: the same trimmed stretch as its picture, looped the same way."""
    end = trim_end if trim_end is not None else media.duration
    length = (end - trim_start) if end is not None else None
    return AudioClip(media.path, span, "effect", source_in=trim_start, volume=volume, loop=loop,
                     source_length=length, owner=owner)


def _scene_visual(item: ResolvedScene, theme) -> LayerVisual:
    visual = item.scene.visual
    if isinstance(visual, ColorVisual):
        return LayerVisual("color", colors=(visual.color,))
    if isinstance(visual, GradientVisual):
        return LayerVisual("gradient", colors=tuple(visual.colors), angle=visual.angle)
    if isinstance(visual, CardVisual):
        return _card_visual(visual.card, theme, visual.background, False)
    assert item.media is not None
    if isinstance(visual, VideoVisual):
        trim_end = to_fraction(visual.trim_end) if visual.trim_end is not None else None
        return _media_visual(item.media, visual.fit, to_fraction(visual.trim_start), trim_end, visual.loop, "none", 0.0)
    assert isinstance(visual, ImageVisual)
    return _media_visual(item.media, visual.fit, Fraction(0), None, False, visual.motion, visual.motion_amount)


def _media_visual(media, fit: str, trim_start: Fraction, trim_end: Fraction | None, loop: bool, motion: str, amount: float) -> LayerVisual:
    size = (media.width, media.height) if media.width and media.height else None
    if media.is_image:
        return LayerVisual("image", path=media.path, fit=fit, motion=motion, motion_amount=amount, media_size=size)
    end = trim_end if trim_end is not None else media.duration
    length = (end - trim_start) if end is not None else None
    if length is not None and length <= 0:
        from reelforge.resolve.media import MediaError

        raise MediaError(f"{media.path.name}: trimStart {float(trim_start):g} s is past the clip's end ({float(end):g} s)")
    return LayerVisual("video", path=media.path, fit=fit, source_in=trim_start, source_length=length, loop=loop, media_size=size)



def _card_visual(card, theme, background: str | None, transparent: bool) -> LayerVisual:
    """A card, drawn by the card registry (manim) over the layer's whole length when the pipeline runs."""
    return LayerVisual("card", card=card, theme=theme, colors=(background,) if background else (), transparent=transparent)
