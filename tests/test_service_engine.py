"""The job engine without HTTP: recovery after a kill, one server per data folder, submission order, the symlink
rule, messages without server paths, upload sniffing, rate limits, and `render --progress json`."""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from conftest import run_cli
from reelforge.errors import DocumentError, Problem
from reelforge.progress import CancelToken
from reelforge.reports import error_report, split_path
from reelforge.resolve.media import MediaError
from reelforge.service import Engine, ServiceSettings
from reelforge.service.errors import Conflict, Unavailable
from reelforge.service.executor import Executor, RenderTask
from reelforge.service.limits import RateLimiter
from reelforge.service.uploads import sniff
from service_tools import color_document, upload_document


class HeldExecutor(Executor):
    """Runs nothing until told: records the tasks it was given (a stand-in only for where renders run)."""

    def __init__(self, slots: int = 1):
        self.slots = slots
        self.tasks: list[tuple[RenderTask, Future, CancelToken]] = []
        self.lock = threading.Lock()

    def submit(self, task, on_progress, cancel) -> Future:
        future: Future = Future()
        with self.lock:
            self.tasks.append((task, future, cancel))
        return future

    def wait_for(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.tasks) < count:
            assert time.monotonic() < deadline, f"{len(self.tasks)} tasks, wanted {count}"
            time.sleep(0.02)


def engine_at(data: Path, executor: Executor | None = None, **settings) -> Engine:
    return Engine(ServiceSettings(data=data, **{"workers": 0, **settings}), executor=executor)


def wait_status(engine: Engine, key, job_id: str, status: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while (job := engine.get(key, job_id)).status != status:
        assert time.monotonic() < deadline, job
        time.sleep(0.02)
    return job


def test_jobs_run_in_submission_order_one_slot_at_a_time(tmp_path: Path):
    held = HeldExecutor(slots=1)
    engine = engine_at(tmp_path, held)
    engine.start()
    try:
        key, _ = engine.keys.create("k")
        ids = [engine.submit(key, engine.open_draft(), color_document()).id for _ in range(3)]
        held.wait_for(1)
        time.sleep(0.3)
        assert [task.job_id for task, _, _ in held.tasks] == ids[:1]
        held.tasks[0][1].set_result({"duration": 1.5, "captions": []})
        held.wait_for(2)
        assert [task.job_id for task, _, _ in held.tasks] == ids[:2]
        assert wait_status(engine, key, ids[0], "completed").progress == 100
        task = held.tasks[1][0]
        assert RenderTask.from_dict(json.loads(json.dumps(task.to_dict()))) == task, "a task is plain data"
        assert task.job.sources.confine_uploads and not task.job.sources.path_sources
        assert engine.cancel(key, ids[1], wait=0.2).status == "rendering" and held.tasks[1][2].cancelled
    finally:
        engine.stop(timeout=1)


def test_after_a_kill_rendering_jobs_run_again_until_their_attempts_are_spent(tmp_path: Path):
    engine = engine_at(tmp_path, max_attempts=2)
    key, _ = engine.keys.create("k")
    first = engine.submit(key, engine.open_draft(), color_document())
    second = engine.submit(key, engine.open_draft(), color_document())
    queued = engine.submit(key, engine.open_draft(), color_document())
    now = time.time()
    with engine.store.write() as db:  # as a killed server leaves them: rendering, after 1 and 2 attempts
        db.execute("UPDATE jobs SET status = 'rendering', attempts = 1 WHERE id = ?", (first.id,))
        db.execute("UPDATE jobs SET status = 'rendering', attempts = 2 WHERE id = ?", (second.id,))
        db.execute("INSERT INTO idempotency (key_id, idem_key, request_hash, created_at) VALUES ('k', 'i', 'h', ?)", (now,))
    (tmp_path / "jobs" / first.id / "work").mkdir()
    (tmp_path / "jobs" / first.id / "output").mkdir()
    (tmp_path / "jobs" / first.id / "output" / ".video.mp4.123.partial.mp4").write_bytes(b"half")
    orphan = tmp_path / "jobs" / "rnd_draftofadeadrequest0"
    (orphan / "uploads").mkdir(parents=True)
    engine.store.close()

    again = engine_at(tmp_path, HeldExecutor(slots=0), max_attempts=2)
    again.start()
    try:
        assert again.get(key, first.id).status == "queued" and again.get(key, first.id).attempts == 1
        failed = again.get(key, second.id)
        assert failed.status == "failed" and failed.error["code"] == "interrupted" and "2 attempts" in failed.error["message"]
        assert again.get(key, queued.id).status == "queued"
        assert not (tmp_path / "jobs" / first.id / "work").exists()
        assert not list((tmp_path / "jobs" / first.id / "output").iterdir())
        assert not orphan.exists()
        assert again.store.read().execute("SELECT COUNT(*) FROM idempotency WHERE status IS NULL").fetchone()[0] == 0
        assert [e["type"] for e in again.events(second.id)] == ["render.queued", "render.failed"]
    finally:
        again.stop(timeout=1)


def test_one_server_per_data_folder(tmp_path: Path):
    first = engine_at(tmp_path)
    first.start()
    try:
        with pytest.raises(Unavailable, match="another reelforge server"):
            engine_at(tmp_path).start()
    finally:
        first.stop(timeout=1)
    second = engine_at(tmp_path)
    second.start()
    second.stop(timeout=1)


def test_a_symlink_in_a_job_folder_cannot_lead_outside_it(tmp_path: Path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    engine = engine_at(tmp_path / "data", workers=1)
    engine.start()
    try:
        key, _ = engine.keys.create("k")
        draft = engine.open_draft()
        os.symlink(secret, draft.uploads / "a.png")  # however it got there
        draft.files["a.png"] = "image/png"
        job = engine.submit(key, draft, upload_document("a.png"))
        failed = wait_status(engine, key, job.id, "failed", timeout=120)
        assert failed.error == {"code": "source_refused", "path": "scenes[0].visual.source.uploadName",
                                "message": "'a.png' leads outside the job's folder"}
    finally:
        engine.stop(timeout=5)


def test_an_upload_never_writes_through_a_symlink(tmp_path: Path):
    engine = engine_at(tmp_path / "data")
    draft = engine.open_draft()
    target = tmp_path / "target.png"
    target.write_bytes(b"keep")
    os.symlink(target, draft.uploads / "a.png")
    with pytest.raises(Exception, match="two files"):
        draft.upload("a.png")
    assert target.read_bytes() == b"keep"


def test_messages_lose_server_paths(tmp_path: Path):
    engine = engine_at(tmp_path / "data")
    job_uploads = tmp_path / "data" / "jobs" / "rnd_x" / "uploads"
    text = engine.public_text(f"scenes[0].visual.source: not a readable media file: {job_uploads}/clip.mp4 "
                              f"(InvalidDataError: /usr/lib/x/libav.so) at https://example.com/a/b.mp4", "rnd_x")
    assert text == ("scenes[0].visual.source: not a readable media file: clip.mp4 (InvalidDataError: libav.so) at "
                    "https://example.com/a/b.mp4")


def test_error_reports_carry_code_message_and_path():
    report = error_report(DocumentError([Problem("scenes[2].visual.color", "not a color")]))
    assert report == {"code": "invalid_document", "message": "not a color", "path": "scenes[2].visual.color",
                      "exitCode": 2}
    report = error_report(MediaError("music.source.url: cannot fetch http://x/a.mp3: HTTP 404 Not Found"))
    assert (report["code"], report["path"]) == ("media_error", "music.source.url")
    assert error_report(KeyError("secret"))["message"] == "internal error: KeyError"
    assert split_path("no path here: at all") == (None, "no path here: at all")


def test_sniffing_knows_media_by_its_bytes():
    assert sniff(b"\x89PNG\r\n\x1a\n....") == "image/png"
    assert sniff(b"\x00\x00\x00\x18ftypmp42") == "video/mp4"
    assert sniff(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "audio/wav"
    assert sniff(b"ID3\x04") == "audio/mpeg" and sniff(b"OggS\x00") == "audio/ogg"
    assert sniff(b"\x1a\x45\xdf\xa3....webm") == "video/webm"
    for other in (b"#!/bin/sh\n", b"<html>", b"%PDF-1.7", b"PK\x03\x04", b"MZ\x90\x00", b""):
        assert sniff(other) is None


def test_rate_limit_windows():
    limiter = RateLimiter(2, window=60)
    assert [limiter.hit("k", now=t).allowed for t in (0, 1, 2)] == [True, True, False]
    blocked = limiter.hit("k", now=30)
    assert not blocked.allowed and blocked.remaining == 0 and blocked.reset_seconds == 30
    assert limiter.hit("k", now=60.5).allowed and limiter.hit("other", now=2).allowed


def test_the_active_limit_counts_queued_and_rendering(tmp_path: Path):
    engine = engine_at(tmp_path, active_jobs_per_key=1)
    key, _ = engine.keys.create("k")
    job = engine.submit(key, engine.open_draft(), color_document())
    with pytest.raises(Conflict):
        engine.submit(key, engine.open_draft(), color_document())
    engine.cancel(key, job.id)
    assert engine.submit(key, engine.open_draft(), color_document()).status == "queued"
    assert len(list((tmp_path / "jobs").iterdir())) == 2


def test_render_progress_json_reports_an_error_with_code_and_path(tmp_path: Path):
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(color_document(scenes=[{"id": "a", "duration": 1, "visual": {"type": "color",
                                                                                                "color": "nope"}}])))
    result = run_cli("render", source, "-o", tmp_path / "out.mp4", "--progress", "json")
    assert result.returncode == 2
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[-1]["type"] == "error" and lines[-1]["code"] == "invalid_document"
    assert lines[-1]["path"] == "scenes[0].visual.color" and lines[-1]["exitCode"] == 2


@pytest.mark.slow
def test_render_progress_json_is_one_object_per_line(tmp_path: Path):
    source = tmp_path / "doc.json"
    source.write_text(json.dumps(color_document()))
    out = tmp_path / "out.mp4"
    result = run_cli("render", source, "-o", out, "--progress", "json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    progress = [line for line in lines if line["type"] == "progress"]
    assert progress and all(set(p) == {"type", "stage", "fraction", "etaSeconds"} for p in progress)
    assert [p["fraction"] for p in progress] == sorted(p["fraction"] for p in progress)
    final = lines[-1]
    assert final["type"] == "result" and final["path"] == str(out.resolve()) and final["width"] == 540
    assert out.stat().st_size == final["sizeBytes"]
