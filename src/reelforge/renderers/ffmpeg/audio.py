"""The ffmpeg backend's audio pass: narration, effects and ducked music mixed, then loudness-normalized."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

from reelforge.process import CancelToken, RenderError, run_ffmpeg
from reelforge.timebase import seconds_str
from reelforge.timeline import AudioClip, Timeline

SAMPLE_RATE = 48000
AUDIO_VERSION = "7"  # bump when the mixing or loudness method changes: it is part of the cache key
TARGET_LUFS = -14.0
TARGET_TP = -1.0
DUCK_FRAME = 1024  # samples per frame into the ducking compressor (see mix_graph)


def _clip_chain(index: int, clip: AudioClip, timeline: Timeline, label: str) -> str:
    rate = timeline.rate
    start = rate.seconds(clip.range.start)
    duration = rate.seconds(clip.range.duration)
    delay = int(round(start * SAMPLE_RATE))
    parts = [f"[{index}:a]aresample={SAMPLE_RATE}", "aformat=sample_fmts=fltp:channel_layouts=stereo"]
    if clip.loop and clip.source_length is not None:
        # Loop the trimmed stretch itself (-stream_loop would restart at the file's start, not at source_in).
        parts.append(f"aloop=loop=-1:size={max(int(clip.source_length * SAMPLE_RATE), 1)}")
    parts += [f"atrim=duration={seconds_str(duration)}", "asetpts=PTS-STARTPTS"]
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
    if clip.loop and clip.source_length is None:
        args += ["-stream_loop", "-1"]
    if clip.source_in > 0:
        args += ["-ss", seconds_str(clip.source_in)]
    if clip.source_length is not None:
        args += ["-t", seconds_str(clip.source_length)]
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
            # Both sides in frames of one size first: how the compressor's two inputs' frames line up otherwise
            # follows ffmpeg's thread timing, and so did the ducked music (7 different mixes in 8 runs).
            chains.append(f"[music]asetnsamples=n={DUCK_FRAME}:p=0[musicframes]")
            chains.append(f"[voicekey]asetnsamples=n={DUCK_FRAME}:p=0[keyframes]")
            chains.append(f"[musicframes][keyframes]sidechaincompress=threshold=0.015:ratio={ratio:.2f}:attack=15:"
                          f"release=350:knee=4:makeup=1[ducked]")
            bus.append("ducked")
        else:
            bus.append("music")
    chains.append("".join(f"[{l}]" for l in bus) + f"amix=inputs={len(bus)}:normalize=0:duration=first,"
                  f"atrim=duration={total}[mix]")
    return inputs, ";\n".join(chains)


def render_audio(timeline: Timeline, workdir: Path, output: Path, cancel: CancelToken | None = None) -> dict:
    """Mix to WAV; bring it to -14 LUFS with a gain and a peak limiter (measured, then corrected once);
    encode AAC into `output` (.m4a). Returns the final measurement."""
    inputs, graph = mix_graph(timeline)
    # The mix's own loudness is measured as it is written (one process, one pass over the samples fewer).
    graph += ";\n[mix]asplit[mixed][measured];\n[measured]ebur128=peak=true:framelog=quiet,anullsink"
    (workdir / "audio-graph.txt").write_text(graph, encoding="utf-8")
    mix_path = workdir / "mix.wav"
    stderr = run_ffmpeg([*inputs, "-/filter_complex", "audio-graph.txt", "-map", "[mixed]", "-c:a", "pcm_f32le", "-ar",
                         str(SAMPLE_RATE), str(mix_path)], cwd=workdir, cancel=cancel, what="audio mix", loglevel="info")
    first = _loudness(stderr)
    chain = "anull"
    if first["input_i"] > -70:  # silence has nothing to normalize
        # The limiter takes some loudness away with the peaks: measure through it and correct the gain
        # (secant steps: loudness through a limiter grows less than the gain does).
        previous: tuple[float, float] | None = None
        gain = TARGET_LUFS - first["input_i"]
        for _ in range(6):
            chain = f"volume={gain:.3f}dB,{LIMITER}"
            measured = measure_loudness(mix_path, chain, workdir, cancel, peak=False)["input_i"]
            if abs(TARGET_LUFS - measured) < 0.1:
                break
            slope = 1.0
            if previous is not None and measured != previous[1]:
                slope = min(max((gain - previous[0]) / (measured - previous[1]), 1.0), 4.0)
            previous = (gain, measured)
            gain += (TARGET_LUFS - measured) * slope
    run_ffmpeg(["-i", str(mix_path), "-af", f"{chain},aresample={SAMPLE_RATE}", *aac_args(timeline.quality),
                "-ar", str(SAMPLE_RATE), "-t", seconds_str(timeline.duration), str(output)],
               cwd=workdir, cancel=cancel, what="audio encode")
    return first


def aac_args(quality: str) -> list[str]:
    """AAC at 192 kb/s. Below studio quality, ffmpeg's `fast` coder: a third of the default coder's time (0.22 s
    against 0.65 s for 30 s of stereo here), with no audible difference at this rate for voice over music."""
    coder = [] if quality == "studio" else ["-aac_coder", "fast"]
    return ["-c:a", "aac", *coder, "-b:a", "192k"]


# A sample-peak limiter 2 dB under full scale: leaves room for the small correction gain and for AAC's
# overshoot while keeping the true peak under -1 dBTP.
LIMITER = "alimiter=limit=0.7943:attack=3:release=60:level=false:asc=1"


def measure_loudness(path: Path, chain: str, workdir: Path, cancel: CancelToken | None, peak: bool = True) -> dict:
    """Integrated loudness (LUFS) and, with `peak`, true peak (dBTP; else -inf) of `path` after the filter `chain`
    (EBU R128). The true peak (4x oversampled) costs more than the loudness itself."""
    stderr = run_ffmpeg(["-i", str(path), "-af", f"{chain},ebur128=peak={'true' if peak else 'none'}:framelog=quiet",
                         "-f", "null", "-"], cwd=workdir, cancel=cancel, what="loudness measure", loglevel="info")
    return _loudness(stderr)


def _loudness(stderr: str) -> dict:
    """The integrated loudness and true peak ebur128 printed in its summary (the last one in `stderr`)."""
    summary = stderr[stderr.rfind("Summary:"):]
    loudness = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if not loudness:
        raise RenderError("loudness analysis printed no measurement")
    return {"input_i": float(loudness.group(1)), "input_tp": float(peak.group(1)) if peak else float("-inf")}
