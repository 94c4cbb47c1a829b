"""The /v1 routes' logic through FastAPI's TestClient over a real engine in a temporary data folder (no render
workers unless a test asks: jobs stay queued, test keys' jobs complete without rendering)."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("av")

from fastapi.testclient import TestClient  # noqa: E402

from mediatools import make_test_image  # noqa: E402
from reelforge.service import ServiceSettings  # noqa: E402
from reelforge_api import create_app  # noqa: E402
from service_tools import color_document, multipart, upload_document  # noqa: E402


class Api:
    def __init__(self, client: TestClient, data: Path):
        self.client = client
        self.engine = client.app.state.engine
        self.data = data
        self.key, self.secret = self.engine.keys.create("main")

    def auth(self, secret: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret or self.secret}"}

    def post(self, path: str, body=None, *, secret: str | None = None, headers: dict | None = None, **kwargs):
        return self.client.post(path, json=body, headers={**self.auth(secret), **(headers or {})}, **kwargs)

    def get(self, path: str, *, secret: str | None = None, **kwargs):
        return self.client.get(path, headers=self.auth(secret), **kwargs)


@pytest.fixture
def make_api(tmp_path: Path):
    made = []

    def make(**settings) -> Api:
        data = tmp_path / f"data{len(made)}"
        client = TestClient(create_app(ServiceSettings(data=data, workers=settings.pop("workers", 0), **settings)))
        client.__enter__()
        made.append(client)
        return Api(client, data)

    yield make
    for client in made:
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_api) -> Api:
    return make_api()


@pytest.fixture(scope="module")
def png(tmp_path_factory) -> bytes:
    return make_test_image(tmp_path_factory.mktemp("img") / "a.png", 64, 64).read_bytes()


def assert_envelope(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "requestId", "details"}
    assert error["requestId"] == response.headers["x-request-id"]
    if code is not None:
        assert error["code"] == code, error
    assert "Traceback" not in response.text and "\n" not in error["message"]
    return error


def no_server_paths(text: str, api: Api) -> None:
    assert str(api.data) not in text and "/tmp" not in text and "/work" not in text, text


# -- keys ------------------------------------------------------------------------------------------------------

def test_health_needs_no_key_and_v1_needs_one(api: Api):
    assert api.client.get("/health").json()["status"] == "ok"
    assert_envelope(api.client.get("/v1/renders"), 401, "missing_api_key")
    assert_envelope(api.client.get("/v1/renders", headers={"Authorization": "Bearer rf_live_nope"}), 401,
                    "invalid_api_key")
    assert api.client.get("/v1/renders", headers={"X-API-Key": api.secret}).status_code == 200
    assert api.client.get("/v1/renders", headers={"Authorization": f"Bearer {api.secret}"}).status_code == 200


def test_keys_are_stored_hashed_and_revoke_and_rotate_take_effect_at_once(api: Api):
    stored = [row["hash"] for row in api.engine.store.read().execute("SELECT hash FROM keys")]
    assert api.secret not in stored and all(re.fullmatch(r"[0-9a-f]{64}", h) for h in stored)
    job = api.post("/v1/renders", color_document()).json()
    key, new_secret = api.engine.keys.rotate(api.key.id)
    assert_envelope(api.get("/v1/renders"), 401)
    assert api.get(f"/v1/renders/{job['id']}", secret=new_secret).status_code == 200, "a rotated key keeps its jobs"
    api.engine.keys.revoke(api.key.id)
    assert_envelope(api.get("/v1/renders", secret=new_secret), 401)


def test_a_key_sees_only_its_own_jobs(api: Api):
    job = api.post("/v1/renders", color_document()).json()
    _, other = api.engine.keys.create("other")
    assert_envelope(api.get(f"/v1/renders/{job['id']}", secret=other), 404, "render_not_found")
    assert_envelope(api.post(f"/v1/renders/{job['id']}/cancel", secret=other), 404)
    assert api.get("/v1/renders", secret=other).json()["data"] == []


def test_a_test_key_queues_jobs_that_complete_without_rendering(api: Api):
    _, test_secret = api.engine.keys.create("ci", test=True)
    answer = api.post("/v1/renders", color_document(), secret=test_secret)
    assert answer.status_code == 202 and answer.json()["status"] == "queued" and answer.json()["test"] is True
    deadline = time.monotonic() + 30
    while (job := api.get(f"/v1/renders/{answer.json()['id']}", secret=test_secret).json())["status"] != "completed":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["result"]["test"] is True and "downloadUrl" not in job["result"]
    assert not (api.data / "jobs" / job["id"] / "output" / "video.mp4").exists()
    assert_envelope(api.get(f"/v1/renders/{job['id']}/video", secret=test_secret), 404, "no_output")
    bad = api.post("/v1/renders", color_document(fps=7), secret=test_secret)
    assert_envelope(bad, 422, "invalid_document")


# -- submitting ------------------------------------------------------------------------------------------------

def test_submit_answers_202_with_the_job_and_echoes_metadata(api: Api):
    answer = api.post("/v1/renders", {"document": color_document(), "quality": "web", "metadata": {"order": "A-1"}})
    assert answer.status_code == 202
    job = answer.json()
    assert job["id"].startswith("rnd_") and job["status"] == "queued" and job["phase"] == "queued"
    assert job["metadata"] == {"order": "A-1"} and job["quality"] == "web" and job["progress"] == 0
    assert answer.headers["ratelimit-limit"] == "30"  # the submission limit's headers
    assert api.get(f"/v1/renders/{job['id']}").json()["createdAt"] == job["createdAt"]


def test_a_bare_document_is_a_body_too(api: Api):
    assert api.post("/v1/renders", color_document()).status_code == 202


def test_multipart_with_uploads(api: Api, png: bytes):
    body, kind = multipart({"document": json.dumps(upload_document("a.png", "b.png")), "quality": "draft",
                            "metadata": json.dumps({"n": 2})}, [("a.png", png), ("b.png", png)])
    answer = api.client.post("/v1/renders", content=body, headers={**api.auth(), "Content-Type": kind})
    assert answer.status_code == 202, answer.text
    job = answer.json()
    uploads = api.data / "jobs" / job["id"] / "uploads"
    assert sorted(p.name for p in uploads.iterdir()) == ["a.png", "b.png"]
    assert (uploads / "a.png").read_bytes() == png and job["metadata"] == {"n": 2}


def test_an_invalid_document_is_422_with_every_error_at_its_json_path(api: Api):
    document = color_document(fps=7)
    document["scenes"][0]["visual"]["color"] = "blue-ish"
    error = assert_envelope(api.post("/v1/renders", document), 422, "invalid_document")
    paths = {e["path"] for e in error["details"]["errors"]}
    assert {"scenes[0].visual.color"} <= paths and error["message"].split(":")[0] in paths
    assert not list((api.data / "jobs").iterdir()), "a refused submission left its folder"


def test_malformed_json_is_400_and_other_content_types_415(api: Api):
    assert_envelope(api.client.post("/v1/renders", content=b"{nope", headers={**api.auth(), "Content-Type":
                                                                               "application/json"}), 400, "malformed_json")
    assert_envelope(api.client.post("/v1/renders", content=b"<xml/>", headers={**api.auth(), "Content-Type":
                                                                                "application/xml"}), 415)
    assert_envelope(api.client.post("/v1/renders", content=b"x", headers=api.auth()), 415)


def test_a_file_is_typed_by_its_bytes_not_its_name(api: Api):
    body, kind = multipart({"document": json.dumps(upload_document("a.png"))}, [("a.png", b"#!/bin/sh\necho hi\n" * 10)])
    error = assert_envelope(api.client.post("/v1/renders", content=body, headers={**api.auth(), "Content-Type": kind}),
                            415, "unsupported_file_type")
    assert "a.png" in error["message"]
    assert not list((api.data / "jobs").iterdir())


def test_uploads_are_cut_off_at_the_cap_while_streaming(make_api, png: bytes):
    api = make_api(max_upload_bytes=200_000, max_job_bytes=300_000)
    big = png + b"\0" * 400_000

    sent = []

    def chunks():
        body, _ = multipart({"document": json.dumps(upload_document("a.png"))}, [("a.png", big)])
        for start in range(0, len(body), 16384):
            sent.append(start)
            yield body[start:start + 16384]

    _, kind = multipart({}, [])
    kind = None
    body, kind = multipart({"document": json.dumps(upload_document("a.png"))}, [("a.png", big)])
    boundary_kind = kind
    error = assert_envelope(api.client.post("/v1/renders", content=body, headers={**api.auth(), "Content-Type":
                                                                                    boundary_kind}), 413, "file_too_large")
    assert "0.2 MB" in error["message"]
    two, kind = multipart({"document": json.dumps(upload_document("a.png", "b.png"))},
                          [("a.png", png + b"\0" * 150_000), ("b.png", png + b"\0" * 150_000)])
    assert_envelope(api.client.post("/v1/renders", content=two, headers={**api.auth(), "Content-Type": kind}), 413,
                    "job_too_large")
    assert not list((api.data / "jobs").iterdir())


def test_a_json_body_over_its_cap_is_413(make_api):
    api = make_api(max_json_bytes=2048)
    document = color_document(description="x" * 4000)
    assert_envelope(api.post("/v1/renders", document), 413, "body_too_large")


def test_the_active_jobs_limit_is_409(make_api):
    api = make_api(active_jobs_per_key=2)
    for _ in range(2):
        assert api.post("/v1/renders", color_document()).status_code == 202
    error = assert_envelope(api.post("/v1/renders", color_document()), 409, "too_many_active_jobs")
    assert error["details"]["limit"] == 2


def test_rate_limits_answer_429_with_retry_after(make_api):
    api = make_api(requests_per_minute=5, submissions_per_minute=2)
    for _ in range(2):
        assert api.post("/v1/renders", color_document()).status_code == 202
    limited = api.post("/v1/renders", color_document())
    error = assert_envelope(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) == error["details"]["retryAfterSeconds"] > 0
    assert limited.headers["ratelimit-remaining"] == "0"
    answers = [api.get("/v1/renders") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["ratelimit-limit"] == "5" and answers[1].headers["ratelimit-remaining"] == "0"


# -- idempotency -----------------------------------------------------------------------------------------------

def test_an_idempotent_retry_answers_the_original_and_another_body_409(api: Api, png: bytes):
    first = api.post("/v1/renders", color_document(), headers={"Idempotency-Key": "order-42"})
    again = api.post("/v1/renders", color_document(), headers={"Idempotency-Key": "order-42"})
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again.json()["idempotentReplay"] is True
    assert again.headers["idempotent-replayed"] == "true"
    assert len(api.get("/v1/renders").json()["data"]) == 1
    assert_envelope(api.post("/v1/renders", color_document(name="Other"), headers={"Idempotency-Key": "order-42"}),
                    409, "idempotency_key_reused")
    # multipart: the same parts with another boundary are the same request
    parts = ({"document": json.dumps(upload_document("a.png"))}, [("a.png", png)])
    answers = []
    for _ in range(2):
        body, kind = multipart(*parts)
        answers.append(api.client.post("/v1/renders", content=body, headers={**api.auth(), "Content-Type": kind,
                                                                              "Idempotency-Key": "upload-1"}))
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert len(list((api.data / "jobs").iterdir())) == 2, "the replay's uploads were kept"
    # a refused request is replayed as refused
    bad = [api.post("/v1/renders", color_document(fps=7), headers={"Idempotency-Key": "bad-1"}) for _ in range(2)]
    assert bad[0].status_code == bad[1].status_code == 422 and bad[1].json() == bad[0].json()


def test_idempotency_records_expire(make_api):
    api = make_api(idempotency_seconds=0.5)
    first = api.post("/v1/renders", color_document(), headers={"Idempotency-Key": "k"}).json()
    time.sleep(0.7)
    second = api.post("/v1/renders", color_document(), headers={"Idempotency-Key": "k"}).json()
    assert first["id"] != second["id"]


# -- reading, listing, cancelling --------------------------------------------------------------------------------

def test_list_is_newest_first_with_cursor_pagination_and_a_status_filter(api: Api):
    ids = [api.post("/v1/renders", color_document()).json()["id"] for _ in range(5)]
    api.post(f"/v1/renders/{ids[0]}/cancel")
    page = api.get("/v1/renders", params={"limit": 2}).json()
    assert [j["id"] for j in page["data"]] == ids[::-1][:2] and page["hasMore"] and page["nextCursor"] == ids[3]
    rest = api.get("/v1/renders", params={"limit": 10, "cursor": page["nextCursor"]}).json()
    assert [j["id"] for j in rest["data"]] == ids[::-1][2:] and not rest["hasMore"] and rest["nextCursor"] is None
    assert [j["id"] for j in api.get("/v1/renders", params={"status": "cancelled"}).json()["data"]] == [ids[0]]
    assert_envelope(api.get("/v1/renders", params={"limit": 101}), 422)
    assert_envelope(api.get("/v1/renders", params={"status": "done"}), 422)


def test_cancel_while_queued_and_again_is_a_no_op(api: Api):
    job = api.post("/v1/renders", color_document()).json()
    cancelled = api.post(f"/v1/renders/{job['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = api.post(f"/v1/renders/{job['id']}/cancel").json()
    assert again["status"] == "cancelled" and again["finishedAt"] == cancelled.json()["finishedAt"]
    assert [e["type"] for e in api.get(f"/v1/renders/{job['id']}/events").json()["data"]] == [
        "render.queued", "render.cancelled"]


def test_downloads_of_an_unfinished_job_are_409_and_bad_links_404(api: Api):
    job = api.post("/v1/renders", color_document()).json()
    assert_envelope(api.get(f"/v1/renders/{job['id']}/video"), 409, "render_not_completed")
    assert_envelope(api.client.get(f"/v1/renders/{job['id']}/video?expires=9999999999&signature=00"), 404,
                    "link_expired")
    assert_envelope(api.client.get(f"/v1/renders/{job['id']}/video"), 401)


# -- safety -------------------------------------------------------------------------------------------------------

def video(source: dict) -> dict:
    return {"version": "1", "name": "x", "scenes": [{"id": "a", "duration": 1, "visual": {"type": "video", "source": source}}]}


@pytest.mark.parametrize("source, where, words", [
    ({"path": "/etc/passwd"}, "scenes[0].visual.source.path", "not accepted"),
    ({"path": "../../etc/passwd"}, "scenes[0].visual.source.path", "not accepted"),
    ({"url": "http://127.0.0.1:1/clip.mp4"}, "scenes[0].visual.source.url", "loopback"),
    ({"url": "http://169.254.169.254/latest/meta-data"}, "scenes[0].visual.source.url", "link-local"),
    ({"url": "http://[::1]/clip.mp4"}, "scenes[0].visual.source.url", "loopback"),
    ({"uploadName": "../x"}, "scenes[0].visual.source.uploadName", ""),
    ({"uploadName": "missing.mp4"}, "scenes[0].visual.source.uploadName", "no file named"),
])
def test_ssrf_and_traversal_attempts_are_refused_at_their_json_path(api: Api, source: dict, where: str, words: str):
    error = assert_envelope(api.post("/v1/renders", video(source)), 422)
    assert error["details"]["errors"][0]["path"] == where and words in error["message"], error
    no_server_paths(json.dumps(error), api)
    report = api.post("/v1/validate", video(source)).json()
    assert report["valid"] is (words == "no file named") or report["errors"][0]["path"] == where


def test_an_upload_named_with_a_path_is_refused(api: Api, png: bytes):
    for name in ("../x.png", "/etc/x.png", ".hidden.png", "a/b.png"):
        body, kind = multipart({"document": json.dumps(upload_document("x.png"))}, [(name, png)])
        error = assert_envelope(api.client.post("/v1/renders", content=body, headers={**api.auth(), "Content-Type": kind}),
                                422, "invalid_upload_name")
        no_server_paths(error["message"], api)
    assert not list((api.data / "jobs").iterdir())


def test_a_media_root_lets_path_sources_in_but_not_out(make_api, tmp_path: Path):
    media = tmp_path / "media"
    media.mkdir()
    api = make_api(media_root=media)
    assert api.post("/v1/renders", video({"path": "clips/a.mp4"})).status_code == 202
    error = assert_envelope(api.post("/v1/renders", video({"path": "../outside.mp4"})), 422)
    assert "outside the media folder" in error["message"]
    no_server_paths(json.dumps(error), api)


def test_webhooks_need_https_to_a_public_host_unless_allowed(make_api):
    api = make_api()
    hook = lambda url: {"document": color_document(), "webhook": {"url": url, "secret": "s3cret-value"}}  # noqa: E731
    for url in ("http://127.0.0.1:9/hook", "https://127.0.0.1:9/hook", "http://93.184.216.34/hook", "ftp://x/y"):
        error = assert_envelope(api.post("/v1/renders", hook(url)), 422, "webhook_refused")
        assert error["details"]["errors"][0]["path"] == "webhook.url"
    assert_envelope(api.post("/v1/renders", {"document": color_document(), "webhook": {"url": "https://93.184.216.34/h"}}),
                    422)
    allowed = make_api(allow_webhook_hosts=("127.0.0.1",))
    assert allowed.post("/v1/renders", hook("http://127.0.0.1:9/hook")).status_code == 202


def test_metadata_is_at_most_twenty_keys(api: Api):
    assert_envelope(api.post("/v1/renders", {"document": color_document(), "metadata": {str(i): i for i in range(21)}}),
                    422)
    assert api.post("/v1/renders", {"document": color_document(), "metadata": {str(i): i for i in range(20)}}).status_code == 202


# -- validate, catalogs, docs -----------------------------------------------------------------------------------

def test_validate_renders_nothing_and_reports_at_json_paths(api: Api):
    good = api.post("/v1/validate", color_document()).json()
    assert good == {"valid": True, "errors": [], "warnings": [], "estimatedDuration": 1.5}
    bad = api.post("/v1/validate", {"document": color_document(fps=7)}).json()
    assert bad["valid"] is False and bad["errors"][0]["path"] == "fps" and "unknown" in bad["errors"][0]["message"]
    assert not list((api.data / "jobs").iterdir())


def test_catalogs(api: Api):
    voices = api.get("/v1/voices").json()["data"]
    assert any(v["id"] == "en_US-joe-medium" for v in voices)
    assert {s["id"] for s in api.get("/v1/caption-styles").json()["data"]} == {"bold_pop", "minimal_white", "karaoke_neon"}
    assert "calm" in {m["id"] for m in api.get("/v1/moods").json()["data"]}
    cards = {c["id"]: c for c in api.get("/v1/cards").json()["data"]}
    assert "title" in cards and "properties" in cards["title"]["schema"]
    assert api.get("/v1/schema").json()["$schema"].startswith("https://json-schema.org/")


def test_the_docs_page_loads_only_local_assets(api: Api):
    page = api.client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text) + re.findall(r"url: ?'([^']+)'", page.text)
    assert urls and not [u for u in urls if u.startswith(("http:", "https:", "//"))], urls
    for url in urls:
        assert api.client.get(url).status_code == 200, url
    assert "swagger-ui-bundle.js" in page.text
    spec = api.client.get("/openapi.json").json()
    assert {"/v1/renders", "/v1/renders/{render_id}", "/v1/renders/{render_id}/cancel", "/v1/validate"} <= set(spec["paths"])
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "apiKey"}
    assert "multipart/form-data" in spec["paths"]["/v1/renders"]["post"]["requestBody"]["content"]


def test_unknown_routes_and_methods_answer_the_envelope(api: Api):
    assert_envelope(api.client.get("/v2/nothing"), 404, "not_found")
    assert_envelope(api.client.delete("/health"), 405, "method_not_allowed")


def test_request_ids_are_made_or_kept(api: Api):
    assert re.fullmatch(r"req_[0-9a-f]{20}", api.client.get("/health").headers["x-request-id"])
    assert api.client.get("/health", headers={"X-Request-Id": "client-7"}).headers["x-request-id"] == "client-7"
    assert api.client.get("/health", headers={"X-Request-Id": "bad id!"}).headers["x-request-id"].startswith("req_")


def test_no_module_of_the_core_imports_the_web_framework():
    import subprocess
    import sys

    code = ("import sys, reelforge.service.engine, reelforge.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'uvicorn')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ}, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
