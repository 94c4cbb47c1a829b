"""/compat/avs against a real `reelforge serve` on loopback: the AVS document's own examples (from-json with a
job-scoped upload, from-prompt with an asset URL and a webhook), every documented field of a job, the phases, and
the webhook signature checked with the document's recipe (HMAC-SHA256 of the raw body with the job's secret)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("av")

from conftest import slow  # noqa: E402
from service_tools import make_key, multipart, receiving, serving  # noqa: E402

from mediatools import make_test_clip, probe, serving as serving_files  # noqa: E402

AVS = "/compat/avs"
# The document's examples, as written (only the base URL and the example.com addresses change in the tests).
FROM_PROMPT = {
    "prompt": "Create a 20 second product teaser using the uploaded footage.",
    "assetUrls": ["https://example.com/intro.mp4"],
    "output": {"aspectRatio": "16:9", "quality": "studio"},
    "webhook": {"url": "https://example.com/webhooks/avs", "secret": "whsec_..."},
}
FROM_JSON = {
    "template": {
        "version": "1",
        "name": "Launch teaser",
        "blocks": [
            {"type": "video", "start": 0, "duration": 5, "source": {"uploadName": "hero.mp4"}},
            {"type": "text", "start": 0, "duration": 5, "text": "Now shipping"},
        ],
    },
    "output": {"aspectRatio": "9:16", "quality": "web"},
}
PHASES = {"queued", "preparing_assets", "generating", "rendering", "completed", "failed"}
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def check_job(job: dict, mode: str) -> None:
    """Every field the document shows, with its type."""
    assert set(job) >= {"jobId", "mode", "status", "phase", "createdAt", "updatedAt", "error", "result"}, job
    assert isinstance(job["jobId"], str) and job["mode"] == mode
    assert job["status"] in {"queued", "running", "completed", "failed"} and job["phase"] in PHASES
    assert ISO.match(job["createdAt"]) and ISO.match(job["updatedAt"])
    assert job["error"] is None or isinstance(job["error"], dict)
    if job["status"] == "completed" and job["result"] is not None:
        assert isinstance(job["result"]["downloadUrl"], str) and ISO.match(job["result"]["expiresAt"])
    elif job["status"] != "completed":
        assert job["result"] is None


def avs_signature_ok(secret: str, body: bytes, header: str) -> bool:
    """The document's recipe: `X-AVS-Signature: sha256=<hex>`, HMAC-SHA256 of the raw body with the secret."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


def poll(server, job_id: str, timeout: float = 240) -> tuple[dict, list[str]]:
    import time

    phases, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = server.call("GET", f"{AVS}/api/v1/jobs/{job_id}")
        assert answer.status == 200, answer.body
        job = answer.json()
        check_job(job, job["mode"])
        if not phases or phases[-1] != job["phase"]:
            phases.append(job["phase"])
        if job["status"] in ("completed", "failed"):
            return job, phases
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


@slow("piper")
def test_the_from_json_example_with_an_upload_renders_and_downloads_without_a_token(tmp_path: Path):
    data = tmp_path / "data"
    secret = make_key(data)
    clip = make_test_clip(tmp_path / "hero.mp4", seconds=5).read_bytes()
    with serving(data) as server:
        server.secret = secret
        body, kind = multipart({"request": json.dumps(FROM_JSON)}, [("hero.mp4", clip)])
        answer = server.call("POST", f"{AVS}/api/v1/videos/from-json", body, headers={"Content-Type": kind})
        assert answer.status == 202, answer.body
        job = answer.json()
        check_job(job, "json")
        assert job["status"] == "queued" and job["phase"] == "queued" and job["jobId"].startswith("job_")
        done, phases = poll(server, job["jobId"])
        assert done["status"] == "completed" and done["phase"] == "completed" and done["error"] is None, done
        assert set(phases) <= PHASES and phases[-1] == "completed"
        url = done["result"]["downloadUrl"]
        assert url.startswith(server.base + "/"), "links are absolute on the server's own address"
        video = server.call("GET", url, headers={"Authorization": ""})
        assert video.status == 200 and video.headers["content-type"] == "video/mp4"
        out = tmp_path / "teaser.mp4"
        out.write_bytes(video.body)
        info = probe(out)
        assert (info.video.width, info.video.height) == (1080, 1920) and abs(info.seconds - 5) < 0.1
        share = server.call("GET", done["result"]["shareUrl"], headers={"Authorization": ""})
        assert share.status == 200 and b"<video" in share.body


def test_the_from_prompt_example_with_an_asset_url_and_its_signed_webhook(tmp_path: Path):
    data = tmp_path / "data"
    secret = make_key(data, "--test")  # checked and queued, completed without a render: the webhook still goes
    clip = make_test_clip(tmp_path / "intro.mp4", seconds=1).read_bytes()
    with receiving(failures=3) as receiver, serving_files({"/intro.mp4": ("video/mp4", clip)}) as files, \
            serving(data, "--allow-webhook-host", "127.0.0.1", "--allow-fetch-host", "127.0.0.1",
                    "--webhook-backoff", "0.2") as server:
        server.secret = secret
        body = copy.deepcopy(FROM_PROMPT)
        body["assetUrls"] = [f"{files}/intro.mp4"]
        body["webhook"]["url"] = receiver.url
        answer = server.call("POST", f"{AVS}/api/v1/videos/from-prompt", body)
        assert answer.status == 202, answer.body
        job = answer.json()
        check_job(job, "prompt")
        done, _ = poll(server, job["jobId"])
        assert done["status"] == "completed" and done["mode"] == "prompt"
        deliveries = receiver.wait(lambda d: d.status == 200)
        tries = [d for d in receiver.deliveries if d.headers.get("x-avs-event") == "job.completed"]
        assert [d.status for d in tries] == [500, 500, 500, 200], "3 retries with backoff"
        assert len({d.headers["x-avs-event-id"] for d in tries}) == 1
        for delivery in tries:
            assert avs_signature_ok("whsec_...", delivery.body, delivery.headers["x-avs-signature"])
            assert not avs_signature_ok("whsec_other", delivery.body, delivery.headers["x-avs-signature"])
            sent = delivery.json()
            assert delivery.headers["x-avs-timestamp"] == str(sent["timestamp"])
            check_job(sent["job"], "prompt")
            assert sent["job"]["jobId"] == job["jobId"] and sent["event"] == "job.completed"
        assert len(deliveries) == 1 and len(receiver.deliveries) == 4, "only the terminal event is sent"
        document = json.loads((data / "jobs" / job["jobId"] / "job.json").read_text())["document"]
        assert document["output"] == {"aspectRatio": "16:9", "quality": "studio"}
        assert {s["visual"]["source"]["url"] for s in document["scenes"]} == {f"{files}/intro.mp4"}


def test_avs_refusals(tmp_path: Path):
    data = tmp_path / "data"
    secret = make_key(data)
    with serving(data, env={"REELFORGE_SERVE_WORKERS": "0"}) as server:
        no_key = server.call("GET", f"{AVS}/api/v1/jobs/job_x")
        assert no_key.status == 401 and no_key.json()["error"]["code"] == "missing_api_key"
        server.secret = secret
        assert server.call("GET", f"{AVS}/api/v1/jobs/job_0000000000000000000000").status == 404
        bad = copy.deepcopy(FROM_JSON)
        bad["template"]["blocks"][1]["duration"] = -1
        refused = server.call("POST", f"{AVS}/api/v1/videos/from-json", bad)
        assert refused.status == 422
        assert refused.json()["error"]["details"]["errors"][0]["path"].startswith("template.blocks[1]")
        missing = server.call("POST", f"{AVS}/api/v1/videos/from-json", FROM_JSON)  # hero.mp4 not uploaded
        assert missing.status == 422 and "hero.mp4" in missing.json()["error"]["message"]
        queued = server.call("POST", f"{AVS}/api/v1/videos/from-prompt", {"prompt": "One line."}).json()
        cancelled = server.call("POST", f"{AVS}/api/v1/jobs/{queued['jobId']}/cancel").json()
        assert cancelled["status"] == "failed" and cancelled["error"]["code"] == "cancelled"
