"""Prompts become scenes: a script writer turns a prompt into a script (title, hook, segments with narration and a
visual hint), and the script becomes a document validated like any other.

Two writers, chosen by whoever runs reelforge (nothing here reads the environment):

- `OutlineWriter` (the default, offline): the prompt is the script itself, read by the plain-text/Markdown import
  (`reelforge.editing.script_import`): one scene per sentence group, paragraph or list item.
- `LlmWriter`: any OpenAI-compatible chat-completions endpoint (llama.cpp's server, Ollama, vLLM: a base URL such
  as http://127.0.0.1:8080/v1, a model name, an optional key) is asked for the script as one JSON object; the
  answer is checked field by field and then as a document, with a deadline and one clear error when the endpoint
  is down, slow or answers something that is not a script.

    script = writer_for("outline").write("Three facts about owls. They fly silently. They turn their heads.")
    script.document   # a reelforge Document, ready to render
"""

from __future__ import annotations

import json
import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reelforge.errors import DocumentError, ReelforgeError
from reelforge.model import Document

DEFAULT_TIMEOUT = 60.0
MAX_PROMPT_CHARS = 20_000
MAX_ANSWER_BYTES = 2 * 1024 * 1024
WORDS_PER_SECOND = 2.5  # the narration rate the estimate uses (reelforge.document.estimate)
STYLES = ("story", "listicle")


class ScriptWriterError(ReelforgeError):
    """The writer could not make a script: a bad prompt, or an answer that is not a script."""

    exit_code = 2


class WriterUnavailable(ScriptWriterError):
    """The writer's endpoint is down, refused the request or did not answer in time."""

    exit_code = 1


@dataclass(frozen=True)
class Brief:
    """What the caller wants besides the prompt (a writer may use any of it; the outline writer uses the shape)."""

    title: str | None = None
    scenes: int | None = None  # target number of scenes (the hook included)
    seconds: float | None = None  # target length
    language: str = "en"
    style: str = "story"  # story: scenes over backgrounds; listicle: numbered list cards
    aspect_ratio: str = "9:16"
    voice_id: str | None = None


@dataclass(frozen=True)
class Segment:
    narration: str
    visual: str | None = None  # what the scene should show, in words (a hint for a person or a stock search)


@dataclass(frozen=True)
class Script:
    """A written script and the document made from it; `writer` names the writer that made it."""

    title: str
    hook: str | None
    segments: tuple[Segment, ...]
    writer: str
    document: Document = field(repr=False)

    def scene_narrations(self) -> list[str]:
        return [scene.narration.words_text if scene.narration else "" for scene in self.document.scenes]


class ScriptWriter(Protocol):
    name: str

    def write(self, prompt: str, brief: Brief | None = None) -> Script:
        ...


def _check_prompt(prompt: str) -> str:
    if not isinstance(prompt, str) or not prompt.strip():
        raise ScriptWriterError("the prompt is empty: describe the video, or write its script")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ScriptWriterError(f"the prompt has {len(prompt)} characters; at most {MAX_PROMPT_CHARS}")
    return prompt.strip()


def _default_title(prompt: str) -> str:
    first = re.split(r"(?<=[.!?])\s|\n", prompt.strip(), maxsplit=1)[0].strip(" #*-")
    return (first[:80].rsplit(" ", 1)[0] + "…") if len(first) > 80 else (first or "Untitled")


# --- outline: the prompt is the script ----------------------------------------------------------------------

class OutlineWriter:
    """The prompt taken as the script itself (offline, instant, deterministic)."""

    name = "outline"

    def write(self, prompt: str, brief: Brief | None = None) -> Script:
        from reelforge.editing.script_import import ScriptError, document_from_script

        brief = brief or Brief()
        prompt = _check_prompt(prompt)
        try:
            document = document_from_script(sentence_paragraphs(prompt), name=brief.title, default_name=_default_title(prompt),
                                             aspect_ratio=brief.aspect_ratio, voice_id=brief.voice_id)
        except ScriptError as error:
            raise ScriptWriterError(str(error)) from None
        if brief.language != "en":
            document = _relanguage(document, brief.language)
        narrations = [scene.narration.words_text for scene in document.scenes if scene.narration]
        hook = narrations[0] if narrations else None
        segments = tuple(Segment(text) for text in narrations[1:])
        return Script(document.name, hook, segments, self.name, document)


def sentence_paragraphs(prompt: str) -> str:
    """The prompt with each sentence of its plain paragraphs made a paragraph of its own (one scene per sentence);
    lists, headings, quotes and code are left as written (the script import gives a scene per list item)."""
    from reelforge.editing import script_import as imp

    markup = (imp._BULLET, imp._NUMBERED, imp._ATX_HEADING, imp._QUOTE, imp._FENCE, imp._SETEXT_UNDERLINE)
    paragraphs = []
    for paragraph in re.split(r"\n[ \t]*\n", imp._normalize_newlines(prompt)):
        lines = [line for line in paragraph.split("\n") if line.strip()]
        if not lines:
            continue
        if any(pattern.match(line) for line in lines for pattern in markup):
            paragraphs.append("\n".join(lines))
        else:
            paragraphs.extend(imp.split_sentences(" ".join(line.strip() for line in lines)))
    return "\n\n".join(paragraphs)


def _relanguage(document: Document, language: str) -> Document:
    from reelforge.document.loader import validate_data

    try:
        return validate_data({**document.to_json_dict(), "language": language})
    except DocumentError as error:
        raise ScriptWriterError(f"language {language!r}: {error.problems[0].message}") from None


# --- llm: an OpenAI-compatible chat-completions endpoint ------------------------------------------------------

class WrittenSegment(BaseModel):
    model_config = ConfigDict(extra="ignore")
    narration: str = Field(min_length=1, max_length=5000)
    visual: str | None = Field(default=None, max_length=500)


class WrittenScript(BaseModel):
    """The JSON object the model is asked for (keys it adds besides these are ignored)."""

    model_config = ConfigDict(extra="ignore")
    title: str = Field(min_length=1, max_length=200)
    hook: str | None = Field(default=None, max_length=5000)
    segments: list[WrittenSegment] = Field(min_length=1, max_length=49)


SYSTEM_PROMPT = """You write scripts for short narrated videos. Answer with one JSON object and nothing else:
{"title": "<the video's title>", "hook": "<one short opening line that makes people keep watching>",
 "segments": [{"narration": "<what the narrator says in this scene>", "visual": "<what the scene shows>"}]}
Write plain spoken sentences (no markdown, no stage directions, no emojis) in the language asked for."""


@dataclass
class LlmWriter:
    """A script from a chat-completions endpoint (`base_url` ends before `/chat/completions`)."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    name: str = "llm"

    def write(self, prompt: str, brief: Brief | None = None) -> Script:
        brief = brief or Brief()
        prompt = _check_prompt(prompt)
        content = self._ask(self._messages(prompt, brief))
        written = parse_answer(content)
        return script_from_written(written, brief, self.name)

    def _messages(self, prompt: str, brief: Brief) -> list[dict[str, str]]:
        wants = [f"Language: {brief.language}."]
        if brief.scenes:
            wants.append(f"Write {max(brief.scenes - 1, 1)} segments after the hook.")
        if brief.seconds:
            wants.append(f"The whole narration should take about {brief.seconds:g} seconds "
                         f"(about {round(brief.seconds * WORDS_PER_SECOND)} words).")
        if brief.style == "listicle":
            wants.append("Each segment is one item of a numbered list; start its narration with the item's name.")
        if brief.title:
            wants.append(f"The title is: {brief.title}")
        return [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": f"{prompt}\n\n{' '.join(wants)}"}]

    def _ask(self, messages: list[dict[str, str]]) -> str:
        url = self.base_url.rstrip("/") + "/chat/completions"
        body = json.dumps({"model": self.model, "messages": messages, "temperature": 0.7, "stream": False,
                           "response_format": {"type": "json_object"}}).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        where = f"the script writer at {self.base_url}"
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as error:
            detail = _error_detail(error)
            raise WriterUnavailable(f"{where} answered HTTP {error.code}{': ' + detail if detail else ''}") from None
        except (TimeoutError, socket.timeout):
            raise WriterUnavailable(f"{where} did not answer within {self.timeout:g} s") from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise WriterUnavailable(f"{where} did not answer within {self.timeout:g} s") from None
            text = getattr(reason, "strerror", None) or str(reason)
            raise WriterUnavailable(f"{where} is not reachable: {text}") from None
        except (OSError, ValueError) as error:
            raise WriterUnavailable(f"{where} failed: {getattr(error, 'strerror', None) or error}") from None
        if len(raw) > MAX_ANSWER_BYTES:
            raise ScriptWriterError(f"{where} answered more than {MAX_ANSWER_BYTES // 1024 // 1024} MB")
        try:
            answer = json.loads(raw)
            content = answer["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise ScriptWriterError(f"{where} did not answer as a chat-completions endpoint does "
                                    "(no choices[0].message.content)") from None
        if not isinstance(content, str) or not content.strip():
            raise ScriptWriterError(f"{where} answered an empty message")
        return content


def _error_detail(error: urllib.error.HTTPError) -> str:
    try:
        data = json.loads(error.read(4096))
        message = data.get("error", {}).get("message") if isinstance(data.get("error"), dict) else data.get("error")
        return " ".join(str(message).split())[:200] if message else ""
    except Exception:  # an error page that is not JSON: the status says enough
        return ""


_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")


def parse_answer(content: str) -> WrittenScript:
    """The model's message as a script: its JSON object (inside a ``` fence or surrounding words too), checked."""
    text = _FENCE.sub("", content.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ScriptWriterError("the script writer's answer is not a JSON object: " + _excerpt(content))
    try:
        data = json.loads(text[start:end + 1])
    except ValueError as error:
        raise ScriptWriterError(f"the script writer's answer is not valid JSON ({error}): {_excerpt(content)}") from None
    try:
        return WrittenScript.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        path = _path(first.get("loc", ()))
        raise ScriptWriterError(f"the script writer's answer is not a script: {path}: {first.get('msg')}") from None


def _path(location: tuple) -> str:
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(answer)"


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return repr(flat[:120] + ("…" if len(flat) > 120 else ""))


def script_from_written(written: WrittenScript, brief: Brief, writer: str) -> Script:
    hook = written.hook.strip() if written.hook and written.hook.strip() else None
    segments = tuple(Segment(s.narration.strip(), (s.visual or "").strip() or None) for s in written.segments)
    title = brief.title or written.title.strip()
    document = script_document(title, hook, segments, brief)
    return Script(title, hook, segments, writer, document)


def script_document(title: str, hook: str | None, segments: tuple[Segment, ...], brief: Brief) -> Document:
    """A document from a script: the hook over the title, then a scene per segment (gradients, or numbered list
    cards for a listicle); checked like any document (ScriptWriterError naming the path otherwise)."""
    from reelforge.document.loader import load_document, validate_data
    from reelforge.editing.script_import import GRADIENTS, TRANSITION, _headline, _shorten, slugify, unique_ids

    texts = ([hook] if hook else []) + [segment.narration for segment in segments]
    ids = unique_ids(["hook"] * bool(hook) + [slugify(text) for text in texts[bool(hook):]])
    scenes: list[dict[str, Any]] = []
    for index, (text, scene_id) in enumerate(zip(texts, ids)):
        is_hook = bool(hook) and index == 0
        number = index + (0 if hook else 1)
        scene: dict[str, Any] = {"id": scene_id, "narration": {"text": text}}
        if is_hook and brief.style == "listicle":
            scene["visual"] = {"type": "card", "card": {"card": "title", "title": _shorten(title, 160)}}
        elif brief.style == "listicle":
            scene["visual"] = {"type": "card", "card": {"card": "list_item", "number": number,
                                                        "title": _shorten(_headline(text), 160)}}
        else:
            colors = GRADIENTS[index % len(GRADIENTS)]
            scene["visual"] = {"type": "gradient", "colors": list(colors), "angle": 180}
            if index == 0:
                scene["overlays"] = [{"text": _shorten(title, 500), "style": {"fontSize": 0.055,
                                                                               "boxColor": "#00000066"}}]
        visual_hint = segments[index - bool(hook)].visual if not is_hook else None
        if visual_hint:
            scene["title"] = _shorten(visual_hint, 200)
        if index < len(texts) - 1:
            scene["transition"] = dict(TRANSITION)
        scenes.append(scene)
    data: dict[str, Any] = {"version": "1", "name": _shorten(title, 200), "language": brief.language,
                            "output": {"aspectRatio": brief.aspect_ratio}, "scenes": scenes}
    if brief.voice_id:
        data["voice"] = {"voiceId": brief.voice_id}
    try:
        return load_document(validate_data(data)).document
    except DocumentError as error:
        problem = error.problems[0]
        raise ScriptWriterError(f"the script does not make a valid document: {problem.path}: {problem.message}") from None


def writer_for(kind: str = "outline", *, url: str | None = None, model: str | None = None,
               api_key: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> ScriptWriter:
    """The writer an operator chose: "outline" (default), or "llm" with the endpoint's base URL and model."""
    if kind == "outline":
        return OutlineWriter()
    if kind == "llm":
        if not url:
            raise ScriptWriterError("the llm script writer needs the endpoint's base URL (e.g. http://127.0.0.1:8080/v1)")
        if not re.match(r"^https?://", url):
            raise ScriptWriterError(f"the llm script writer's URL must start with http:// or https://, not {url!r}")
        return LlmWriter(url, model or "default", api_key, timeout)
    raise ScriptWriterError(f"unknown script writer {kind!r}: use outline or llm")


def cmd_new_from_prompt(args, *, writer: str, url: str | None, model: str | None, api_key: str | None,
                        timeout: str | None) -> int:
    """The body of `reelforge new --from-prompt PROMPT -o PROJECT.json` (the command line reads the writer's
    settings from its flags and REELFORGE_WRITER, REELFORGE_LLM_URL, _MODEL, _API_KEY, _TIMEOUT)."""
    from pathlib import Path

    from reelforge.editing.project import document_json
    from reelforge.errors import UsageError
    from reelforge.fileio import write_atomic

    out = Path(args.output)
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists; pass --force to overwrite it")
    try:
        seconds = float(timeout) if timeout else DEFAULT_TIMEOUT
    except ValueError:
        raise UsageError("REELFORGE_LLM_TIMEOUT must be a number of seconds") from None
    chosen = writer_for(writer, url=url, model=model, api_key=api_key, timeout=seconds)
    script = chosen.write(args.from_prompt, Brief(title=args.name, aspect_ratio=args.aspect, voice_id=args.voice))
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, document_json(script.document), keep_backup=out.exists())
    print(f"wrote {out}: {len(script.document.scenes)} scenes (script by the {script.writer} writer)")
    return 0
