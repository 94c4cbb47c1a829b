"""Joining a render's pieces (one H.264 track each, as a run's segment muxer writes them) into one MP4, without
ffmpeg's concat demuxer, which opens and probes every piece (decoding its first frame) on the way: W's final mux
took 0.25 s through it and takes 0.07 s from the joined file, where the pieces' sample tables say all it needs.

The pieces' samples are copied back to back and their tables joined: decode times run on from one piece to the
next, each sample keeps its composition offset, and the one edit list shifts the whole track by the pieces'
shared B-frame delay, as the concat demuxer's timestamps do. Anything else than what the segment muxer writes
(another track, another sample description or delay, fragments) is a JoinError: the caller falls back to
ffmpeg's concat demuxer.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

# The boxes a joined file is made of: the first piece's, but for the sample tables and durations.
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts"}


class JoinError(Exception):
    """The pieces are not all one H.264 track the way a run writes them: join them another way."""


@dataclass
class _Piece:
    path: Path
    boxes: dict[bytes, bytes] = field(default_factory=dict)  # the leaf boxes of moov (whole, header included)
    mdat: tuple[int, int] = (0, 0)  # (file offset of the payload, its length)
    ftyp: bytes = b""
    timescale: int = 0  # the track's (mdhd)
    movie_timescale: int = 0  # mvhd's (the segment muxer writes 1000 or 90000)
    delay: int = 0  # the edit list's media time: where presentation starts, in the track's time scale
    stts: list[tuple[int, int]] = field(default_factory=list)
    ctts: list[tuple[int, int]] = field(default_factory=list)
    ctts_version: int = 0
    stss: list[int] | None = None  # None: every sample is a keyframe
    sizes: list[int] = field(default_factory=list)
    stsc: list[tuple[int, int, int]] = field(default_factory=list)
    chunks: list[int] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return len(self.sizes)

    @property
    def duration(self) -> int:
        return sum(count * delta for count, delta in self.stts)


def _walk(data: bytes, start: int, end: int):
    """(kind, box start, payload start, box end) of each box in data[start:end]."""
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            size = struct.unpack_from(">Q", data, at + 8)[0]
            header = 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            raise JoinError("a box runs past its parent")
        yield kind, at, at + header, at + size
        at += size


def _top_level(path: Path) -> tuple[bytes, tuple[int, int], bytes]:
    """The piece's ftyp box, its mdat payload (offset, length) and its moov box's payload."""
    ftyp, mdat, moov = b"", None, None
    with open(path, "rb") as handle:
        length = os.fstat(handle.fileno()).st_size
        at = 0
        while at + 8 <= length:
            handle.seek(at)
            head = handle.read(16)
            size, kind = struct.unpack_from(">I4s", head)
            header = 8
            if size == 1:
                size = struct.unpack_from(">Q", head, 8)[0]
                header = 16
            elif size == 0:
                size = length - at
            if size < header or at + size > length:
                raise JoinError(f"{path.name}: a box runs past the end of the file")
            if kind == b"ftyp":
                handle.seek(at)
                ftyp = handle.read(size)
            elif kind == b"mdat":
                if mdat is not None:
                    raise JoinError(f"{path.name}: more than one mdat")
                mdat = (at + header, size - header)
            elif kind == b"moov":
                handle.seek(at + header)
                moov = handle.read(size - header)
            elif kind in (b"moof", b"mfra", b"sidx"):
                raise JoinError(f"{path.name}: a fragmented file")
            at += size
    if mdat is None or moov is None or not ftyp:
        raise JoinError(f"{path.name}: not a whole MP4 (ftyp, mdat and moov)")
    return ftyp, mdat, moov


def _read_piece(path: Path) -> _Piece:
    ftyp, mdat, moov = _top_level(path)
    piece = _Piece(path, ftyp=ftyp, mdat=mdat)
    tracks = 0

    def visit(start: int, end: int) -> None:
        nonlocal tracks
        for kind, box, payload, box_end in _walk(moov, start, end):
            if kind == b"trak":
                tracks += 1
            if kind in _CONTAINERS:
                visit(payload, box_end)
            else:
                piece.boxes[kind] = moov[box:box_end]

    visit(0, len(moov))
    if tracks != 1:
        raise JoinError(f"{path.name}: {tracks} tracks")
    for needed in (b"mvhd", b"tkhd", b"mdhd", b"hdlr", b"stsd", b"stts", b"stsz", b"stsc", b"elst"):
        if needed not in piece.boxes:
            raise JoinError(f"{path.name}: no {needed.decode()} box")
    if b"stco" not in piece.boxes and b"co64" not in piece.boxes:
        raise JoinError(f"{path.name}: no chunk offsets")
    boxes = piece.boxes

    def body(kind: bytes) -> bytes:
        box = boxes[kind]
        return box[16:] if struct.unpack_from(">I", box)[0] == 1 else box[8:]

    mvhd = body(b"mvhd")
    piece.movie_timescale = struct.unpack_from(">I", mvhd, 20 if mvhd[0] == 1 else 12)[0]
    mdhd = body(b"mdhd")
    piece.timescale = struct.unpack_from(">I", mdhd, 20 if mdhd[0] == 1 else 12)[0]
    elst = body(b"elst")
    form, width = (">QqI", 20) if elst[0] == 1 else (">IiI", 12)
    edits = [struct.unpack_from(form, elst, 8 + width * i) for i in range(struct.unpack_from(">I", elst, 4)[0])]
    # A leading empty edit (the segment muxer writes one for a piece whose first frame it saw late) shifts
    # where the piece starts on its own clock, which the concat demuxer drops too: each piece starts where the
    # one before ends.
    if edits and edits[0][1] == -1:
        edits = edits[1:]
    if len(edits) != 1 or edits[0][2] != 0x10000 or edits[0][1] < 0:
        raise JoinError(f"{path.name}: an edit list that is not a plain shift")
    piece.delay = edits[0][1]
    stts = body(b"stts")
    piece.stts = [struct.unpack_from(">II", stts, 8 + 8 * i) for i in range(struct.unpack_from(">I", stts, 4)[0])]
    if b"ctts" in boxes:
        ctts = body(b"ctts")
        piece.ctts_version = ctts[0]
        form = ">Ii" if ctts[0] == 1 else ">II"
        piece.ctts = [struct.unpack_from(form, ctts, 8 + 8 * i) for i in range(struct.unpack_from(">I", ctts, 4)[0])]
    if b"stss" in boxes:
        stss = body(b"stss")
        piece.stss = list(struct.unpack_from(f">{struct.unpack_from('>I', stss, 4)[0]}I", stss, 8))
    stsz = body(b"stsz")
    uniform, count = struct.unpack_from(">II", stsz, 4)
    piece.sizes = [uniform] * count if uniform else list(struct.unpack_from(f">{count}I", stsz, 12))
    stsc = body(b"stsc")
    piece.stsc = [struct.unpack_from(">III", stsc, 8 + 12 * i) for i in range(struct.unpack_from(">I", stsc, 4)[0])]
    if b"co64" in boxes:
        co64 = body(b"co64")
        piece.chunks = list(struct.unpack_from(f">{struct.unpack_from('>I', co64, 4)[0]}Q", co64, 8))
    else:
        stco = body(b"stco")
        piece.chunks = list(struct.unpack_from(f">{struct.unpack_from('>I', stco, 4)[0]}I", stco, 8))
    if sum(count for count, _ in piece.stts) != piece.samples or (
            piece.ctts and sum(count for count, _ in piece.ctts) != piece.samples):
        raise JoinError(f"{path.name}: its tables disagree on how many samples it holds")
    start, payload = piece.mdat
    if any(not start <= chunk < start + payload for chunk in piece.chunks):
        raise JoinError(f"{path.name}: a chunk outside its mdat")
    return piece


def _decoding(stsd: bytes) -> bytes:
    """A sample description without its bitrate box (btrt: each piece's own rates, which the final mux
    recounts): what decoding the samples needs."""
    at = stsd.find(b"btrt")
    if at < 4:
        return stsd
    size = struct.unpack_from(">I", stsd, at - 4)[0]
    return stsd[:at - 4] + stsd[at - 4 + size:]


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _full(kind: bytes, version: int, payload: bytes) -> bytes:
    return _box(kind, bytes([version, 0, 0, 0]) + payload)


def _runs(values: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(count, value) entries with neighbours of one value merged."""
    merged: list[list[int]] = []
    for count, value in values:
        if merged and merged[-1][1] == value:
            merged[-1][0] += count
        else:
            merged.append([count, value])
    return [(count, value) for count, value in merged]


def _with_duration(box: bytes, offset_v0: int, offset_v1: int, duration: int) -> bytes:
    """A full box (mvhd, tkhd, mdhd) with its duration field set (version 0: 32 bits, 1: 64)."""
    data = bytearray(box)
    header = 16 if struct.unpack_from(">I", box)[0] == 1 else 8
    if data[header] == 1:
        struct.pack_into(">Q", data, header + offset_v1, duration)
    else:
        if duration >= 1 << 32:
            raise JoinError("too long for a version 0 box")
        struct.pack_into(">I", data, header + offset_v0, duration)
    return bytes(data)


def join_pieces(paths: list[Path], out: Path) -> int:
    """Write the H.264 pieces `paths`, one after the other, as one MP4 (video only) at `out`; its frame count.
    A JoinError (and nothing at `out`) when they are not all alike."""
    pieces = [_read_piece(path) for path in paths]
    if not pieces:
        raise JoinError("nothing to join")
    first = pieces[0]
    for piece in pieces[1:]:
        if (_decoding(piece.boxes[b"stsd"]), piece.timescale, piece.delay) != (
                _decoding(first.boxes[b"stsd"]), first.timescale, first.delay):
            raise JoinError(f"{piece.path.name} is not encoded like {first.path.name}")
    stts, ctts, sizes, stsc, keys = [], [], [], [], []
    chunk_offsets: list[int] = []
    header = first.ftyp + struct.pack(">I4sQ", 1, b"mdat", 0)  # a 64-bit mdat size, filled in below
    at = len(header)  # where the next piece's payload lands in `out`
    samples = chunks = 0
    for piece in pieces:
        start, payload = piece.mdat
        stts += piece.stts
        ctts += piece.ctts if piece.ctts else [(piece.samples, 0)]
        sizes += piece.sizes
        stsc += [(first_chunk + chunks, per_chunk, described) for first_chunk, per_chunk, described in piece.stsc]
        keys += [n + samples for n in piece.stss] if piece.stss is not None else list(
            range(samples + 1, samples + piece.samples + 1))
        chunk_offsets += [offset - start + at for offset in piece.chunks]
        samples += piece.samples
        chunks += len(piece.chunks)
        at += payload
    media_duration = sum(p.duration for p in pieces)
    movie_duration = -(-media_duration * first.movie_timescale // first.timescale)  # rounded up: no frame cut off
    ctts_version = 1 if any(offset < 0 for _, offset in ctts) or any(p.ctts_version for p in pieces) else 0
    ctts_form = ">Ii" if ctts_version else ">II"
    stbl = b"".join([
        first.boxes[b"stsd"],
        _full(b"stts", 0, struct.pack(">I", len(_runs(stts))) + b"".join(struct.pack(">II", *e) for e in _runs(stts))),
        _full(b"ctts", ctts_version, struct.pack(">I", len(_runs(ctts)))
              + b"".join(struct.pack(ctts_form, *e) for e in _runs(ctts))),
        _full(b"stss", 0, struct.pack(f">I{len(keys)}I", len(keys), *keys)),
        _full(b"stsc", 0, struct.pack(">I", len(stsc)) + b"".join(struct.pack(">III", *e) for e in stsc)),
        _full(b"stsz", 0, struct.pack(f">II{len(sizes)}I", 0, len(sizes), *sizes)),
        _full(b"co64", 0, struct.pack(f">I{len(chunk_offsets)}Q", len(chunk_offsets), *chunk_offsets)),
    ])
    minf = b"".join(first.boxes[kind] for kind in (b"vmhd", b"dinf") if kind in first.boxes) + _box(b"stbl", stbl)
    mdia = b"".join([_with_duration(first.boxes[b"mdhd"], 16, 24, media_duration), first.boxes[b"hdlr"],
                     _box(b"minf", minf)])
    elst = _full(b"elst", 1, struct.pack(">IQqI", 1, movie_duration, first.delay, 0x10000))
    trak = b"".join([_with_duration(first.boxes[b"tkhd"], 20, 28, movie_duration), _box(b"edts", elst),
                     _box(b"mdia", mdia)])
    moov = _box(b"moov", _with_duration(first.boxes[b"mvhd"], 16, 24, movie_duration) + _box(b"trak", trak))
    try:
        with open(out, "wb") as target:
            target.write(header)
            for piece in pieces:
                start, payload = piece.mdat
                with open(piece.path, "rb") as source:
                    _copy_range(source, target, start, payload)
            target.write(moov)
            target.seek(len(first.ftyp) + 8)
            target.write(struct.pack(">Q", at - len(first.ftyp)))
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return samples


def _copy_range(source, target, start: int, length: int) -> None:
    """Bytes [start, start + length) of `source` appended to `target` (in the kernel where it can)."""
    target.flush()
    done = 0
    try:
        while done < length:
            copied = os.copy_file_range(source.fileno(), target.fileno(), length - done, start + done)
            if copied == 0:
                raise JoinError(f"{Path(source.name).name} ended early")
            done += copied
        target.seek(0, os.SEEK_END)
        return
    except (AttributeError, OSError):
        pass
    source.seek(start + done)
    target.seek(0, os.SEEK_END)
    left = length - done
    while left:
        block = source.read(min(left, 1 << 20))
        if not block:
            raise JoinError(f"{Path(source.name).name} ended early")
        target.write(block)
        left -= len(block)
