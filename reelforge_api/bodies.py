"""Request bodies read as they stream: JSON under a size cap, multipart with each file written into the job's
folder as it arrives (cut off at the cap while streaming), and a hash of what was sent for idempotency."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from reelforge.service.engine import Draft
from reelforge.service.errors import Invalid, ServiceError, TooLarge, UnsupportedMedia
from reelforge_api.errors import BadRequest

TEXT_PARTS = ("document", "quality", "webhook", "metadata")


def media_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def _declared_length(request: Request, limit: int, what: str) -> None:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise TooLarge(f"the {what} is {int(length) / 1e6:.1f} MB; the limit is {limit / 1e6:g} MB",
                       code="body_too_large")


def parse_json(raw: bytes, what: str = "body") -> Any:
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BadRequest(f"the {what} is not UTF-8 text", code="malformed_json") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the {what} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}",
                         code="malformed_json") from None
    except RecursionError:
        raise BadRequest(f"the {what} is nested too deeply", code="malformed_json") from None


async def read_json(request: Request, limit: int) -> tuple[Any, str]:
    """The JSON body (at most `limit` bytes) and the hash of its parsed value."""
    _declared_length(request, limit, "JSON body")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the JSON body is larger than the {limit / 1e6:g} MB limit", code="body_too_large")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise BadRequest("the body is empty: send a JSON object", code="empty_body")
    data = parse_json(raw)
    return data, hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")).hexdigest()


class _Multipart:
    """python-multipart callbacks: text parts kept (capped), file parts streamed into the draft."""

    def __init__(self, draft: Draft, text_limit: int, text_parts: tuple[str, ...], file_parts: tuple[str, ...]):
        self.draft = draft
        self.text_limit = text_limit
        self.text_parts = text_parts
        self.file_parts = file_parts
        self.texts: dict[str, str] = {}
        self.digest = hashlib.sha256()
        self._field = b""
        self._value = b""
        self._headers: dict[str, str] = {}
        self._name = ""
        self._buffer: list[bytes] | None = None
        self._size = 0
        self._writer = None
        self._file_digest = None
        self._parts: list[tuple[str, str, str]] = []

    def callbacks(self) -> dict:
        return {"on_part_begin": self.part_begin, "on_part_data": self.part_data, "on_part_end": self.part_end,
                "on_header_field": self.header_field, "on_header_value": self.header_value,
                "on_header_end": self.header_end, "on_headers_finished": self.headers_finished}

    def part_begin(self) -> None:
        self._headers, self._buffer, self._writer, self._size = {}, None, None, 0

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        self._headers[self._field.decode("latin-1").lower()] = self._value.decode("utf-8", "replace")
        self._field, self._value = b"", b""

    def headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get("content-disposition", ""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self._name = name
        if filename is not None:
            if name not in self.file_parts:
                raise Invalid(f"file part {name!r}: files go in parts named {' or '.join(self.file_parts)}",
                              code="unknown_part")
            self._writer = self.draft.upload(filename.decode("utf-8", "replace"))
            self._file_digest = hashlib.sha256()
        elif name in self.text_parts:
            if name in self.texts:
                raise Invalid(f"part {name!r} is sent twice", code="duplicate_part")
            self._buffer = []
        else:
            raise Invalid(f"unknown part {name!r}: the parts are {', '.join(self.text_parts + self.file_parts)}",
                          code="unknown_part")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        piece = data[start:end]
        if self._writer is not None:
            self._writer.write(piece)
            self._file_digest.update(piece)
        elif self._buffer is not None:
            self._size += len(piece)
            if self._size > self.text_limit:
                raise TooLarge(f"part {self._name!r} is larger than the {self.text_limit / 1e6:g} MB limit",
                               code="body_too_large")
            self._buffer.append(piece)

    def part_end(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            self.draft.add(writer)
            self._parts.append(("file", writer.name, self._file_digest.hexdigest()))
        elif self._buffer is not None:
            raw = b"".join(self._buffer)
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise BadRequest(f"part {self._name!r} is not UTF-8 text", code="malformed_part") from None
            self.texts[self._name] = text
            self._parts.append(("text", self._name, hashlib.sha256(raw).hexdigest()))
            self._buffer = None

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()
            self._writer = None

    def request_hash(self) -> str:
        return hashlib.sha256(json.dumps(sorted(self._parts)).encode()).hexdigest()


async def read_multipart(request: Request, draft: Draft, *, text_limit: int, total_limit: int,
                         text_parts: tuple[str, ...] = TEXT_PARTS, file_parts: tuple[str, ...] = ("files",),
                         ) -> tuple[dict[str, str], str]:
    """Stream a multipart body: the text parts named `text_parts` returned, the file parts named `file_parts`
    written into `draft` (each under its filename, which must be a bare file name), and the request's hash.
    Any other part is refused (422). The names each file part was saved as: `draft.files` (in order)."""
    _declared_length(request, total_limit, "request")
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise BadRequest("a multipart body needs a boundary in its Content-Type", code="malformed_multipart")
    reader = _Multipart(draft, text_limit, text_parts, file_parts)
    try:
        parser = MultipartParser(boundary, reader.callbacks())
    except Exception:
        raise BadRequest("the multipart boundary is not valid", code="malformed_multipart") from None
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > total_limit:
                raise TooLarge(f"the request is larger than the {total_limit / 1e6:g} MB limit", code="body_too_large")
            parser.write(chunk)
        parser.finalize()
    except ServiceError:
        reader.abort()
        raise
    except (MultipartParseError, ValueError) as exc:
        reader.abort()
        raise BadRequest(f"the multipart body is malformed: {exc}", code="malformed_multipart") from None
    except BaseException:
        reader.abort()
        raise
    return reader.texts, reader.request_hash()


def unsupported(kind: str, accepted: str) -> UnsupportedMedia:
    return UnsupportedMedia(f"Content-Type {kind or '(none)'} is not accepted here: send {accepted}",
                            code="unsupported_content_type")
