"""/compat/vidgen against a real `reelforge serve` on loopback: the document's curl command (base URL changed), the
status, list and cancel answers field by field, its error table, per-IP limits with RateLimit-* headers, and the
webhook signature checked by the document's own Node.js snippet (its verification lines, run with node)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("av")

from conftest import slow  # noqa: E402
from service_tools import make_key, multipart, receiving, serving  # noqa: E402

from mediatools import probe, run_ffmpeg, subtitle_cues  # noqa: E402

VIDGEN = "/compat/vidgen"
SAID = "Boats sail home at dusk while the harbour lights come on."
STATUSES = {"PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"}
# The document's verification snippet, as written, without the Express app around it: the same headers, the same
# crypto calls on the raw body, the same comparison.
NODE_VERIFY = r"""
import crypto from 'crypto';
import fs from 'fs';
const req = { body: fs.readFileSync(process.argv[2]), header: (name) => JSON.parse(fs.readFileSync(process.argv[3]))[name.toLowerCase()] };
const res = { status: (code) => ({ end: () => console.log(code) }), sendStatus: (code) => console.log(code) };
const got = req.header('X-Webhook-Signature') || '';
const expected = crypto
  .createHmac('sha256', process.env.WEBHOOK_SECRET)
  .update(req.body)
  .digest('hex');
if (got.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(got), Buffer.from(expected))) {
  res.status(401).end();
} else {
  const event = JSON.parse(req.body.toString());
  res.sendStatus(200);
}
"""


def node_accepts(tmp_path: Path, secret: str, body: bytes, headers: dict[str, str]) -> bool:
    script = tmp_path / "verify.mjs"
    script.write_text(NODE_VERIFY)
    (tmp_path / "body.bin").write_bytes(body)
    (tmp_path / "headers.json").write_text(json.dumps(headers))
    run = subprocess.run(["node", str(script), str(tmp_path / "body.bin"), str(tmp_path / "headers.json")],
                         capture_output=True, text=True, timeout=60, env={"WEBHOOK_SECRET": secret, "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stderr
    return run.stdout.strip() == "200"


def portrait_jpeg(path: Path) -> Path:
    from mediatools import make_test_image
    from PIL import Image

    make_test_image(path.with_suffix(".png"), 540, 960)
    Image.open(path.with_suffix(".png")).convert("RGB").save(path, "JPEG", quality=90)
    return path


def voiceover_mp3(path: Path) -> Path:
    wav = path.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), SAID], check=True, timeout=120)
    run_ffmpeg("-i", wav, "-c:a", "libmp3lame", "-b:a", "96k", path)
    return path


def check_status(body: dict) -> None:
    assert set(body) == {"jobId", "status", "progress", "outputVideo", "outputShareLink", "errorMessage",
                         "createdAt", "updatedAt"}, body
    assert isinstance(body["jobId"], str) and body["status"] in STATUSES
    assert isinstance(body["progress"], int) and 0 <= body["progress"] <= 100
    for name in ("outputVideo", "outputShareLink", "errorMessage"):
        assert body[name] is None or isinstance(body[name], str)
    assert body["createdAt"].endswith("Z") and body["updatedAt"].endswith("Z")


@pytest.mark.skipif(shutil.which("node") is None or shutil.which("curl") is None, reason="needs node and curl")
@slow("faster_whisper")
def test_the_curl_example_makes_a_captioned_video_and_a_webhook_node_accepts(tmp_path: Path):
    data = tmp_path / "data"
    secret = make_key(data)
    image, audio = portrait_jpeg(tmp_path / "portrait.jpg"), voiceover_mp3(tmp_path / "voiceover.mp3")
    with receiving() as receiver, serving(data, "--allow-webhook-host", "127.0.0.1") as server:
        assert server.call("GET", f"{VIDGEN}/health").json() == {"status": "ok"}
        # The document's curl command, the base URL (and the webhook's address) changed:
        curl = subprocess.run(["curl", "-sS", "-X", "POST", f"{server.base}{VIDGEN}/api/jobs", "-H",
                               f"X-API-Key: {secret}", "-F", f"image=@{image}", "-F", f"audio=@{audio}",
                               "-F", f"webhookUrl={receiver.url}"], capture_output=True, text=True, timeout=120)
        created = json.loads(curl.stdout)
        assert set(created) == {"message", "jobId"} and created["message"] == "Job created", curl.stdout
        job_id = created["jobId"]
        key = {"X-API-Key": secret}
        seen = set()
        deadline = time.monotonic() + 240
        while True:
            answer = server.call("GET", f"{VIDGEN}/api/status/{job_id}", headers=key)
            assert answer.status == 200 and answer.headers["ratelimit-limit"] == "600"
            status = answer.json()
            check_status(status)
            seen.add(status["status"])
            if status["status"] in ("COMPLETED", "FAILED"):
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        assert status["status"] == "COMPLETED" and status["progress"] == 100 and status["errorMessage"] is None, status
        assert seen <= {"PENDING", "PROCESSING", "COMPLETED"}
        video = server.call("GET", status["outputVideo"], headers={})
        assert video.status == 200 and status["outputVideo"].startswith(server.base)
        out = tmp_path / "out.mp4"
        out.write_bytes(video.body)
        info = probe(out)
        recorded = probe(audio).seconds
        assert (info.video.width, info.video.height) == (1080, 1920) and abs(info.seconds - recorded) < 0.15
        assert "subtitle" in info.kinds(), "captions from recognition"
        said = " ".join(cue.text for cue in subtitle_cues(out, tmp_path)).lower()
        assert "harbo" in said or "boats" in said, said
        page = server.call("GET", status["outputShareLink"], headers={})
        assert page.status == 200 and b"<video" in page.body
        listed = server.call("GET", f"{VIDGEN}/api/jobs", headers=key).json()
        assert set(listed) == {"jobs", "pagination"} and listed["pagination"] == {"limit": 20, "nextCursor": None,
                                                                                "hasNextPage": False}
        item = listed["jobs"][0]
        assert set(item) == {"id", "status", "outputVideo", "outputShareLink", "errorMessage", "retries", "createdAt",
                             "updatedAt", "webhookUrl"}
        assert item["id"] == job_id and item["retries"] == 0 and item["webhookUrl"] == receiver.url
        delivery = receiver.wait(lambda d: True)[0]
        hook_secret = server.call("GET", f"{VIDGEN}/api/webhook-secret", headers=key).json()["webhookSecret"]
        assert node_accepts(tmp_path, hook_secret, delivery.body, delivery.headers), "the document's snippet accepts it"
        assert not node_accepts(tmp_path, hook_secret + "x", delivery.body, delivery.headers)
        assert not node_accepts(tmp_path, hook_secret, delivery.body + b" ", delivery.headers)
        event = delivery.json()
        check_status(event)
        assert event["status"] == "COMPLETED" and event["outputVideo"]
        assert len(receiver.deliveries) == 1, "only the end of a job is sent"


def test_the_error_table_limits_and_cancel(tmp_path: Path):
    data = tmp_path / "data"
    secret = make_key(data)
    other = make_key(data)
    from mediatools import make_test_image

    png = make_test_image(tmp_path / "a.png", 64, 64).read_bytes()
    import wave

    with wave.open(str(tmp_path / "a.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x10" * 16000)
    wav = (tmp_path / "a.wav").read_bytes()
    env = {"REELFORGE_SERVE_WORKERS": "0", "REELFORGE_SERVE_SUBMISSIONS_PER_MINUTE": "10"}
    with serving(data, env=env) as server:
        key = {"X-API-Key": secret}

        def submit(files: dict[str, tuple[str, bytes]], fields: dict | None = None, headers=key):
            _, kind = multipart({}, [])
            boundary = kind.split("boundary=")[1]
            chunks = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n".encode()
                      for n, v in (fields or {}).items()]
            for field_name, (filename, content) in files.items():
                chunks.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field_name}\"; "
                              f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
                              + content + b"\r\n")
            chunks.append(f"--{boundary}--\r\n".encode())
            return server.call("POST", f"{VIDGEN}/api/jobs", b"".join(chunks), headers={**headers, "Content-Type": kind})

        def error(answer, status: int) -> dict:
            assert answer.status == status, (answer.status, answer.body)
            body = answer.json()
            assert isinstance(body["error"], str) and body["error"] and isinstance(body["code"], str)
            return body

        missing = error(server.call("GET", f"{VIDGEN}/api/jobs"), 401)
        assert "key" in missing["error"].lower()
        error(server.call("GET", f"{VIDGEN}/api/jobs", headers={"X-API-Key": "nope"}), 401)
        error(submit({"image": ("a.png", png)}), 400)  # no audio
        error(submit({"image": ("a.png", png), "audio": ("a.wav", wav)}, {"webhookUrl": "http://your.app/hook"}), 400)
        error(submit({"image": ("a.png", b"GIF89a" + png[6:]), "audio": ("a.wav", wav)}), 415)
        error(submit({"image": ("a.png", png), "audio": ("a.txt", b"just some text, not audio" * 4)}), 415)
        error(submit({"image": ("a.png", png + b"\0" * 50_100_000), "audio": ("a.wav", wav)}), 413)
        created = submit({"image": ("a.png", png), "audio": ("a.wav", wav)})
        assert created.status == 201, created.body
        job_id = created.json()["jobId"]
        error(submit({"image": ("a.png", png), "audio": ("a.wav", wav)}), 409)  # one active job per key
        error(server.call("GET", f"{VIDGEN}/api/status/{job_id}", headers={"X-API-Key": other}), 404)
        error(server.call("GET", f"{VIDGEN}/api/jobs?limit=0", headers=key), 400)
        error(server.call("GET", f"{VIDGEN}/api/jobs?limit=101", headers=key), 400)
        pending = server.call("GET", f"{VIDGEN}/api/jobs?status=PENDING&limit=1", headers=key).json()
        assert [j["id"] for j in pending["jobs"]] == [job_id] and pending["pagination"]["limit"] == 1
        cancelled = server.call("POST", f"{VIDGEN}/api/jobs/{job_id}/cancel", headers=key)
        assert cancelled.status == 200 and cancelled.json() == {"success": True, "message": "Job cancelled successfully"}
        assert server.call("GET", f"{VIDGEN}/api/status/{job_id}", headers=key).json()["status"] == "CANCELLED"
        error(server.call("POST", f"{VIDGEN}/api/jobs/{job_id}/cancel", headers=key), 409)  # not PENDING any more
        again = submit({"image": ("a.png", png), "audio": ("a.wav", wav)})
        assert again.status == 201 and again.headers["ratelimit-limit"] == "10"
        assert int(again.headers["ratelimit-remaining"]) == 2 and int(again.headers["ratelimit-reset"]) >= 1
        assert server.call("DELETE", f"{VIDGEN}/api/jobs/{again.json()['jobId']}", headers=key).status == 200
        statuses = [submit({"image": ("a.png", png)}).status for _ in range(4)]
        assert statuses[-1] == 429, statuses
        limited = error(submit({"image": ("a.png", png)}), 429)
        assert limited["retryAfterSeconds"] >= 1
        text = server.log.read_text()
        assert "Traceback" not in text, text[-3000:]
