"""Turning a plain-text or Markdown script into a scene project: one scene per paragraph or list item.

How a script is read (documented for `reelforge new --from-text`):

- Paragraphs are separated by blank lines; the lines of one paragraph are joined with spaces (hard line
  breaks, trailing backslashes and `<br>` included). Indented text is narration too, never a code block, so
  plain-text scripts with indented paragraphs import as written.
- Each bullet (`-`, `*`, `+`) or numbered (`1.`, `1)`) list item is a scene; numbered items are shown on a
  `list_item` card, numbered as a Markdown viewer shows them (from the first item's number, counting up).
- A `>` block quote is a scene shown on a `quote` card; a last line such as `— Author` names its author.
- A heading (`#` to `######`, or text underlined with `===` / `---`) titles the paragraph scene after it and
  is shown over that scene's background. Before a list item or a quote (scenes shown on cards), another
  heading or the end of the script, a heading is a silent `title` card scene of TITLE_CARD_SECONDS.
- The document's name: the `name` given; without one, the script's first heading when it is a `#` heading
  opening the script, else `default_name`.
- Markdown emphasis, inline code, links (`[text](url)` → `text`), images, footnotes, HTML tags and entities
  are reduced to the words they show. YAML/TOML front matter, HTML comments, fenced code blocks, tables,
  thematic breaks (`---`) and link reference definitions are left out.
- A paragraph over MAX_SCENE_WORDS words (or over the narration limit of NARRATION_MAX_CHARS characters) is
  split at sentence ends into several scenes of about equal length.
- Scene ids are slugs of the title or first words, made unique (`intro`, `intro-2`). Each scene gets a
  generated visual (a gradient from a small palette, alternating, or a card), so the project renders offline.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from reelforge.document.estimate import count_words, document_seconds
from reelforge.errors import ReelforgeError
from reelforge.model.document import CURRENT_VERSION, MAX_SCENES, MAX_TOTAL_SECONDS, Document
from reelforge.model.text import TITLE_FONT_SIZE

MAX_SCRIPT_BYTES = 1024 * 1024
MAX_SCENE_WORDS = 60
NARRATION_MAX_CHARS = 5000  # Narration.text's limit in reelforge.model.audio
TITLE_CARD_SECONDS = 3.0
SHORTEST_VIDEO_SECONDS = 1.5  # estimated; the last scene's pause grows to reach it (documents must last 1 s)
CARD_LINE_MAX = 160  # a card's title line, reelforge.model.cards.CardLine
CARD_BODY_MAX = 400  # a card's quote or question, reelforge.model.cards.CardBody
SCENE_TITLE_MAX = 200
OVERLAY_MAX = 500
MAX_ID_WORDS = 5
MAX_ID_CHARS = 40
GRADIENTS: tuple[tuple[str, str], ...] = (
    ("#1363df", "#06283d"),
    ("#7b2ff7", "#1b0a3c"),
    ("#0f9b8e", "#062925"),
    ("#e8505b", "#3b0d1c"),
    ("#f7a440", "#3d1f05"),
)
TRANSITION = {"type": "crossfade", "duration": 0.4}
TITLE_STYLE = {"fontSize": TITLE_FONT_SIZE, "boxColor": "#00000066"}


class ScriptError(ReelforgeError):
    """A script could not be read or does not make a valid project."""

    exit_code = 2


# --- reading ---------------------------------------------------------------------------------------------

def read_script(path: Path) -> str:
    """The text of a UTF-8 script file (BOM dropped, newlines made `\\n`); a ScriptError says what is wrong."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScriptError(f"script not found: {path}") from None
    except IsADirectoryError:
        raise ScriptError(f"{path} is a folder, not a script file") from None
    except OSError as exc:
        raise ScriptError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_SCRIPT_BYTES:
        raise ScriptError(f"{path} is {len(raw) / 1e6:.1f} MB; a script may be at most {MAX_SCRIPT_BYTES // 1024} KB")
    if b"\x00" in raw:
        raise ScriptError(f"{path} is a binary file, not a text script")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScriptError(f"{path} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    return _normalize_newlines(text)


def _normalize_newlines(text: str) -> str:
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


# --- block structure -------------------------------------------------------------------------------------

BlockKind = Literal["heading", "paragraph", "item", "quote"]


@dataclass(frozen=True)
class ScriptBlock:
    """One block of the script, its inline Markdown kept: a heading, a paragraph, a list item or a quote."""

    kind: BlockKind
    text: str
    level: int = 0  # heading level, 1 to 6
    number: int | None = None  # a numbered list item's number as displayed


_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+(?:\[[ xX]\][ \t]+)?(.*)$")
_NUMBERED = re.compile(r"^([ \t]*)(\d{1,9})[.)][ \t]+(.*)$")
_QUOTE = re.compile(r"^ {0,3}>[ \t]?(.*)$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TABLE_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$")
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[\^?[^\]]+\]:")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_FRONT_MATTER = re.compile(r"\A(?:---[ \t]*\n.*?\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)|\+\+\+[ \t]*\n.*?\n\+\+\+[ \t]*(?:\n|\Z))", re.DOTALL)


def parse_script(text: str) -> list[ScriptBlock]:
    """The script's blocks in order (front matter, comments, code, tables and breaks left out)."""
    text = _normalize_newlines(text)
    text = _FRONT_MATTER.sub("", text, count=1)
    text = _HTML_COMMENT.sub("", text)
    return _BlockReader().read(text.split("\n"))


class _BlockReader:
    """A line-by-line reader of Markdown blocks, lenient about plain text."""

    def __init__(self) -> None:
        self.blocks: list[ScriptBlock] = []
        self.lines: list[str] = []  # the open block's lines
        self.kind: BlockKind | None = None  # the open block's kind
        self.number: int | None = None
        self.after_blank = False  # a blank line since the open list item's last line
        self.last_number: int | None = None  # the previous numbered item's number, while the list goes on

    def read(self, lines: list[str]) -> list[ScriptBlock]:
        fence: str | None = None
        for line in lines:
            if fence is not None:
                if line.strip().startswith(fence):
                    fence = None
                continue
            fence_match = _FENCE.match(line)
            if fence_match:
                self._close()
                self.last_number = None
                fence = fence_match.group(1)[0] * 3
                continue
            self._line(line)
        self._close()
        return self.blocks

    def _line(self, line: str) -> None:
        expanded = line.expandtabs(4)
        if not line.strip():
            if self.kind == "item":
                self.after_blank = True
            else:
                self._close()
            return
        if self.kind == "item" and self.after_blank:
            # After a blank line, an indented line continues the list item; anything else ends it.
            indented = len(expanded) - len(expanded.lstrip()) >= 2
            if indented and not _BULLET.match(line) and not _NUMBERED.match(line):
                self.lines.append(_without_hard_break(line))
                self.after_blank = False
                return
            self._close()
            if not _NUMBERED.match(line):
                self.last_number = None
        if self.kind == "paragraph" and _SETEXT_UNDERLINE.match(line):
            level = 1 if line.strip().startswith("=") else 2
            self._add("heading", " ".join(self.lines), level=level)
            self._reset()
            return
        if _THEMATIC_BREAK.match(line):
            self._close()
            self.last_number = None
            return
        heading = _ATX_HEADING.match(line)
        if heading:
            self._close()
            self.last_number = None
            if heading.group(2):
                self._add("heading", heading.group(2), level=len(heading.group(1)))
            return
        if _REFERENCE_DEFINITION.match(line) or _TABLE_ROW.match(line):
            self._close()
            return
        numbered = _NUMBERED.match(line)
        # As in CommonMark, only a list starting at 1 may interrupt a paragraph ("in 1969. we" is text).
        if numbered and not (self.kind == "paragraph" and int(numbered.group(2)) != 1):
            self._close()
            written = int(numbered.group(2))
            self.number = written if self.last_number is None else self.last_number + 1
            self.last_number = self.number
            self._open("item", numbered.group(3))
            return
        bullet = _BULLET.match(line)
        if bullet:
            self._close()
            self.last_number = None
            self._open("item", bullet.group(2))
            return
        quote = _QUOTE.match(line)
        if quote:
            if self.kind != "quote":
                self._close()
                self._open("quote", quote.group(1))
            else:
                self.lines.append(_without_hard_break(quote.group(1)))
            return
        if self.kind is None:
            self.last_number = None
            self._open("paragraph", line)
        else:
            self.lines.append(_without_hard_break(line))  # a paragraph's next line, or a lazy continuation

    def _open(self, kind: BlockKind, first_line: str) -> None:
        self.kind = kind
        self.lines = [_without_hard_break(first_line)]
        self.after_blank = False

    def _close(self) -> None:
        if self.kind is not None:
            separator = "\n" if self.kind == "quote" else " "
            self._add(self.kind, separator.join(self.lines), number=self.number if self.kind == "item" else None)
        self._reset()

    def _reset(self) -> None:
        self.kind = None
        self.lines = []
        self.number = None
        self.after_blank = False

    def _add(self, kind: BlockKind, text: str, *, level: int = 0, number: int | None = None) -> None:
        if text.strip():
            self.blocks.append(ScriptBlock(kind, text.strip(), level, number))


def _without_hard_break(line: str) -> str:
    """The line stripped, without the backslash that marks a hard line break (an escaped one stays)."""
    line = line.strip()
    trailing = len(line) - len(line.rstrip("\\"))
    return line[:-1].rstrip() if trailing % 2 else line


# --- inline Markdown to spoken text ----------------------------------------------------------------------

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_IMAGE = re.compile(r"!\[[^\]]*\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)|!\[[^\]]*\]\[[^\]]*\]")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)")
_REFERENCE_LINK = re.compile(r"\[([^\]^][^\]]*)\]\[[^\]]*\]")
_FOOTNOTE_REF = re.compile(r"\[\^[^\]]+\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^>\s]+|mailto:[^>\s]+|[^@>\s]+@[^>\s]+)>", re.IGNORECASE)
_LINE_BREAK_TAG = re.compile(r"<br\s*/?>", re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS_STAR = re.compile(r"\*(?=\S)(.+?)(?<=\S)\*")
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_SPACES = re.compile(r"\s+")


def inline_to_text(markdown: str) -> str:
    """The words a Markdown line shows: markup, links' targets, images and HTML tags removed."""
    protected: list[str] = []

    def protect(value: str) -> str:
        protected.append(value)
        return f"\x00{len(protected) - 1}\x00"

    text = _CODE_SPAN.sub(lambda m: protect(m.group(2).strip()), markdown)
    text = _ESCAPE.sub(lambda m: protect(m.group(1)), text)
    text = _AUTOLINK.sub(lambda m: protect(m.group(1).removeprefix("mailto:")), text)
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REFERENCE_LINK.sub(r"\1", text)
    text = _FOOTNOTE_REF.sub("", text)
    text = _LINE_BREAK_TAG.sub(" ", text)
    text = _HTML_TAG.sub("", text)
    text = _STRONG.sub(r"\2", text)
    text = _STRIKE.sub(r"\1", text)
    text = _EMPHASIS_STAR.sub(r"\1", text)
    text = _EMPHASIS_UNDERSCORE.sub(r"\1", text)
    text = re.sub(r"\x00(\d+)\x00", lambda m: protected[int(m.group(1))], text)
    text = html.unescape(text)
    return _SPACES.sub(" ", text).strip()


# --- splitting long text ---------------------------------------------------------------------------------

_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=[\"'“‘(\[]*[A-Z0-9À-Þ])")
_ABBREVIATION = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|vs|etc|Inc|Ltd|Co|No|Fig|approx|e\.g|i\.e)|\b[A-Z])\.$")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, split after . ! ? or … before a capital or a digit (not after Dr. or U.S.)."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_BREAK.finditer(text):
        head = text[start:match.start()].rstrip("\"'”’)]")
        if _ABBREVIATION.search(head):
            continue
        sentences.append(text[start:match.start()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def split_narration(text: str, max_words: int = MAX_SCENE_WORDS, max_chars: int = NARRATION_MAX_CHARS) -> list[str]:
    """`text` in pieces of about equal length, split at sentence ends, each within the limits where it can be.

    A single sentence longer than the limits is split between words.
    """
    if count_words(text) <= max_words and len(text) <= max_chars:
        return [text]
    sentences = [piece for sentence in split_sentences(text) for piece in _split_long_sentence(sentence, max_words, max_chars)]
    total_words = sum(count_words(s) for s in sentences)
    total_chars = sum(len(s) + 1 for s in sentences)
    parts = max(math.ceil(total_words / max_words), math.ceil(total_chars / max_chars), 1)
    # Each sentence goes to the part its middle falls in, so parts come out about equal.
    groups: dict[int, list[str]] = {}
    done = 0
    for sentence in sentences:
        words = count_words(sentence)
        index = min(int((done + words / 2) * parts / max(total_words, 1)), parts - 1)
        groups.setdefault(index, []).append(sentence)
        done += words
    pieces = [" ".join(group) for _, group in sorted(groups.items())]
    return [chunk for piece in pieces for chunk in _within_chars(piece, max_chars)]


def _split_long_sentence(sentence: str, max_words: int, max_chars: int) -> list[str]:
    words = sentence.split()
    if len(words) <= 2 * max_words and len(sentence) <= max_chars:
        return [sentence]
    parts = max(math.ceil(len(words) / max_words), math.ceil(len(sentence) / max_chars))
    size = math.ceil(len(words) / parts)
    return [" ".join(words[i:i + size]) for i in range(0, len(words), size)]


def _within_chars(text: str, max_chars: int) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    pieces, current = [], ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if len(candidate) > max_chars and current:
            pieces.append(current)
            candidate = word
        current = candidate[:max_chars]
    return pieces + ([current] if current else [])


# --- scenes ----------------------------------------------------------------------------------------------

VisualKind = Literal["gradient", "title", "list_item", "quote"]


@dataclass(frozen=True)
class ScriptScene:
    """A scene before ids and visuals are assigned."""

    visual: VisualKind
    narration: str | None = None
    title: str | None = None
    number: int | None = None  # list_item: the number shown
    headline: str | None = None  # list_item: the card's title line
    author: str | None = None  # quote: who said it


def script_scenes(blocks: list[ScriptBlock]) -> list[ScriptScene]:
    """Scenes in order: a heading titles the next scene, shown over its background; before a card (a list
    item, a quote), another heading or the end, the heading is a silent title card of its own."""
    drafts: list[ScriptScene] = []
    heading: str | None = None
    for block in blocks:
        if block.kind == "heading":
            if heading is not None:
                drafts.append(ScriptScene("title", title=heading))
            heading = inline_to_text(block.text) or None
            continue
        made = _content_scenes(block, heading)
        if not made:
            continue
        if heading is not None and made[0].visual != "gradient":
            drafts.append(ScriptScene("title", title=heading))
            made = _content_scenes(block, None)
        drafts.extend(made)
        heading = None
    if heading is not None:
        drafts.append(ScriptScene("title", title=heading))
    return drafts


def _content_scenes(block: ScriptBlock, title: str | None) -> list[ScriptScene]:
    author = None
    source = block.text
    if block.kind == "quote":
        source, author = _quote_author(source)
    text = inline_to_text(source)
    if not text:
        return []
    pieces = split_narration(text)
    drafts = []
    for index, piece in enumerate(pieces):
        piece_title = title if index == 0 else None
        if block.kind == "item" and block.number is not None and block.number <= 999:
            headline = _headline(block.text) if len(pieces) == 1 else _shorten(piece, 60)
            drafts.append(ScriptScene("list_item", piece, piece_title, number=block.number, headline=headline))
        elif block.kind == "quote" and len(piece) <= CARD_BODY_MAX:
            drafts.append(ScriptScene("quote", piece, piece_title, author=author))
        else:
            drafts.append(ScriptScene("gradient", piece, piece_title))
    return drafts


# "— Name" on the quote's last line, or after a dash (not a hyphen) at its end; a name starts with a capital.
_AUTHOR_LINE = re.compile(r"(?:\n[ \t]*(?:—|–|--|-|~)|[ \t](?:—|–|--))[ \t]*([A-Z][^\n—–]{0,%d})$" % (CARD_LINE_MAX - 1))


def _quote_author(text: str) -> tuple[str, str | None]:
    """A quote's words and its author, from a last line or ending such as '— Sylvia Earle'."""
    match = _AUTHOR_LINE.search(text)
    if not match or not match.start():
        return text, None
    author = inline_to_text(match.group(1))
    return text[:match.start()].strip(), author or None


_LEAD_STRONG = re.compile(r"^(\*\*|__)(.+?)\1")
_LEAD_LABEL = re.compile(r"^([^:—–]{1,60}?)\s*(?::|—|–| - )\s+\S")


def _headline(item_markdown: str) -> str:
    """A list item's card title: its bold lead, a short label before ':' or '—', its first sentence, or its start."""
    lead = _LEAD_STRONG.match(item_markdown.strip())
    if lead:
        headline = inline_to_text(lead.group(2)).rstrip(".:;,—– ")
        if headline:
            return _shorten(headline, CARD_LINE_MAX)
    text = inline_to_text(item_markdown)
    label = _LEAD_LABEL.match(text)
    if label and count_words(label.group(1)) <= 8:
        return label.group(1)
    first = split_sentences(text)[0] if text else text
    if len(first) <= 80:
        return first.rstrip(".") or first
    return _shorten(text, 60)


def _shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with '…' when cut."""
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    if " " in cut:
        cut = cut[:cut.rindex(" ")]
    return cut.rstrip(" ,;:.-—–") + "…"


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """A scene id from text: its first words in lowercase ASCII joined by '-', or 'scene'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    words = [word for word in _NOT_SLUG.split(ascii_text) if word][:MAX_ID_WORDS]
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > MAX_ID_CHARS:
            break
        slug = candidate
    return slug or (words[0][:MAX_ID_CHARS] if words else "scene")


def unique_ids(bases: list[str]) -> list[str]:
    """The ids, with -2, -3... added where one repeats an earlier id."""
    seen: set[str] = set()
    result = []
    for base in bases:
        candidate, count = base, 1
        while candidate in seen:
            count += 1
            candidate = f"{base}-{count}"
        seen.add(candidate)
        result.append(candidate)
    return result


def _scene_data(draft: ScriptScene, scene_id: str, gradient_index: int, is_last: bool) -> dict:
    scene: dict = {"id": scene_id}
    if draft.title:
        scene["title"] = _shorten(draft.title, SCENE_TITLE_MAX)
    if draft.narration:
        scene["narration"] = {"text": draft.narration}
    if draft.visual == "title":
        scene["visual"] = {"type": "card", "card": {"card": "title", "title": _shorten(draft.title or "", CARD_LINE_MAX)}}
        scene["duration"] = TITLE_CARD_SECONDS
    elif draft.visual == "list_item":
        card = {"card": "list_item", "number": draft.number, "title": _shorten(draft.headline or "", CARD_LINE_MAX)}
        scene["visual"] = {"type": "card", "card": card}
    elif draft.visual == "quote":
        card = {"card": "quote", "quote": draft.narration}
        if draft.author:
            card["author"] = _shorten(draft.author, CARD_LINE_MAX)
        scene["visual"] = {"type": "card", "card": card}
    else:
        colors = GRADIENTS[gradient_index % len(GRADIENTS)]
        scene["visual"] = {"type": "gradient", "colors": list(colors), "angle": 180}
        if draft.title:
            scene["overlays"] = [{"text": _shorten(draft.title, OVERLAY_MAX), "style": dict(TITLE_STYLE)}]
    if not is_last:
        scene["transition"] = dict(TRANSITION)
    return scene


def _document_name(blocks: list[ScriptBlock], name: str | None, default_name: str) -> str:
    if name and name.strip():
        chosen = name.strip()
    elif blocks and blocks[0].kind == "heading" and blocks[0].level == 1 and inline_to_text(blocks[0].text):
        chosen = inline_to_text(blocks[0].text)
    else:
        chosen = default_name.strip() or "Untitled"
    return _shorten(chosen, 200)


def document_from_script(
    text: str,
    *,
    name: str | None = None,
    default_name: str = "Untitled",
    aspect_ratio: str = "9:16",
    voice_id: str | None = None,
) -> Document:
    """A valid scene project from a plain-text or Markdown script (see this module's docstring for the rules).

    Raises ScriptError when the script has nothing to narrate or makes too many scenes or too long a video,
    and DocumentError (a bad voice id or aspect ratio) with the problem located.
    """
    from reelforge.document.loader import load_document, validate_data

    blocks = parse_script(text)
    drafts = script_scenes(blocks)
    if not drafts:
        raise ScriptError("the script has no text to narrate: write one paragraph or list item per scene")
    if len(drafts) > MAX_SCENES:
        raise ScriptError(
            f"the script makes {len(drafts)} scenes; a project holds at most {MAX_SCENES}: "
            "merge short paragraphs or split the script into several files"
        )
    ids = unique_ids([slugify(d.title or d.headline or d.narration or "") for d in drafts])
    scenes = []
    gradient_index = 0
    for index, (draft, scene_id) in enumerate(zip(drafts, ids)):
        scenes.append(_scene_data(draft, scene_id, gradient_index, index == len(drafts) - 1))
        gradient_index += draft.visual == "gradient"
    data: dict = {
        "version": CURRENT_VERSION,
        "name": _document_name(blocks, name, default_name),
        "output": {"aspectRatio": aspect_ratio},
        "scenes": scenes,
    }
    if voice_id is not None:
        data["voice"] = {"voiceId": voice_id}
    document = validate_data(data)
    seconds = document_seconds(document)
    if seconds < SHORTEST_VIDEO_SECONDS:
        # A one-line script ("Hello.") would be shorter than a video may be: end on a longer pause instead.
        last = document.scenes[-1]
        scenes[-1]["padding"] = round(last.padding + SHORTEST_VIDEO_SECONDS - seconds, 2)
        document = validate_data(data)
    if seconds > MAX_TOTAL_SECONDS:
        words = sum(count_words(d.narration or "") for d in drafts)
        raise ScriptError(
            f"the script's {words} words would make a video of about {seconds:.0f} s; "
            f"the limit is {MAX_TOTAL_SECONDS:.0f} s: shorten it or split it into several scripts"
        )
    return load_document(document).document
