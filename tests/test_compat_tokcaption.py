"""/compat/tokcaption against a real `reelforge serve` on loopback: the document's request example (its URLs
pointed at a file server on loopback), inline single answers (200) and batches (202) polled to a `partial` result,
the creator's subtitle track preferred over recognition, NO_CAPTIONS_AVAILABLE for silence, translation refused
per item, every documented field with its type, and the error envelope (401, 404, 400, 429 RATE_LIMIT_EXCEEDED
with retry_after_seconds)."""

from __future__ import annotations

import copy
import subprocess
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("av")

from conftest import slow  # noqa: E402
from service_tools import make_key, serving  # noqa: E402

from mediatools import run_ffmpeg, serving as serving_files  # noqa: E402

JOBS = "/compat/tokcaption/api/v1/jobs"
SAID = "Whenever I am asked to teach a beginner how to cook, I start with an egg."
REQUEST_EXAMPLE = {
    "urls": ["https://www.tiktok.com/@creator/video/1234567890", "https://www.tiktok.com/@creator/video/0987654321"],
    "output_language": "en",
    "also_translate_to": ["es"],
    "include_download_assets": False,
    "idempotency_key": "client-req-001",
}
ITEM_FIELDS = {"id": str, "transcript_id": str, "item_index": int, "status": str}


def media(folder: Path) -> dict[str, bytes]:
    wav = folder / "said.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), SAID], check=True, timeout=120)
    run_ffmpeg("-f", "lavfi", "-i", "color=c=#204060:s=320x240:r=30", "-i", wav, "-shortest", "-c:v", "libx264",
               "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", folder / "speech.mp4")
    (folder / "creator.srt").write_text("1\n00:00:00,000 --> 00:00:01,500\nMade by the creator\n\n"
                                        "2\n00:00:01,500 --> 00:00:02,900\nwith her own captions\n")
    run_ffmpeg("-f", "lavfi", "-i", "color=c=#602040:s=320x240:r=30:d=3", "-f", "lavfi", "-i",
               "sine=frequency=300:duration=3", "-i", folder / "creator.srt", "-map", "0:v", "-map", "1:a", "-map",
               "2:s", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-c:s", "mov_text",
               folder / "creator.mp4")
    run_ffmpeg("-f", "lavfi", "-i", "color=c=black:s=320x240:r=30:d=2", "-f", "lavfi", "-i",
               "anullsrc=r=48000:cl=mono:d=2", "-shortest", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt",
               "yuv420p", "-c:a", "aac", folder / "silence.mp4")
    run_ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono:d=65", "-c:a", "libmp3lame", "-b:a", "32k",
               folder / "long.mp3")
    return {name: (folder / name).read_bytes() for name in ("speech.mp4", "creator.mp4", "silence.mp4", "long.mp3")}


def typed(body: dict, fields: dict) -> None:
    for name, kind in fields.items():
        assert name in body and isinstance(body[name], kind), (name, body)


def check_job(body: dict) -> None:
    typed(body, {"job_id": str, "status": str, "total_items": int, "items": list})
    assert body["status"] in ("queued", "processing", "completed", "failed", "partial")
    assert len(body["items"]) == body["total_items"]
    for index, item in enumerate(body["items"]):
        typed(item, ITEM_FIELDS)
        assert item["item_index"] == index and item["status"] in ("queued", "processing", "completed", "failed")
        if item["status"] == "completed":
            typed(item, {"output_language": str, "source_language": str, "selected_track_type": str,
                         "transcript_text": str, "metadata": dict, "completed_at": str})
            assert item["selected_track_type"] in ("creator", "asr")
        if item["status"] == "failed":
            typed(item, {"error_code": str, "error_message": str})


@slow("faster_whisper")
def test_the_request_example_inline_answers_batches_and_partial_results(tmp_path: Path):
    data = tmp_path / "data"
    secret = make_key(data)
    files = media(tmp_path)
    routes = {f"/@creator/video/{name}": ("video/mp4" if name.endswith("mp4") else "audio/mpeg", body)
              for name, body in files.items()}
    with serving_files(routes) as site, serving(data, "--allow-fetch-host", "127.0.0.1") as server:
        url = lambda name: f"{site}/@creator/video/{name}"  # noqa: E731
        key = {"X-API-Key": secret}
        single = server.call("POST", JOBS, {"urls": [url("speech.mp4")]}, headers=key, timeout=180)
        assert single.status == 200, single.body
        body = single.json()
        check_job(body)
        assert (body["status"], body["completed"], body["failed"]) == ("completed", 1, 0)
        item = body["items"][0]
        assert item["selected_track_type"] == "asr" and item["input_url"] == url("speech.mp4")
        assert "beginner" in item["transcript_text"].lower() and "egg" in item["transcript_text"].lower()
        assert 3 < item["metadata"]["duration_seconds"] < 8

        creator = server.call("POST", JOBS, {"urls": [url("creator.mp4")]}, headers={"Authorization": f"Bearer {secret}"},
                              timeout=180).json()
        assert creator["items"][0]["selected_track_type"] == "creator"
        assert creator["items"][0]["transcript_text"] == "Made by the creator with her own captions"

        example = copy.deepcopy(REQUEST_EXAMPLE)
        example["urls"] = [url("speech.mp4"), url("silence.mp4")]
        batch = server.call("POST", JOBS, example, headers=key)
        assert batch.status == 202, batch.body
        accepted = batch.json()
        check_job(accepted)
        assert accepted["total_items"] == 2 and accepted["status"] in ("queued", "processing")
        assert [i["input_url"] for i in accepted["items"]] == example["urls"]
        replay = server.call("POST", JOBS, example, headers=key).json()
        assert replay["job_id"] == accepted["job_id"], "the same idempotency_key is the same job"
        deadline = time.monotonic() + 240
        while (polled := server.call("GET", f"{JOBS}/{accepted['job_id']}", headers=key).json())["status"] in (
                "queued", "processing"):
            check_job(polled)
            assert time.monotonic() < deadline, polled
            time.sleep(0.2)
        check_job(polled)
        assert (polled["status"], polled["completed"], polled["failed"]) == ("partial", 1, 1)
        done, silent = polled["items"]
        assert silent["error_code"] == "NO_CAPTIONS_AVAILABLE" and silent["status"] == "failed"
        assert done["translations"] == [{"language": "es", "status": "failed", "error_code": "TRANSLATION_NOT_AVAILABLE",
                                         "error_message": done["translations"][0]["error_message"]}]
        assert "offline" in done["translations"][0]["error_message"]

        long = server.call("POST", JOBS, {"urls": [url("long.mp3")]}, headers=key, timeout=180)
        assert long.status == 202 and long.json()["status"] in ("queued", "processing"), long.body

        refused = server.call("POST", JOBS, {"urls": ["http://127.0.0.2:9/private.mp4"]}, headers=key, timeout=180)
        assert refused.status == 200 and refused.json()["items"][0]["error_code"] == "URL_REFUSED", refused.body
        assert "Traceback" not in server.log.read_text()


def test_the_error_envelope(tmp_path: Path):
    data = tmp_path / "data"
    secret = make_key(data)
    env = {"REELFORGE_SERVE_WORKERS": "0", "REELFORGE_SERVE_SUBMISSIONS_PER_MINUTE": "3",
           "REELFORGE_SERVE_INLINE_TRANSCRIBE_SECONDS": "0"}
    with serving(data, env=env) as server:
        def error(answer, status: int, code: str) -> dict:
            assert answer.status == status, (answer.status, answer.body)
            body = answer.json()["error"]
            typed(body, {"code": str, "message": str, "details": dict})
            assert body["code"] == code, body
            return body

        error(server.call("POST", JOBS, REQUEST_EXAMPLE), 401, "UNAUTHORIZED")
        key = {"X-API-Key": secret}
        error(server.call("GET", f"{JOBS}/tcj_0000000000000000000000", headers=key), 404, "JOB_NOT_FOUND")
        error(server.call("POST", JOBS, {"urls": ["ftp://example.com/a.mp4"]}, headers=key), 400, "INVALID_URL")
        error(server.call("POST", JOBS, {"urls": []}, headers=key), 400, "INVALID_REQUEST")
        from mediatools import write_wav_tone
        from service_tools import multipart

        body, kind = multipart({"request": '{"output_language": "en"}'},
                               [("clip.wav", write_wav_tone(tmp_path / "clip.wav", 1.0).read_bytes())])
        uploaded = server.call("POST", JOBS, body, headers={**key, "Content-Type": kind})  # the third this minute
        assert uploaded.status == 202 and uploaded.json()["items"][0]["input_file"] == "clip.wav", uploaded.body
        assert uploaded.json()["items"][0]["input_url"] is None
        limited = error(server.call("POST", JOBS, REQUEST_EXAMPLE, headers=key), 429, "RATE_LIMIT_EXCEEDED")
        assert limited["retry_after_seconds"] >= 1 and limited["details"]["retry_after_seconds"] >= 1
