"""The ffmpeg backend's audio pass: narration, effects and ducked music mixed, then loudness-normalized."""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

from reelforge.render.process import CancelToken, RenderError, run_ffmpeg
from reelforge.timebase import seconds_str
from reelforge.timeline import AudioClip, Timeline

SAMPLE_RATE = 48000
TARGET_LUFS = -14.0
TARGET_TP = -1.5  # a little under the -1 dBTP ceiling: AAC encoding adds a few tenths of a dB of peak
TARGET_LRA = 11.0


def _clip_chain(index: int, clip: AudioClip, timeline: Timeline, label: str) -> str:
    rate = timeline.rate
    start = rate.seconds(clip.range.start)
    duration = rate.seconds(clip.range.duration)
    delay = int(round(start * SAMPLE_RATE))
    parts = [f"[{index}:a]aresample={SAMPLE_RATE}", "aformat=sample_fmts=fltp:channel_layouts=stereo",
             f"atrim=duration={seconds_str(duration)}", "asetpts=PTS-STARTPTS"]
    if clip.volume != 1:
        parts.append(f"volume={clip.volume:.4f}")
    if clip.fade_in > 0:
        parts.append(f"afade=t=in:d={seconds_str(clip.fade_in)}")
    if clip.fade_out > 0:
        parts.append(f"afade=t=out:st={seconds_str(max(duration - clip.fade_out, Fraction(0)))}:d={seconds_str(clip.fade_out)}")
    if delay:
        parts.append(f"adelay={delay}S:all=1")
    return ",".join(parts) + f"[{label}]"


def _input_args(clip: AudioClip) -> list[str]:
    args = []
    if clip.loop:
        args += ["-stream_loop", "-1"]
    if clip.source_in > 0:
        args += ["-ss", seconds_str(clip.source_in)]
    return [*args, "-i", str(clip.path)]


def mix_graph(timeline: Timeline) -> tuple[list[str], str]:
    """Inputs and filter graph that produce [mix]: the full-length stereo mix, before loudness."""
    total = seconds_str(timeline.duration)
    inputs: list[str] = ["-f", "lavfi", "-t", total, "-i", f"anullsrc=r={SAMPLE_RATE}:cl=stereo"]
    chains: list[str] = []
    voices, effects, music = [], [], []
    for number, clip in enumerate(timeline.audio, start=1):
        inputs += _input_args(clip)
        label = f"a{number}"
        chains.append(_clip_chain(number, clip, timeline, label))
        {"narration": voices, "effect": effects, "music": music}[clip.role].append(label)

    def mix(labels: list[str], out: str) -> None:
        if len(labels) == 1:
            chains.append(f"[{labels[0]}]anull[{out}]")
        else:
            chains.append("".join(f"[{l}]" for l in labels) + f"amix=inputs={len(labels)}:normalize=0:duration=longest[{out}]")

    bus = ["0:a"]
    if voices:
        mix(voices, "voice")
        if music and timeline.music_mix.ducking:
            chains.append("[voice]asplit[voicemix][voicekey]")
            bus.append("voicemix")
        else:
            bus.append("voice")
    if effects:
        mix(effects, "fx")
        bus.append("fx")
    if music:
        mix(music, "music")
        if voices and timeline.music_mix.ducking:
            ratio = max(10 ** (timeline.music_mix.duck_db / 20), 1.0)
            chains.append(f"[music][voicekey]sidechaincompress=threshold=0.015:ratio={ratio:.2f}:attack=15:release=350:"
                          f"knee=4:makeup=1[ducked]")
            bus.append("ducked")
        else:
            bus.append("music")
    chains.append("".join(f"[{l}]" for l in bus) + f"amix=inputs={len(bus)}:normalize=0:duration=first,"
                  f"atrim=duration={total}[mix]")
    return inputs, ";\n".join(chains)


def render_audio(timeline: Timeline, workdir: Path, output: Path, cancel: CancelToken | None = None) -> dict:
    """Mix to WAV, measure loudness, then normalize (linear, two-pass) and encode AAC into `output` (.m4a)."""
    inputs, graph = mix_graph(timeline)
    (workdir / "audio-graph.txt").write_text(graph, encoding="utf-8")
    mix_path = workdir / "mix.wav"
    run_ffmpeg([*inputs, "-/filter_complex", "audio-graph.txt", "-map", "[mix]", "-c:a", "pcm_f32le", "-ar",
                str(SAMPLE_RATE), str(mix_path)], cwd=workdir, cancel=cancel, what="audio mix")
    measure = run_ffmpeg_loglevel_info(
        ["-i", str(mix_path), "-af", f"loudnorm=I={TARGET_LUFS}:TP={TARGET_TP}:LRA={TARGET_LRA}:print_format=json",
         "-f", "null", "-"], workdir, cancel)
    stats = _loudnorm_json(measure)
    silent = float(stats.get("input_i", "-inf")) < -60 if stats.get("input_i") not in (None, "-inf") else True
    if silent:
        filters = f"aresample={SAMPLE_RATE}"
    else:
        filters = (f"loudnorm=I={TARGET_LUFS}:TP={TARGET_TP}:LRA={TARGET_LRA}:measured_I={stats['input_i']}:"
                   f"measured_TP={stats['input_tp']}:measured_LRA={stats['input_lra']}:"
                   f"measured_thresh={stats['input_thresh']}:offset={stats['target_offset']}:linear=true,"
                   f"aresample={SAMPLE_RATE}")
    run_ffmpeg(["-i", str(mix_path), "-af", filters, "-c:a", "aac", "-b:a", "192k", "-ar", str(SAMPLE_RATE),
                "-t", seconds_str(timeline.duration), str(output)], cwd=workdir, cancel=cancel, what="audio encode")
    return stats


def run_ffmpeg_loglevel_info(args: list[str], workdir: Path, cancel: CancelToken | None) -> str:
    """Run ffmpeg keeping filter reports (loudnorm prints its JSON at info level)."""
    import subprocess

    from reelforge.render.process import ffmpeg_exe

    if cancel is not None:
        cancel.raise_if_cancelled()
    result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args], cwd=workdir,
                            capture_output=True, text=True, errors="replace")
    if result.returncode != 0:
        raise RenderError(f"loudness analysis failed: {result.stderr.strip().splitlines()[-1:]}")
    return result.stderr


def _loudnorm_json(stderr: str) -> dict:
    match = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", stderr, re.S)
    if not match:
        raise RenderError("loudness analysis printed no measurements")
    return json.loads(match.group(0))
