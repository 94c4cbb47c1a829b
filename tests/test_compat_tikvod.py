"""/compat/tikvod against a real `reelforge serve` on loopback: the document's curl command and example request,
every documented response field with its type, its error table (400 401 402 404 409 429), X-RateLimit-* headers,
test keys, and webhooks checked with the TikVod-Signature recipe written in docs/compat.md (five retries)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import subprocess
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("av")

from conftest import slow  # noqa: E402
from service_tools import cli, make_key, receiving, serving  # noqa: E402

from mediatools import probe  # noqa: E402

V1 = "/compat/tikvod/v1"
EXAMPLE = {
    "idea": "5 morning habits that changed my productivity",
    "style": "Listicle",
    "voice": "aria_us",
    "language": "en",
    "duration": 45,
    "resolution": "1080p",
    "caption_style": "bold_pop",
    "music": "upbeat",
    "metadata": {"campaign": "q2_faceless", "channel": "tiktok_main"},
}
VIDEO_FIELDS = {"id": str, "object": str, "status": str, "idea": str, "style": str, "voice": str, "duration": int,
                "resolution": str, "credits_used": int, "created_at": str, "estimated_ready_at": str}


def typed(body: dict, fields: dict) -> None:
    for name, kind in fields.items():
        assert name in body, (name, body)
        assert isinstance(body[name], kind) and not (kind is int and isinstance(body[name], bool)), (name, body[name])


def tikvod_signature_ok(secret: str, body: bytes, header: str, tolerance: float = 300) -> bool:
    """docs/compat.md: `TikVod-Signature: t=<unix>,v1=<hex>`; v1 = HMAC-SHA256(secret, "<t>." + raw body), and a
    timestamp older than the tolerance is refused (replays)."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    signed = f"{parts['t']}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return abs(time.time() - int(parts["t"])) <= tolerance and hmac.compare_digest(expected, parts["v1"])


def key_id(data: Path, secret: str) -> str:
    listed = cli("keys", "list", "--json", "--data", data).stdout.strip().splitlines()
    return next(json.loads(line)["id"] for line in listed if secret.startswith(json.loads(line)["hint"]))


@slow("piper")
def test_the_examples_render_a_listicle_with_script_output_and_a_signed_download(tmp_path: Path):
    data = tmp_path / "data"
    secret = make_key(data)
    with serving(data) as server:
        server.secret = secret
        curl = subprocess.run(["curl", "-sS", "-D", str(tmp_path / "head.txt"), f"{server.base}{V1}/account/credits",
                               "-H", f"Authorization: Bearer {secret}", "-H", "Content-Type: application/json"],
                              capture_output=True, text=True, timeout=60)
        head = (tmp_path / "head.txt").read_text()
        credits = json.loads(curl.stdout)
        typed(credits, {"object": str, "credits": int, "currency": str, "cost_per_video": float, "updated_at": str})
        assert credits["object"] == "credit_balance" and credits["unlimited"] is True
        headers = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in head.splitlines()[1:]
                   if ":" in line}
        assert int(headers["x-ratelimit-limit"]) == 600 and int(headers["x-ratelimit-remaining"]) < 600
        assert int(headers["x-ratelimit-reset"]) > time.time() - 1, "the reset is a Unix time"

        created = server.call("POST", f"{V1}/videos", EXAMPLE)
        assert created.status == 200, created.body
        video = created.json()
        typed(video, VIDEO_FIELDS)
        assert video["object"] == "video" and video["status"] == "queued" and video["id"].startswith("vid_")
        assert (video["idea"], video["style"], video["voice"], video["credits_used"]) == (EXAMPLE["idea"], "Listicle",
                                                                                          "aria_us", 1)
        deadline = time.monotonic() + 300
        while (full := server.call("GET", f"{V1}/videos/{video['id']}").json())["status"] not in ("completed", "failed"):
            assert full["status"] in ("queued", "processing") and time.monotonic() < deadline, full
            time.sleep(0.2)
        assert full["status"] == "completed", full
        typed(full, {"id": str, "object": str, "status": str, "idea": str, "style": str, "voice": str, "script": dict,
                     "output": dict, "created_at": str, "completed_at": str})
        typed(full["script"], {"hook": str, "segments": list})
        for index, segment in enumerate(full["script"]["segments"]):
            assert segment["index"] == index and isinstance(segment["text"], str)
            assert segment["visual_prompt"] is None or isinstance(segment["visual_prompt"], str)
        typed(full["output"], {"video_url": str, "thumbnail_url": str, "duration": int, "resolution": str,
                               "aspect_ratio": str})
        assert full["output"]["aspect_ratio"] == "9:16" and full["metadata"] == EXAMPLE["metadata"]
        assert full["writer"] == "outline"
        download = server.call("GET", f"{V1}/videos/{video['id']}/download").json()
        typed(download, {"id": str, "download_url": str, "expires_at": str, "file_size_bytes": int, "content_type": str})
        assert download["content_type"] == "video/mp4" and download["download_url"].startswith(server.base)
        mp4 = server.call("GET", download["download_url"], headers={"Authorization": ""})
        assert mp4.status == 200 and len(mp4.body) == download["file_size_bytes"], "signed: no key needed"
        out = tmp_path / "habits.mp4"
        out.write_bytes(mp4.body)
        info = probe(out)
        assert (info.video.width, info.video.height) == (1080, 1920) and "audio" in info.kinds()
        thumb = server.call("GET", full["output"]["thumbnail_url"], headers={"Authorization": ""})
        assert thumb.status == 200 and thumb.body[:3] == b"\xff\xd8\xff"
        listed = server.call("GET", f"{V1}/videos").json()
        assert listed["object"] == "list" and listed["has_more"] is False and listed["next_cursor"] is None
        typed(listed["data"][0], {"id": str, "status": str, "idea": str, "style": str, "thumbnail_url": str,
                                  "duration": int, "created_at": str, "completed_at": str})
        refused = server.call("DELETE", f"{V1}/videos/{video['id']}")
        assert refused.status == 409 and refused.json()["error"]["code"] == "job_already_processing"
        published = server.call("POST", f"{V1}/videos/{video['id']}/publish",
                                {"platform": "tiktok", "account_id": "acc_1"})
        assert published.status == 501 and "not offered by a local renderer" in published.json()["error"]["message"]


def test_test_keys_webhooks_catalogs_previews_and_the_error_table(tmp_path: Path):
    data = tmp_path / "data"
    live = make_key(data)
    test_key = make_key(data, "--test")
    env = {"REELFORGE_SERVE_WORKERS": "0", "REELFORGE_SERVE_SUBMISSIONS_PER_MINUTE": "8"}
    with receiving(failures=5) as receiver, \
            serving(data, "--allow-webhook-host", "127.0.0.1", "--webhook-backoff", "0.1", env=env) as server:
        def error(answer, status: int, code: str | None = None) -> dict:
            assert answer.status == status, (answer.status, answer.body)
            body = answer.json()["error"]
            assert set(body) >= {"code", "message", "request_id"} and body["request_id"] == answer.headers["x-request-id"]
            assert code is None or body["code"] == code, body
            return body

        error(server.call("GET", f"{V1}/videos"), 401)
        error(server.call("GET", f"{V1}/videos", key="tv_live_7xK9mP2nQ4rS8tU1vW3yZ5"), 401)
        server.secret = test_key
        endpoint = server.call("POST", f"{V1}/webhook_endpoints", {"url": receiver.url}).json()
        assert endpoint["secret"].startswith("whsec_")
        made = server.call("POST", f"{V1}/videos", EXAMPLE).json()
        assert made["credits_used"] == 0, "a test key uses no credit"
        deadline = time.monotonic() + 60
        while server.call("GET", f"{V1}/videos/{made['id']}").json()["status"] != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        queued = receiver.wait(lambda d: json.loads(d.body)["type"] == "video.queued" and d.status == 200, timeout=60)
        tries = [d for d in receiver.deliveries if json.loads(d.body)["type"] == "video.queued"]
        assert [d.status for d in tries] == [500] * 5 + [200], "up to five retries"
        assert queued and len({d.json()["id"] for d in tries}) == 1
        receiver.wait(lambda d: json.loads(d.body)["type"] == "video.completed" and d.status == 200, timeout=60)
        for delivery in receiver.deliveries:
            event = delivery.json()
            assert tikvod_signature_ok(endpoint["secret"], delivery.body, delivery.headers["tikvod-signature"])
            assert not tikvod_signature_ok("whsec_wrong", delivery.body, delivery.headers["tikvod-signature"])
            typed(event, {"id": str, "object": str, "type": str, "created_at": str, "data": dict})
            assert event["data"]["id"] == made["id"] and event["data"]["metadata"] == EXAMPLE["metadata"]
        kinds = {d.json()["type"] for d in receiver.deliveries}
        assert kinds == {"video.queued", "video.processing", "video.completed"}

        server.secret = live
        preview = server.call("POST", f"{V1}/scripts/preview", {"idea": "Start with water. Plan three tasks.",
                                                                "style": "Faceless story"}).json()
        typed(preview, {"object": str, "hook": str, "segments": list, "word_count": int, "estimated_duration": int})
        typed(preview["segments"][0], {"text": str, "estimated_seconds": int})
        voices = server.call("GET", f"{V1}/voices").json()["data"]
        assert {"aria_us", "leo_uk", "mia_calm", "max_energetic", "en_US-joe-medium"} <= {v["id"] for v in voices}
        for voice in voices:
            typed(voice, {"id": str, "name": str, "locale": str, "gender": str, "style": str, "preview_url": str})
        sample = server.call("GET", voices[0]["preview_url"], headers={"Authorization": ""})
        assert sample.status == 200 and sample.body[:4] == b"RIFF"
        styles = server.call("GET", f"{V1}/styles").json()["data"]
        assert [s["id"] for s in styles] == ["faceless_story", "listicle"]
        assert all(isinstance(s["description"], str) for s in styles)
        captions = server.call("GET", f"{V1}/captions/styles").json()["data"]
        assert captions[0] == {"id": "bold_pop", "name": "Bold Pop", "words_per_line": 3}

        first = server.call("POST", f"{V1}/videos", EXAMPLE).json()
        second = server.call("POST", f"{V1}/videos", dict(EXAMPLE, idea="Second idea.")).json()
        page = server.call("GET", f"{V1}/videos?limit=1").json()
        assert page["has_more"] is True and page["next_cursor"] == second["id"] and page["data"][0]["id"] == second["id"]
        after = server.call("GET", f"{V1}/videos?limit=1&starting_after={page['next_cursor']}").json()
        assert after["data"][0]["id"] == first["id"]
        assert server.call("GET", f"{V1}/videos?status=queued").json()["data"][0]["status"] == "queued"
        cancelled = server.call("DELETE", f"{V1}/videos/{first['id']}").json()
        assert cancelled["status"] == "cancelled" and cancelled["credits_refunded"] == 1
        typed(cancelled, {"id": str, "object": str, "status": str, "credits_refunded": int, "cancelled_at": str})

        error(server.call("POST", f"{V1}/videos", {k: v for k, v in EXAMPLE.items() if k != "idea"}), 400)
        error(server.call("POST", f"{V1}/videos", dict(EXAMPLE, duration=10)), 400)
        unavailable = error(server.call("POST", f"{V1}/videos", dict(EXAMPLE, style="Talking avatar")), 400,
                            "style_unavailable")
        assert "not offered by a local renderer" in unavailable["message"]
        error(server.call("GET", f"{V1}/videos/vid_0000000000000000000000"), 404)
        error(server.call("GET", f"{V1}/videos/{made['id']}"), 404)  # another key's video
        assert cli("keys", "quota", key_id(data, live), "2", "--data", data).returncode == 0
        assert server.call("GET", f"{V1}/account/credits").json()["credits"] == 1  # the cancelled one was refunded
        assert server.call("POST", f"{V1}/videos", EXAMPLE).status == 200
        error(server.call("POST", f"{V1}/videos", EXAMPLE), 402, "insufficient_credits")
        statuses = [server.call("POST", f"{V1}/videos", EXAMPLE) for _ in range(3)]  # 8 submissions a minute
        limited = error(statuses[-1], 429)
        assert int(statuses[-1].headers["retry-after"]) >= 1 and "try again" in limited["message"]
        assert statuses[-1].headers["x-ratelimit-limit"] == "600"
        assert "Traceback" not in server.log.read_text()
