"""/compat/tutorflow against a real `reelforge serve` on loopback: the document's curl commands (create, render,
poll; the base URL changed), every documented response field with its type, the edit surface as core edit
operations (a re-render after one scene's TTS makes only that scene's speech again), idempotency, async mode, and
two clients editing at once (If-Match revisions: 409, never a lost edit)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("av")

from conftest import slow  # noqa: E402
from service_tools import make_key, multipart, serving  # noqa: E402

from mediatools import make_test_image, probe  # noqa: E402

VIDEOS = "/compat/tutorflow/v1/platform/videos"
EXAMPLE = {"prompt": "What is photosynthesis? A 30-second explainer for kids", "sceneCount": 4, "aspectRatio": "16:9",
           "targetDurationSeconds": 30}
FIELDS = {"id": str, "videoId": (str, type(None)), "status": str, "isTerminal": bool, "title": (str, type(None)),
          "description": (str, type(None)), "language": (str, type(None)), "sceneCount": (int, type(None)),
          "aspectRatio": (str, type(None)), "targetDurationSeconds": (int, float, type(None)), "slug": (str, type(None)),
          "tier": (str, type(None)), "mode": (str, type(None)), "priceSnapshot": (dict, type(None)),
          "shareToken": (str, type(None)), "editToken": (str, type(None)), "editTokenExpiresAt": (str, type(None)),
          "previewUrl": (str, type(None)), "publicUrl": (str, type(None)), "renderStatus": (str, type(None)),
          "videoKey": (str, type(None)), "renderTriggerUrl": (str, type(None)), "renderPollUrl": (str, type(None)),
          "pollAfterMs": (int, type(None)), "idempotencyKey": (str, type(None)),
          "idempotentReplay": (bool, type(None)), "createdAt": str, "completedAt": (str, type(None))}


def check_video(body: dict) -> None:
    for name, kind in FIELDS.items():
        assert name in body, name
        assert isinstance(body[name], kind), (name, body[name])
    assert body["status"] in ("PENDING", "PROCESSING", "COMPLETED", "FAILED")
    assert body["renderStatus"] in ("IDLE", "RENDERING", "COMPLETED", "FAILED")
    assert body["isTerminal"] == (body["status"] in ("COMPLETED", "FAILED"))


def curl(*args: str) -> dict:
    run = subprocess.run(["curl", "-sS", *args], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def poll_render(server, token: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = server.call("GET", f"{VIDEOS}/edit/{token}", headers={}).json()
        check_video(body)
        if body["renderStatus"] in ("COMPLETED", "FAILED"):
            return body
        assert body["renderStatus"] == "RENDERING" and time.monotonic() < deadline, body
        time.sleep(0.2)


@slow("piper")
def test_the_curl_workflow_renders_and_one_scenes_tts_makes_only_that_scene_again(tmp_path: Path):
    data = tmp_path / "data"
    secret = make_key(data)
    with serving(data) as server:
        created = curl("-X", "POST", f"{server.base}{VIDEOS}", "-H", f"Authorization: Bearer {secret}", "-H",
                       "Content-Type: application/json", "-d", json.dumps(EXAMPLE))
        check_video(created)
        assert created["status"] == "COMPLETED" and created["renderStatus"] == "IDLE" and created["mode"] == "sync"
        assert created["sceneCount"] == 2 and created["idempotentReplay"] is None and created["pollAfterMs"] is None
        assert created["renderTriggerUrl"] == f"POST {VIDEOS}/edit/{created['editToken']}/render"
        token = created["editToken"]
        # the document's render and poll commands carry no key: the edit token is the credential
        rendering = curl("-X", "POST", f"{server.base}{VIDEOS}/edit/{token}/render")
        check_video(rendering)
        assert rendering["renderStatus"] == "RENDERING" and rendering["videoKey"]
        first = poll_render(server, token)
        assert first["renderStatus"] == "COMPLETED", first
        assert first["editTokenExpiresAt"] > created["editTokenExpiresAt"], "the edit token slides on every read"
        job = lambda body: server.call("GET", f"/v1/renders/{body['videoKey'].split('/')[1]}",  # noqa: E731
                                       key=secret).json()["result"]
        before = job(first)
        speech = lambda: sorted(p.name for p in (data / "cache" / "tts").rglob("*.wav"))  # noqa: E731
        spoken = speech()
        second_scene = first["scenes"][1]["id"]
        edited = server.call("POST", f"{VIDEOS}/edit/{token}/scenes/{second_scene}/tts",
                             {"text": "Plants turn sunlight, water and air into sugar."}, headers={}).json()
        assert edited["revision"] == first["revision"] + 1
        assert [s["ttsStale"] for s in edited["scenes"]] == [False, True], "only that scene's speech is stale"
        assert [s["renderStale"] for s in edited["scenes"]] == [False, True]
        server.call("POST", f"{VIDEOS}/edit/{token}/render", headers={})
        again = poll_render(server, token)
        after = job(again)
        assert len(speech()) == len(spoken) + 1, "one scene's speech was made again, the other's reused"
        assert after["cacheHits"] > 0 and after["cacheMisses"] < before["cacheMisses"], (before, after)
        video = server.call("GET", again["videoUrl"], headers={})
        assert video.status == 200
        out = tmp_path / "photosynthesis.mp4"
        out.write_bytes(video.body)
        info = probe(out)
        assert (info.video.width, info.video.height) == (1920, 1080) and "audio" in info.kinds()
        page = server.call("GET", created["publicUrl"], headers={})
        assert page.status == 200 and b"photosynthesis" in page.body.lower()


def test_edits_revisions_idempotency_async_and_errors(tmp_path: Path, ):
    data = tmp_path / "data"
    secret = make_key(data)
    png = make_test_image(tmp_path / "clip.png", 320, 180).read_bytes()
    with serving(data, env={"REELFORGE_SERVE_WORKERS": "0"}) as server:
        no_key = server.call("POST", VIDEOS, EXAMPLE)
        assert no_key.status == 401 and no_key.json()["statusCode"] == 401 and no_key.json()["error"] == "Unauthorized"
        server.secret = secret
        bad = server.call("POST", VIDEOS, dict(EXAMPLE, sceneCount=0))
        assert bad.status == 400 and "sceneCount" in bad.json()["message"]
        assert server.call("POST", VIDEOS, dict(EXAMPLE, targetDurationSeconds=5)).status == 400
        assert server.call("GET", f"{VIDEOS}/edit/nope").status == 404
        assert server.call("GET", f"{VIDEOS}/0000").status == 404

        first = server.call("POST", VIDEOS, EXAMPLE, headers={"Idempotency-Key": "req-1"})
        replay = server.call("POST", VIDEOS, EXAMPLE, headers={"Idempotency-Key": "req-1"})
        assert first.status == replay.status == 201
        assert replay.json()["id"] == first.json()["id"] and replay.json()["idempotentReplay"] is True
        by_body = server.call("POST", VIDEOS, dict(EXAMPLE, idempotencyKey="req-2")).json()
        assert server.call("POST", VIDEOS, dict(EXAMPLE, idempotencyKey="req-2")).json()["id"] == by_body["id"]
        assert by_body["idempotencyKey"] == "req-2"
        assert server.call("POST", VIDEOS, dict(EXAMPLE, prompt="Other.", idempotencyKey="req-2")).status == 409

        queued = server.call("POST", VIDEOS, dict(EXAMPLE, mode="async")).json()
        check_video(queued)
        assert queued["mode"] == "async" and queued["pollAfterMs"] == 1000
        deadline = time.monotonic() + 30
        while not (polled := server.call("GET", f"{VIDEOS}/{queued['id']}").json())["isTerminal"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert polled["status"] == "COMPLETED" and polled["videoId"]

        token = first.json()["editToken"]
        edit = f"{VIDEOS}/edit/{token}"
        start = server.call("GET", edit, headers={}).json()
        revision = start["revision"]
        # two clients read revision r; B edits first; A's edit made against r is refused, then redone against r+1
        b = server.call("POST", f"{edit}/scenes", {"text": "Leaves are green because of chlorophyll."},
                        headers={"If-Match": str(revision)})
        assert b.status == 200 and b.json()["revision"] == revision + 1 and b.headers["etag"] == f'"{revision + 1}"'
        a = server.call("PATCH", f"{edit}/scenes/{start['scenes'][0]['id']}", {"title": "Intro"},
                        headers={"If-Match": str(revision)})
        assert a.status == 409 and a.json()["revision"] == revision + 1
        a = server.call("PATCH", f"{edit}/scenes/{start['scenes'][0]['id']}", {"title": "Intro"},
                        headers={"If-Match": f'"{revision + 1}"'})
        assert a.status == 200
        scenes = a.json()["scenes"]
        assert scenes[0]["title"] == "Intro" and scenes[-1]["text"] == "Leaves are green because of chlorophyll."
        added = scenes[-1]["id"]
        clip = server.call("POST", f"{edit}/scenes/{added}/clip/select", {"clipId": "gradient:3"}, headers={}).json()
        assert clip["scenes"][-1]["visual"]["colors"] == ["#e8505b", "#3b0d1c"]
        body, kind = multipart({"sceneId": added}, [("leaf.png", png)], file_field="file")
        uploaded = server.call("POST", f"{edit}/clips/upload", body, headers={"Content-Type": kind}).json()
        assert uploaded["scenes"][-1]["visual"]["source"] == {"uploadName": "leaf.png"}
        listed = server.call("GET", f"{edit}/clips", headers={}).json()["data"]
        assert {"clipId": "upload:leaf.png", "kind": "upload", "uploadName": "leaf.png"} in listed
        bgm = server.call("POST", f"{edit}/bgm/select", {"preset": "calm"}, headers={}).json()
        assert bgm["bgm"]["mood"] == "calm" and "music" in bgm["stale"]
        fixed = server.call("PATCH", f"{edit}/scenes/{added}", {"durationSeconds": 9}, headers={}).json()
        assert fixed["scenes"][-1]["durationSeconds"] == 9
        synced = server.call("POST", f"{edit}/sync-durations", headers={}).json()
        assert synced["scenes"][-1]["durationSeconds"] is None
        undone = server.call("POST", f"{edit}/undo", headers={}).json()
        assert undone["scenes"][-1]["durationSeconds"] == 9 and undone["canRedo"] is True
        redone = server.call("POST", f"{edit}/redo", headers={}).json()
        assert redone["scenes"][-1]["durationSeconds"] is None
        removed = server.call("DELETE", f"{edit}/scenes/{added}", headers={}).json()
        assert [s["id"] for s in removed["scenes"]] == [s["id"] for s in start["scenes"]]
        assert server.call("DELETE", f"{edit}/scenes/nope", headers={}).status == 400
        saved = json.loads((data / "projects" / first.json()["id"] / "project.json").read_text())
        assert saved["scenes"][0]["title"] == "Intro" and saved["music"]["mood"] == "calm", "saved after each edit"

        rendering = server.call("POST", f"{edit}/render", headers={}).json()
        assert rendering["renderStatus"] == "RENDERING"
        idle = server.call("POST", f"{edit}/render/cancel", headers={}).json()
        assert idle["renderStatus"] == "IDLE"
        preview = server.call("GET", first.json()["previewUrl"], headers={})
        assert preview.status == 200 and b"<video" in preview.body
        assert "Traceback" not in server.log.read_text()
