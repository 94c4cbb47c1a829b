"""`reelforge serve` as a real uvicorn process on 127.0.0.1 (port 0, read from its port file), stopped at the end of
each test: uploads, polling, Range downloads, cancel while rendering, kill -9 and restart, webhooks to a real
receiver with retries, and the refusals a stranger meets."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("av")

from mediatools import make_test_image, probe, video_frames  # noqa: E402
from service_tools import (  # noqa: E402
    cli,
    color_document,
    make_key,
    multipart,
    receiving,
    serving,
    stop,
    upload_document,
    verify_signature,
)

NARRATION = "Boats sail home at dusk."


@pytest.fixture(scope="module")
def pngs(tmp_path_factory) -> tuple[bytes, bytes]:
    folder = tmp_path_factory.mktemp("png")
    return (make_test_image(folder / "a.png", 320, 320).read_bytes(),
            make_test_image(folder / "b.png", 200, 360).read_bytes())


def long_document(seconds: int = 40) -> dict:
    """A render that takes a while: a still with a camera move at web quality."""
    return {"version": "1", "name": "Long", "output": {"quality": "web"},
            "scenes": [{"id": "long", "duration": seconds,
                        "visual": {"type": "image", "source": {"uploadName": "a.png"}, "motion": "zoom_in"}}]}


def submit(server, document: dict, files: list[tuple[str, bytes]], **fields) -> dict:
    parts = {"document": json.dumps(document), **{k: (v if isinstance(v, str) else json.dumps(v)) for k, v in fields.items()}}
    body, kind = multipart(parts, files)
    answer = server.call("POST", "/v1/renders", body, headers={"Content-Type": kind})
    assert answer.status == 202, answer.body
    return answer.json()


def ffmpeg_children(server) -> list[int]:
    found = []
    for pid in server.children():
        try:
            if Path(f"/proc/{pid}/comm").read_text().startswith("ffmpeg"):
                found.append(pid)
        except OSError:
            pass
    return found


@pytest.mark.slow
def test_a_draft_render_with_uploads_from_submit_to_download(tmp_path: Path, pngs):
    data = tmp_path / "data"
    secret = make_key(data)
    with serving(data) as server:
        server.secret = secret
        assert server.call("GET", "/health").json()["status"] == "ok"
        job = submit(server, upload_document("a.png", "b.png", narration=NARRATION), [("a.png", pngs[0]), ("b.png", pngs[1])],
                     metadata={"ref": "e2e"})
        phases = []

        def seen(state: dict) -> bool:
            if not phases or phases[-1] != state["phase"]:
                phases.append(state["phase"])
            return True

        server.wait_for(job["id"], ("queued", "rendering", "completed", "failed"), condition=lambda j: seen(j) and
                        j["status"] in ("completed", "failed"))
        done = server.call("GET", f"/v1/renders/{job['id']}").json()
        assert done["status"] == "completed", done
        assert done["progress"] == 100 and done["metadata"] == {"ref": "e2e"} and done["error"] is None
        assert phases[-1] == "completed" and set(phases) <= {"queued", "preparing_assets", "narrating", "rendering",
                                                             "muxing", "completed"}, phases
        result = done["result"]
        assert (result["width"], result["height"]) == (540, 960)

        video = server.call("GET", f"/v1/renders/{job['id']}/video")
        assert video.status == 200 and video.headers["content-type"] == "video/mp4"
        assert video.headers["accept-ranges"] == "bytes" and len(video.body) == result["size"]
        out = tmp_path / "out.mp4"
        out.write_bytes(video.body)
        info = probe(out)
        assert info.video.width == 540 and info.video.height == 960 and "audio" in info.kinds()
        assert abs(info.seconds - result["duration"]) < 0.1 and info.video.packets == round(result["duration"] * 30)
        checked = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json",
                                             str(out)], capture_output=True, text=True, check=True, timeout=60).stdout)
        kinds = {s["codec_type"]: s for s in checked["streams"]}
        assert kinds["video"]["codec_name"] == "h264" and kinds["audio"]["codec_name"] == "aac"
        assert (kinds["video"]["width"], kinds["video"]["height"]) == (540, 960) and "subtitle" in kinds
        assert abs(float(checked["format"]["duration"]) - result["duration"]) < 0.1
        frames = video_frames(out, [0, info.video.packets - 1])
        assert len(frames) == 2 and frames[0].std() > 10, "the first frame shows the uploaded picture"

        part = server.call("GET", f"/v1/renders/{job['id']}/video", headers={"Range": "bytes=100-299"})
        assert part.status == 206 and part.body == video.body[100:300]
        assert part.headers["content-range"] == f"bytes 100-299/{len(video.body)}"

        signed = server.call("GET", result["downloadUrl"], key=None, headers={"Authorization": ""})
        assert signed.status == 200 and signed.body == video.body, "the signed link works without the key"
        tampered = result["downloadUrl"].replace("signature=", "signature=0")
        assert server.call("GET", tampered, headers={"Authorization": ""}).status == 404
        srt = server.call("GET", f"/v1/renders/{job['id']}/captions.srt").body.decode()
        vtt = server.call("GET", result["captionUrls"]["vtt"], headers={"Authorization": ""}).body.decode()
        assert "Boats" in srt and "-->" in srt and vtt.startswith("WEBVTT") and "dusk" in vtt
        assert [j["id"] for j in server.call("GET", "/v1/renders").json()["data"]] == [job["id"]]
        assert "Traceback" not in server.log.read_text()


@pytest.mark.slow
def test_cancel_while_rendering_stops_ffmpeg_and_leaves_no_output(tmp_path: Path, pngs):
    data = tmp_path / "data"
    secret = make_key(data)
    with serving(data) as server:
        server.secret = secret
        job = submit(server, long_document(), [("a.png", pngs[0])])
        server.wait_for(job["id"], ("rendering",), condition=lambda j: j["phase"] == "rendering" and j["progress"] > 0,
                        timeout=180)
        assert ffmpeg_children(server), "no ffmpeg was running"
        started = time.monotonic()
        answer = server.call("POST", f"/v1/renders/{job['id']}/cancel")
        assert answer.status == 200 and answer.json()["status"] == "cancelled", answer.body
        assert time.monotonic() - started < 30
        deadline = time.monotonic() + 10
        while ffmpeg_children(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not ffmpeg_children(server), "ffmpeg outlived the cancel"
        folder = data / "jobs" / job["id"]
        assert not list((folder / "output").iterdir()), "a cancelled render left output"
        assert not (folder / "work").exists()
        assert server.call("GET", f"/v1/renders/{job['id']}/video").status == 409
        again = server.call("POST", f"/v1/renders/{job['id']}/cancel").json()
        assert again["status"] == "cancelled"
        events = [e["type"] for e in server.call("GET", f"/v1/renders/{job['id']}/events").json()["data"]]
        assert events == ["render.queued", "render.started", "render.cancelled"]


@pytest.mark.slow
def test_kill_9_during_a_render_then_restart_completes_it_exactly_once_and_its_webhook_arrives(tmp_path: Path, pngs):
    data = tmp_path / "data"
    secret = make_key(data)
    hook_secret = "whsec-test-123456"
    with receiving() as receiver:
        with serving(data, "--allow-webhook-host", "127.0.0.1", "--webhook-backoff", "0.3") as server:
            server.secret = secret
            job = submit(server, long_document(16), [("a.png", pngs[0])],
                         webhook={"url": receiver.url, "secret": hook_secret})
            server.wait_for(job["id"], ("rendering",), condition=lambda j: j["progress"] > 0, timeout=180)
            os.killpg(server.process.pid, signal.SIGKILL)  # the server and its ffmpeg runs, at once
            server.process.wait(timeout=10)
            assert not list((data / "jobs" / job["id"] / "output").glob("video.mp4"))
        with serving(data, "--allow-webhook-host", "127.0.0.1", "--webhook-backoff", "0.3") as server:
            server.secret = secret
            done = server.wait_for(job["id"], timeout=300)
            assert done["status"] == "completed" and done["attempts"] == 2, done
            events = [e["type"] for e in server.call("GET", f"/v1/renders/{job['id']}/events").json()["data"]]
            assert events.count("render.completed") == 1 and events.count("render.started") == 2, events
            completed = receiver.wait(lambda d: d.headers.get("x-reelforge-event") == "render.completed")
            assert len({d.json()["id"] for d in completed}) == 1
            for delivery in completed:
                assert verify_signature(hook_secret, delivery.body, delivery.headers["x-reelforge-signature"])
                assert delivery.json()["data"]["render"]["id"] == job["id"]
            out = tmp_path / "restarted.mp4"
            out.write_bytes(server.call("GET", f"/v1/renders/{job['id']}/video").body)
            info = probe(out)
            assert abs(info.seconds - 16) < 0.1 and info.video.width == 1080 and info.video.packets == 16 * 30


@pytest.mark.slow
def test_a_graceful_stop_during_a_render_queues_it_again_without_spending_an_attempt(tmp_path: Path, pngs):
    data = tmp_path / "data"
    secret = make_key(data)
    with serving(data) as server:
        server.secret = secret
        job = submit(server, long_document(12), [("a.png", pngs[0])])
        server.wait_for(job["id"], ("rendering",), condition=lambda j: j["progress"] > 0, timeout=180)
        children = ffmpeg_children(server)
        server.process.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal once it has stopped; reelforge answers SIGTERM with 143
        assert server.process.wait(timeout=60) in (0, 143, -signal.SIGTERM)
        assert not [pid for pid in children if Path(f"/proc/{pid}").exists()], "ffmpeg outlived the server"
    with serving(data) as server:
        server.secret = secret
        done = server.wait_for(job["id"], timeout=300)
        assert done["status"] == "completed" and done["attempts"] == 1, done
        events = [e["type"] for e in server.call("GET", f"/v1/renders/{job['id']}/events").json()["data"]]
        assert events == ["render.queued", "render.started", "render.requeued", "render.started", "render.completed"]


def test_a_webhook_receiver_answering_500_twice_sees_the_retries(tmp_path: Path):
    data = tmp_path / "data"
    secret = make_key(data, "--test")  # a test key: the job completes without rendering, its webhooks go out
    with receiving(failures=2) as receiver:
        with serving(data, "--allow-webhook-host", "127.0.0.1", "--webhook-backoff", "0.2") as server:
            server.secret = secret
            answer = server.call("POST", "/v1/renders", {"document": color_document(),
                                                         "webhook": {"url": receiver.url, "secret": "s3cret-hook"}})
            assert answer.status == 202
            job_id = answer.json()["id"]
            deadline = time.monotonic() + 120
            while sum(d.status == 200 for d in receiver.deliveries) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            queued = [d for d in receiver.deliveries if d.headers["x-reelforge-event"] == "render.queued"]
            assert [d.status for d in queued] == [500, 500, 200], [d.status for d in receiver.deliveries]
            assert len({d.json()["id"] for d in queued}) == 1, "a retry is the same event"
            assert [d.json()["attempt"] for d in queued] == [1, 2, 3]
            for delivery in receiver.deliveries:
                body = delivery.json()
                assert verify_signature("s3cret-hook", delivery.body, delivery.headers["x-reelforge-signature"])
                assert not verify_signature("another-secret", delivery.body, delivery.headers["x-reelforge-signature"])
                assert delivery.headers["x-reelforge-timestamp"] == str(body["timestamp"])
                assert body["data"]["render"]["id"] == job_id
            gaps = [b.json()["timestamp"] - a.json()["timestamp"] for a, b in zip(queued, queued[1:])]
            assert all(gap >= 0 for gap in gaps)
            kinds = [d.headers["x-reelforge-event"] for d in receiver.deliveries if d.status == 200]
            assert sorted(kinds) == ["render.completed", "render.queued", "render.started"]
            assert len(receiver.deliveries) == 9


@contextmanager
def redirecting(location: str):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_statuses_replays_and_refusals_of_a_real_server(tmp_path: Path, pngs):
    data = tmp_path / "data"
    secret = make_key(data)
    limits = {"REELFORGE_SERVE_MAX_UPLOAD_BYTES": "300000", "REELFORGE_SERVE_SUBMISSIONS_PER_MINUTE": "13",
              "REELFORGE_SERVE_ACTIVE_JOBS_PER_KEY": "3", "REELFORGE_SERVE_WORKERS": "0"}
    with redirecting("http://169.254.169.254/latest/meta-data/") as trap, \
            serving(data, "--allow-fetch-host", "127.0.0.1", env=limits) as server:
        server.secret = secret
        status = lambda *args, **kw: server.call(*args, **kw).status  # noqa: E731
        assert status("GET", "/v1/renders", headers={"Authorization": "Bearer wrong"}) == 401
        assert status("GET", "/v1/renders/rnd_0000000000000000000000") == 404
        body, kind = multipart({"document": json.dumps(upload_document("a.png"))}, [("a.png", pngs[0] + b"\0" * 400_000)])
        assert status("POST", "/v1/renders", body, headers={"Content-Type": kind}) == 413
        assert status("POST", "/v1/renders", b"text", headers={"Content-Type": "text/plain"}) == 415
        body, kind = multipart({"document": json.dumps(upload_document("a.png"))}, [("a.png", b"MZ\x90\x00" * 64)])
        assert status("POST", "/v1/renders", body, headers={"Content-Type": kind}) == 415
        traversal = {"version": "1", "name": "x", "scenes": [{"id": "a", "duration": 1, "visual": {
            "type": "image", "source": {"path": "/etc/passwd"}}}]}
        refused = server.call("POST", "/v1/renders", traversal)
        assert refused.status == 422 and refused.json()["error"]["details"]["errors"][0]["path"] == \
            "scenes[0].visual.source.path"
        loopback = dict(traversal, scenes=[{"id": "a", "duration": 1, "visual": {"type": "image", "source": {
            "url": "http://127.0.0.2:1/a.png"}}}])
        assert status("POST", "/v1/renders", loopback) == 422  # loopback, but not the allowed 127.0.0.1
        first = server.call("POST", "/v1/renders", color_document(), headers={"Idempotency-Key": "once"})
        replay = server.call("POST", "/v1/renders", color_document(), headers={"Idempotency-Key": "once"})
        assert first.status == replay.status == 202 and replay.json()["idempotentReplay"] is True
        assert replay.json()["id"] == first.json()["id"]
        assert status("POST", "/v1/renders", color_document(name="y"), headers={"Idempotency-Key": "once"}) == 409
        redirected = dict(traversal, scenes=[{"id": "a", "duration": 1, "visual": {"type": "image", "source": {
            "url": f"{trap}/still.png"}}}])
        trapped = server.call("POST", "/v1/renders", redirected).json()
        assert server.call("POST", "/v1/renders", color_document()).status == 202
        assert status("POST", "/v1/renders", color_document()) == 409  # three active jobs: the most
        for job_id in (first.json()["id"], trapped["id"]):
            server.call("POST", f"/v1/renders/{job_id}/cancel")
        statuses = [status("POST", "/v1/validate", color_document()) for _ in range(2)]
        assert statuses == [200, 200]
        assert [status("POST", "/v1/renders", color_document()) for _ in range(3)][-1] == 429
        text = server.log.read_text()
        assert "Traceback" not in text, text[-3000:]


def test_a_redirect_to_a_metadata_address_fails_the_job_at_its_json_path(tmp_path: Path):
    data = tmp_path / "data"
    secret = make_key(data)
    with redirecting("http://169.254.169.254/latest/meta-data/") as trap, \
            serving(data, "--allow-fetch-host", "127.0.0.1") as server:
        server.secret = secret
        document = {"version": "1", "name": "x", "output": {"quality": "draft"}, "scenes": [
            {"id": "a", "duration": 1, "visual": {"type": "image", "source": {"url": f"{trap}/still.png"}}}]}
        job = server.call("POST", "/v1/renders", document).json()
        failed = server.wait_for(job["id"], timeout=120)
        assert failed["status"] == "failed", failed
        error = failed["error"]
        assert error["code"] == "source_refused" and error["path"] == "scenes[0].visual.source.url", error
        assert "169.254.169.254" in error["message"] and str(data) not in json.dumps(failed)


def test_keys_from_the_command_line(tmp_path: Path):
    data = tmp_path / "data"
    made = cli("keys", "create", "--name", "ci", "--data", data)
    assert made.returncode == 0
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("rf_live_") and secret not in (data / "reelforge.sqlite3").read_bytes().decode("latin-1")
    listed = cli("keys", "list", "--json", "--data", data)
    key = json.loads(listed.stdout.strip().splitlines()[0])
    assert key["name"] == "ci" and secret not in listed.stdout and key["hint"] == secret[:12]
    rotated = cli("keys", "rotate", key["id"], "--data", data)
    assert rotated.returncode == 0 and rotated.stdout.strip().splitlines()[-1] != secret
    assert cli("keys", "revoke", key["id"], "--data", data).returncode == 0
    assert "UTC" in cli("keys", "list", "--data", data).stdout.splitlines()[1].split("live", 1)[1]
    missing = cli("keys", "revoke", "key_nope", "--data", data)
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    assert cli("keys", "create", "--name", "x", "--test", "--data", data).stdout.strip().startswith("rf_test_")
    env_data = cli("keys", "list", env={"REELFORGE_DATA": str(data)})
    assert "ci" in env_data.stdout


def test_a_large_upload_is_refused_while_it_streams(tmp_path: Path, pngs):
    """Over a real socket: the 413 comes back before the client has sent the whole body."""
    data = tmp_path / "data"
    secret = make_key(data)
    with serving(data, env={"REELFORGE_SERVE_MAX_UPLOAD_BYTES": "1000000", "REELFORGE_SERVE_WORKERS": "0"}) as server:
        body, kind = multipart({"document": json.dumps(upload_document("a.png"))},
                               [("a.png", pngs[0] + b"\0" * 80_000_000)])
        host, port = server.base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.putrequest("POST", "/v1/renders")
        for name, value in (("Authorization", f"Bearer {secret}"), ("Content-Type", kind),
                            ("Content-Length", str(len(body)))):
            connection.putheader(name, value)
        connection.endheaders()
        sent = 0
        try:
            for start in range(0, len(body), 1 << 16):
                connection.send(body[start:start + (1 << 16)])
                sent += 1 << 16
        except (BrokenPipeError, ConnectionResetError):
            pass
        response = connection.getresponse()
        assert response.status == 413 and json.loads(response.read())["error"]["code"] == "file_too_large"
        connection.close()
        assert not list((data / "jobs").iterdir()), "the refused upload was kept"
    stop(server.process)


def test_a_second_server_on_the_same_data_folder_is_refused_in_one_line(tmp_path: Path):
    data = tmp_path / "data"
    with serving(data):
        second = cli("serve", "--port", "0", "--data", data)
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert second.stderr.strip().splitlines()[-1].endswith("another reelforge server is using this data folder")
