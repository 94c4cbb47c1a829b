"""The script writers: `outline` (the prompt is the script) and `llm` against a chat-completions stand-in on
loopback (the real wire format: POST /v1/chat/completions, choices[0].message.content), with a malformed answer,
an endpoint that is down and one that does not answer in time; and `reelforge new --from-prompt`."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from chat_standin import SCRIPT, Reply, chat_server
from conftest import run_cli

from reelforge.document.loader import load_document
from reelforge.editing.script_writer import (
    Brief,
    LlmWriter,
    OutlineWriter,
    ScriptWriterError,
    WriterUnavailable,
    writer_for,
)


def test_outline_makes_a_scene_per_sentence_and_per_list_item():
    script = OutlineWriter().write("Owls hunt at night. They fly without a sound! Do they sleep by day?")
    assert script.writer == "outline"
    assert script.scene_narrations() == ["Owls hunt at night.", "They fly without a sound!", "Do they sleep by day?"]
    assert script.hook == "Owls hunt at night." and [s.narration for s in script.segments][-1] == "Do they sleep by day?"
    listed = OutlineWriter().write("# Morning habits\n\n1. Drink water first.\n2. Write three priorities.",
                                   Brief(aspect_ratio="16:9"))
    cards = [scene.visual.card.card for scene in listed.document.scenes]
    assert cards == ["title", "list_item", "list_item"] and listed.document.output.aspect_ratio == "16:9"
    load_document(listed.document.to_json_dict())  # a valid document, as a file would be
    with pytest.raises(ScriptWriterError, match="empty"):
        OutlineWriter().write("   ")


def test_llm_writer_speaks_chat_completions_and_its_json_scenes_become_a_valid_document():
    with chat_server() as server:
        writer = LlmWriter(server.url, "llama-3.2-3b", api_key="sk-local", timeout=30)
        script = writer.write("Why owls are quiet", Brief(seconds=30, scenes=3, language="en", style="listicle"))
    sent = server.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["headers"]["authorization"] == "Bearer sk-local"
    body = sent["body"]
    assert body["model"] == "llama-3.2-3b" and body["stream"] is False
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "Why owls are quiet" in body["messages"][1]["content"] and "75 words" in body["messages"][1]["content"]
    assert script.writer == "llm" and script.title == "Owls at night" and script.hook == SCRIPT["hook"]
    assert [s.visual for s in script.segments] == [s["visual"] for s in SCRIPT["segments"]]
    document = script.document
    assert [scene.id for scene in document.scenes][0] == "hook"
    assert [scene.visual.card.card for scene in document.scenes] == ["title", "list_item", "list_item"]
    assert document.scenes[1].visual.card.number == 1
    load_document(document.to_json_dict())


def test_llm_answers_in_a_fence_or_with_words_around_are_read():
    with chat_server() as server:
        server.replies.append(Reply(content="Sure! Here it is:\n```json\n" + json.dumps(SCRIPT) + "\n```"))
        script = LlmWriter(server.url, "m").write("owls")
    assert len(script.document.scenes) == 3


@pytest.mark.parametrize("reply, message", [
    (Reply(content="I cannot help with that."), "not a JSON object"),
    (Reply(content='{"title": "x", "segments": [{"narration": "a",}]}'), "not valid JSON"),
    (Reply(content=json.dumps({"title": "x", "hook": "h"})), "segments: Field required"),
    (Reply(content=json.dumps({"title": "x", "segments": [{"narration": ""}]})), r"segments\[0\]\.narration"),
    (Reply(content=json.dumps({"title": "x", "segments": [{"narration": "word " * 1100}]})), "not a script"),
    (Reply(raw=b'{"object": "list"}'), "no choices"),
    (Reply(raw=b"<html>bad gateway</html>", status=502), "HTTP 502"),
])
def test_a_malformed_answer_is_one_clear_error(reply: Reply, message: str):
    with chat_server() as server:
        server.replies.append(reply)
        with pytest.raises(ScriptWriterError, match=message) as caught:
            LlmWriter(server.url, "m", timeout=30).write("owls")
    assert "\n" not in str(caught.value)


def test_an_endpoint_that_does_not_answer_in_time_or_is_down_is_unavailable():
    with chat_server() as server:
        server.replies.append(Reply(content=json.dumps(SCRIPT), delay=3))
        started = time.monotonic()
        with pytest.raises(WriterUnavailable, match="did not answer within 1 s"):
            LlmWriter(server.url, "m", timeout=1).write("owls")
        assert time.monotonic() - started < 2.9, "the writer waited past its timeout"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    with pytest.raises(WriterUnavailable, match="not reachable"):
        LlmWriter(f"http://127.0.0.1:{closed}/v1", "m", timeout=5).write("owls")
    with pytest.raises(ScriptWriterError, match="base URL"):
        writer_for("llm")


def test_new_from_prompt_with_either_writer(tmp_path: Path):
    made = run_cli("new", "--from-prompt", "Owls hunt at night. They fly without a sound.", "-o", tmp_path / "a.json")
    assert made.returncode == 0, made.stderr
    assert "2 scenes (script by the outline writer)" in made.stdout
    assert load_document(tmp_path / "a.json").document.scenes[1].narration.text == "They fly without a sound."
    with chat_server() as server:
        made = run_cli("new", "--from-prompt", "owls", "--writer", "llm", "-o", tmp_path / "b.json",
                       env={"REELFORGE_LLM_URL": server.url, "REELFORGE_LLM_MODEL": "qwen2.5"})
        assert made.returncode == 0, made.stderr
        assert "script by the llm writer" in made.stdout and server.requests[0]["body"]["model"] == "qwen2.5"
        server.replies.append(Reply(content="no json here"))
        bad = run_cli("new", "--from-prompt", "owls", "--writer", "llm", "--llm-url", server.url, "-o",
                      tmp_path / "c.json")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
    assert not (tmp_path / "c.json").exists()
    assert json.loads((tmp_path / "b.json").read_text())["scenes"][0]["id"] == "hook"


def test_the_servers_prompt_routes_use_the_operators_llm_writer(tmp_path: Path):
    """`reelforge serve --writer llm`: the prompt routes ask the endpoint; a malformed answer is 502 and an endpoint
    that is down 503, each one clear line."""
    pytest.importorskip("fastapi")
    from service_tools import make_key, serving

    data = tmp_path / "data"
    secret = make_key(data, "--test")
    with chat_server() as chat:
        with serving(data, "--writer", "llm", "--llm-url", chat.url, "--llm-model", "llama") as server:
            server.secret = secret
            preview = server.call("POST", "/compat/tikvod/v1/scripts/preview", {"idea": "owls", "style": "Listicle"})
            assert preview.status == 200 and preview.json()["writer"] == "llm", preview.body
            assert preview.json()["hook"] == SCRIPT["hook"] and len(preview.json()["segments"]) == 2
            assert chat.requests[-1]["body"]["model"] == "llama"
            chat.replies.append(Reply(content="sorry, no"))
            bad = server.call("POST", "/compat/avs/api/v1/videos/from-prompt", {"prompt": "owls"})
            assert bad.status == 502 and bad.json()["error"]["code"] == "script_writer_failed"
            made = server.call("POST", "/compat/tutorflow/v1/platform/videos", {"prompt": "owls", "sceneCount": 3})
            assert made.status == 201 and made.json()["writer"] == "llm" and made.json()["title"] == "Owls at night"
            down_url = chat.url
    with serving(data, "--writer", "llm", "--llm-url", down_url, "--llm-model", "llama") as server:
        server.secret = secret
        down = server.call("POST", "/compat/tikvod/v1/scripts/preview", {"idea": "owls", "style": "Listicle"})
        assert down.status == 503 and down.json()["error"]["code"] == "script_writer_unavailable"
        assert "not reachable" in down.json()["error"]["message"]
        failed = server.call("POST", "/compat/tutorflow/v1/platform/videos", {"prompt": "owls"}).json()
        assert failed["status"] == "FAILED" and failed["isTerminal"] and "not reachable" in failed["error"]
