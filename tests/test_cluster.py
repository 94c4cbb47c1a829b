"""Renders on a Dask cluster (issue 16).

Against a real cluster started here on 127.0.0.1 (`dask scheduler` and two `dask worker --nthreads 1 --resources
encode=1` processes, stopped at the end): a batch of three documents (and a bad one that fails alone), a document
whose runs land on both workers and whose output equals a local render's, a worker SIGKILLed during a run, cancel
mid-render, an unreachable scheduler, and `serve --scheduler`. The in-process cluster (`Client(processes=False)`)
for the logic: run specs, resources, transfers, the batch's bookkeeping.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
pytest.importorskip("av")

from cluster_tools import Cluster, descendants, inprocess_cluster  # noqa: E402
from conftest import run_cli, slow  # noqa: E402
from mediatools import audio_samples, make_test_image, probe  # noqa: E402
from reelforge.cluster.connect import ClusterUnavailable, connect, encode_slots  # noqa: E402
from reelforge.cluster.runs import RUNS_TOPIC, DaskRuns  # noqa: E402
from reelforge.errors import RenderCancelled  # noqa: E402
from reelforge.job import RenderJob, prepare, run  # noqa: E402
from reelforge.progress import CancelToken  # noqa: E402
from reelforge.renderers.card_layers import with_card_files  # noqa: E402
from reelforge.renderers.ffmpeg.pipeline import input_key, plan_video  # noqa: E402
from reelforge.renderers.ffmpeg.runs import RunSpec  # noqa: E402
from reelforge.workspace import Workspace  # noqa: E402


def frame_hashes(path: Path) -> list[str]:
    """The MD5 of every decoded video frame (ffmpeg's framemd5), in order."""
    from reelforge.process import ffmpeg_exe

    out = subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-map", "0:v", "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True).stdout
    return [line.rsplit(",", 1)[1].strip() for line in out.splitlines() if line and not line.startswith("#")]


def document(quality: str = "draft", seconds: float = 3.0, text: str = "On every worker", music: bool = False) -> dict:
    """Four scenes (a picture with a camera move, a gradient, a colour, the picture again) with drawn text and two
    transitions: several runs, an input file to send, fonts to find; silent, or with composed music."""
    picture = {"type": "image", "source": {"uploadName": "a.png"}, "motion": "zoom_in"}
    return {"version": "1", "name": "Cluster", "output": {"quality": quality},
            **({"music": {"mood": "calm", "volume": 0.5}} if music else {}),
            "scenes": [
                {"id": "one", "duration": seconds, "visual": picture,
                 "overlays": [{"text": text}], "transition": {"type": "crossfade", "duration": 0.5}},
                {"id": "two", "duration": seconds, "visual": {"type": "gradient", "colors": ["#ff6600", "#2040a0"]}},
                {"id": "three", "duration": seconds, "visual": {"type": "color", "color": "#204060"},
                 "transition": {"type": "slide_left", "duration": 0.4}},
                {"id": "four", "duration": seconds, "visual": {**picture, "motion": "zoom_out"}},
            ]}


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cluster-assets")
    make_test_image(folder / "a.png", 640, 640)
    return folder


def write_document(folder: Path, name: str, **options) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps({**document(**options), "assetsDir": str(folder)}), encoding="utf-8")
    return path


# -- a real cluster ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    started = Cluster(tmp_path_factory.mktemp("dask")).start()
    started.start_worker()
    started.start_worker()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def client(cluster):
    client = distributed.Client(cluster.address, timeout=30, set_as_default=False)
    cluster.ensure_workers(2, client)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(scope="module")
def local_render(tmp_path_factory, assets) -> tuple[Path, Path, RenderJob]:
    """The web-quality document with music rendered here, without a cluster: (output, cache, job)."""
    folder = tmp_path_factory.mktemp("local")
    job = RenderJob.of(write_document(assets, "web", quality="web", music=True), folder / "local.mp4", workers=4)
    cache = folder / "cache"
    run(job, Workspace(cache))
    return folder / "local.mp4", cache, job


def cluster_render(job: RenderJob, cache: Path, client, out: Path, **options) -> tuple[DaskRuns, object]:
    runs = DaskRuns(client, **options)
    try:
        result = run(job.model_copy(update={"output": str(out)}), Workspace(cache), runs=runs)
    finally:
        runs.close()
    return runs, result


@slow()
def test_a_batch_of_three_documents_renders_each_and_a_bad_one_fails_alone(cluster, client, assets, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for number, colour in enumerate(["#aa2020", "#20aa20", "#2020aa"], start=1):
        spec = document(seconds=1.5, text=f"Document {number}")
        spec["scenes"][2]["visual"]["color"] = colour
        (docs / f"doc{number}.json").write_text(json.dumps({**spec, "assetsDir": str(assets)}), encoding="utf-8")
    (docs / "broken.json").write_text(json.dumps({"version": "1", "name": "x", "scenes": [{"id": "a"}]}))
    out = tmp_path / "out"
    result = run_cli("batch", docs, "-o", out, "--scheduler", cluster.address,
                     env={"REELFORGE_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 1, result.stderr  # one document failed; the others were rendered
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert set(rows) == {"broken", "doc1", "doc2", "doc3"}, result.stdout
    assert "scenes[0].visual" in rows["broken"]
    for number in (1, 2, 3):
        info = probe(out / f"doc{number}.mp4")
        assert abs(info.seconds - (4 * 1.5 - 0.5 - 0.4)) < 0.05, info
        assert info.video.width == 540 and info.video.height == 960  # draft 9:16
        assert re.search(r"\s\d+/\d+(\s|$)", rows[f"doc{number}"]), rows  # its cache hits
    assert not (out / "broken.mp4").exists()
    assert "3 of 4 documents rendered" in result.stderr
    assert "doc2" in result.stderr and "done in" in result.stderr  # a status line per document


@slow()
def test_a_documents_runs_land_on_both_workers_and_match_a_local_render(cluster, client, local_render, tmp_path):
    local, local_cache, job = local_render
    cache = tmp_path / "cache"
    runs, result = cluster_render(job, cache, client, tmp_path / "cluster.mp4")
    # The task log (the scheduler's `reelforge-runs` events): every run done, and by both workers.
    log = [event for _, event in client.get_events(RUNS_TOPIC) if event["render"] == runs.render]
    done = [event for event in log if event["event"] == "done"]
    assert len(done) == len(runs.log) >= 4
    assert len({event["worker"] for event in done}) == 2, log
    # Identical output and the same cache keys as the local render.
    assert frame_hashes(tmp_path / "cluster.mp4") == frame_hashes(local)
    samples = audio_samples(local)
    assert samples.size > 48000 * 10 and abs(samples).max() > 0.05  # music: there is audio to compare
    assert np.array_equal(audio_samples(tmp_path / "cluster.mp4"), samples)
    assert sorted(p.name for p in (cache / "segments").iterdir()) == \
        sorted(p.name for p in (local_cache / "segments").iterdir())
    assert result.cache_misses == len(list((cache / "segments").iterdir())) + 1
    # Workers share no disk by assumption: the picture was sent, and kept in a worker's own cache.
    assert list(cluster.folder.glob("w*/**/reelforge-cache/inputs/file-*"))
    again = run(job.model_copy(update={"output": str(tmp_path / "again.mp4")}), Workspace(cache))
    assert again.cache_misses == 0  # the pieces came back into the client's cache


@slow()
def test_a_worker_killed_during_a_run_is_retried_on_the_other_and_the_output_is_identical(
        cluster, client, local_render, tmp_path):
    local, _, job = local_render
    runs = DaskRuns(client)
    killed: list[dict] = []

    def on_run(event) -> None:
        message = event[1]
        if message["render"] == runs.render and message["event"] == "start" and not killed:
            killed.append(message)

    def on_progress(event) -> None:  # the first frames of the first run: kill its worker mid-run
        if killed and len(killed) == 1 and event[1]["run"] == killed[0]["run"] and event[1]["frames"] > 0:
            killed.append(event[1])
            os.kill(killed[0]["pid"], signal.SIGKILL)

    client.subscribe_topic(RUNS_TOPIC, on_run)
    client.subscribe_topic(f"reelforge-progress-{runs.render}", lambda event: (runs._on_progress(event),
                                                                               on_progress(event)))
    try:
        run(job.model_copy(update={"output": str(tmp_path / "survived.mp4")}), Workspace(tmp_path / "cache"),
            runs=runs)
    finally:
        runs.close()
        client.unsubscribe_topic(RUNS_TOPIC)
    assert len(killed) == 2, "no run was caught in the middle"
    victim = killed[0]
    assert victim["pid"] not in cluster.worker_pids()
    redone = [record for record in runs.log if record["run"] == victim["run"]]
    assert redone and redone[0]["status"] == "done" and redone[0]["worker"] != victim["worker"]
    assert frame_hashes(tmp_path / "survived.mp4") == frame_hashes(local)


@slow()
def test_cancel_mid_render_stops_the_ffmpeg_running_on_the_workers(cluster, client, local_render, tmp_path):
    _, _, job = local_render
    runs = DaskRuns(client)
    token = CancelToken()
    seen: list[int] = []

    def on_progress(event) -> None:
        runs._on_progress(event)
        if event[1]["frames"] > 0 and not seen:
            seen.append(event[1]["frames"])
            token.cancel()

    client.subscribe_topic(f"reelforge-progress-{runs.render}", on_progress)
    out = tmp_path / "cancelled.mp4"
    try:
        with pytest.raises(RenderCancelled):
            run(job.model_copy(update={"output": str(out)}), Workspace(tmp_path / "cache"), runs=runs, cancel=token)
        cancelled_at = time.monotonic()
        workers = cluster.worker_pids()
        while [p for p in descendants(workers) if "ffmpeg" in p[1]] and time.monotonic() - cancelled_at < 10:
            time.sleep(0.05)
        assert not [p for p in descendants(workers) if "ffmpeg" in p[1]], "ffmpeg outlived the cancel on a worker"
    finally:
        runs.close()
    assert seen and not out.exists()
    answers = {record["status"] for record in runs.log}
    assert "cancelled" in answers, runs.log  # the running tasks saw the flag and said so


@slow()
def test_ctrl_c_of_render_with_a_scheduler_stops_the_runs_on_the_workers(cluster, client, assets, tmp_path):
    out = tmp_path / "interrupted.mp4"
    command = [str(Path(sys.executable).parent / "reelforge"), "render", str(write_document(assets, "ctrl-c",
               quality="web", seconds=8)), "-o", str(out), "--scheduler", cluster.address, "-q"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, process_group=0,
                               env={**os.environ, "REELFORGE_CACHE": str(tmp_path / "cache")})
    try:
        workers = cluster.worker_pids()
        deadline = time.monotonic() + 300  # Ctrl-C once a run's ffmpeg is encoding on a worker
        while not [p for p in descendants(workers) if "ffmpeg" in p[1]]:
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "no run started on a worker"
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 130, stderr
        deadline = time.monotonic() + 15
        while [p for p in descendants(workers) if "ffmpeg" in p[1]] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in descendants(workers) if "ffmpeg" in p[1]], "ffmpeg outlived Ctrl-C on a worker"
        assert not out.exists()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def test_an_unreachable_scheduler_is_a_one_line_error_within_seconds(tmp_path):
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    document_file = tmp_path / "doc.json"
    document_file.write_text(json.dumps({"version": "1", "name": "x", "scenes": [
        {"id": "a", "duration": 1, "visual": {"type": "color", "color": "#000000"}}]}))
    started = time.monotonic()
    result = run_cli("render", document_file, "-o", tmp_path / "x.mp4", "--scheduler", f"tcp://127.0.0.1:{port}",
                     env={"REELFORGE_CACHE": str(tmp_path / "cache")})
    assert time.monotonic() - started < 60  # seconds, not a hang (the connection gives up after 5)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0], result.stderr
    assert not (tmp_path / "x.mp4").exists()
    served = run_cli("serve", "--data", tmp_path / "data", "--port", "0", "--scheduler", f"127.0.0.1:{port}")
    assert served.returncode == 1 and served.stderr.strip().splitlines() == [
        f"reelforge: error: cannot reach the Dask scheduler at tcp://127.0.0.1:{port} within 5 s (Timed out trying to "
        f"connect to tcp://127.0.0.1:{port} after 5 s)"], served.stderr
    with pytest.raises(ClusterUnavailable):
        connect(f"tcp://127.0.0.1:{port}", timeout=1)


# -- the in-process cluster: logic ------------------------------------------------------------------------------------

@pytest.fixture
def inprocess(tmp_path):
    with inprocess_cluster(tmp_path / "dask") as local, \
            distributed.Client(local, set_as_default=False) as client:
        yield client


def test_encode_slots_count_the_workers_resources_and_a_cluster_without_them_is_refused(inprocess, tmp_path):
    assert encode_slots(inprocess) == 2
    with inprocess_cluster(tmp_path / "bare", workers=1, encodes=None) as bare, \
            distributed.Client(bare, set_as_default=False) as client:
        with pytest.raises(ClusterUnavailable, match="--resources encode=1"):
            encode_slots(client, timeout=0.5)


def test_a_run_spec_names_its_inputs_by_content_only_and_round_trips_through_json(assets, tmp_path):
    workspace = Workspace(tmp_path / "cache")
    job = RenderJob.of(write_document(assets, "spec"), tmp_path / "x.mp4", workers=4)
    timeline = with_card_files(prepare(job, workspace).timeline, workspace)
    plan = plan_video(timeline, workspace, "draft", 4)
    assert len(plan.runs) >= 4
    for spec in plan.runs:
        text = json.dumps(spec.to_dict())
        assert str(assets) not in text and str(tmp_path) not in text  # no path of this machine travels
        assert RunSpec.from_dict(json.loads(text)) == spec
        assert all(file.key.startswith("file:") for file in spec.files)
        assert set(spec.pieces) <= set(plan.keys)
    picture = assets / "a.png"
    assert plan.files[input_key(picture, workspace)] == picture


@slow()
def test_runs_on_the_in_process_cluster_hold_one_encode_each_and_report_progress(assets, tmp_path):
    # One worker with two threads but one encode: its runs never overlap.
    with inprocess_cluster(tmp_path / "one", workers=1, threads=2) as local, \
            distributed.Client(local, set_as_default=False) as client:
        fractions: list[float] = []
        job = RenderJob.of(write_document(assets, "progress"), tmp_path / "x.mp4", workers=4)
        runs = DaskRuns(client, transfer="send")
        try:
            run(job, Workspace(tmp_path / "cache"), runs=runs, on_progress=lambda p: fractions.append(p.fraction))
        finally:
            runs.close()
        spans = sorted((record["started"], record["ended"]) for record in runs.log)
        assert len(spans) >= 4
        assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:])), spans
        assert fractions[-1] == 1.0 and any(0 < f < 0.9 for f in fractions)
        assert probe(tmp_path / "x.mp4").seconds > 10


@slow()
def test_a_shared_folder_carries_inputs_and_pieces_instead_of_the_network(inprocess, assets, tmp_path):
    shared = tmp_path / "shared"
    job = RenderJob.of(write_document(assets, "shared"), tmp_path / "x.mp4")
    runs = DaskRuns(inprocess, transfer="shared", shared=shared)
    try:
        run(job, Workspace(tmp_path / "cache"), runs=runs)
    finally:
        runs.close()
    pieces = {p.name for p in (shared / "segments").iterdir()}
    assert pieces == {p.name for p in (tmp_path / "cache" / "segments").iterdir()}
    inputs = list((shared / "inputs").iterdir())  # the picture and the gradient's still, named by their content
    hasher = Workspace(tmp_path / "other")
    assert sorted(p.name for p in inputs) == sorted(f"file-{hasher.file_hash(p)}" for p in inputs)
    assert input_key(assets / "a.png", hasher).replace(":", "-") in {p.name for p in inputs}


def test_batch_jobs_from_a_jsonl_file_and_the_summary_table(tmp_path):
    from reelforge.cluster.batch import read_jobs, summary_table

    (tmp_path / "a.json").write_text("{}")
    lines = [json.dumps({"document": "a.json", "quality": "draft"}), "", "not json",
             json.dumps({"version": "1", "name": "inline", "scenes": []}), json.dumps({"document": "a.json"})]
    (tmp_path / "jobs.jsonl").write_text("\n".join(lines))
    items = read_jobs(tmp_path / "jobs.jsonl", tmp_path / "out")
    assert [item.name for item in items] == ["a", "jobs.jsonl:3", "line4", "a-5"]
    assert items[0].job.quality == "draft" and items[0].job.output == str(tmp_path / "out" / "a.mp4")
    assert items[1].state == "failed" and "jobs.jsonl:3" in items[1].error
    assert isinstance(items[2].job.document, dict)
    items[0].state, items[0].duration, items[0].wall, items[0].hits, items[0].pieces = "done", 6.0, 1.25, 2, 3
    table = summary_table(items).splitlines()
    assert table[0].split() == ["DOCUMENT", "DURATION", "WALL", "CACHE", "HITS", "ERROR"]
    assert table[1].split() == ["a", "6.0", "s", "1.2", "s", "2/3"]
    assert table[2].endswith("Expecting value: line 1 column 1 (char 0)")


# -- the service on the cluster ---------------------------------------------------------------------------------------

@slow("fastapi", "uvicorn")
def test_serve_with_a_scheduler_completes_cancels_and_sends_webhooks_as_with_its_own_pool(cluster, client, assets,
                                                                                          tmp_path):
    from service_tools import make_key, multipart, receiving, serving

    data = tmp_path / "data"
    secret = make_key(data)
    picture = (assets / "a.png").read_bytes()

    def submit(server, spec: dict, **fields) -> dict:
        parts = {"document": json.dumps(spec), **{k: json.dumps(v) for k, v in fields.items()}}
        body, kind = multipart(parts, [("a.png", picture)])
        answer = server.call("POST", "/v1/renders", body, headers={"Content-Type": kind})
        assert answer.status == 202, answer.body
        return answer.json()

    with receiving() as receiver, \
            serving(data, "--scheduler", cluster.address, "--allow-webhook-host", "127.0.0.1") as server:
        server.secret = secret
        short = document(seconds=1.5)
        job = submit(server, short, webhook={"url": receiver.url, "secret": "whsec-cluster-1"})
        done = server.wait_for(job["id"], timeout=300)
        assert done["status"] == "completed", done
        out = tmp_path / "served.mp4"
        out.write_bytes(server.call("GET", f"/v1/renders/{job['id']}/video").body)
        assert abs(probe(out).seconds - (4 * 1.5 - 0.9)) < 0.05
        receiver.wait(lambda d: d.headers.get("x-reelforge-event") == "render.completed")

        long = document(quality="web", seconds=8)
        job = submit(server, long)
        server.wait_for(job["id"], ("rendering",), timeout=300)
        workers = cluster.worker_pids()
        deadline = time.monotonic() + 300  # cancel once a run's ffmpeg is encoding on a worker
        while not [p for p in descendants(workers) if "ffmpeg" in p[1]]:
            assert time.monotonic() < deadline, "no run started on a worker"
            time.sleep(0.05)
        at_start = server.call("GET", f"/v1/renders/{job['id']}").json()["progress"]
        server.wait_for(job["id"], ("rendering",), condition=lambda j: j["progress"] > at_start + 1,
                        timeout=300)  # the workers' progress (frames encoded) reaches the job
        answer = server.call("POST", f"/v1/renders/{job['id']}/cancel")
        assert answer.status == 200 and answer.json()["status"] == "cancelled", answer.body
        deadline = time.monotonic() + 15
        while [p for p in descendants(workers) if "ffmpeg" in p[1]] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in descendants(workers) if "ffmpeg" in p[1]], "ffmpeg outlived the cancel on a worker"
        assert not list((data / "jobs" / job["id"] / "output").iterdir())
