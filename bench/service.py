"""The service's figures: status polling under load while renders run, and the service's overhead over
`reelforge render` for the same document (workload W).

Run from the repository root: `.venv/bin/python -m bench.service [--rounds 3] [--seconds 60] [--clients 50]`
(about 6 minutes). Everything runs on this machine: `reelforge serve` on 127.0.0.1 (a free port), the clients in
5 processes of 10 threads each (keep-alive connections, each polling again 100 ms after its answer).

- polling: while a render of W runs (three variants are queued so one always runs), `--clients` clients poll
  `GET /v1/renders/{id}` for `--seconds` s: median, p90, p99, max latency, requests per second, errors.
- overhead: W rendered by `reelforge render` (a fresh cache holding only W's narration and music, made once
  before the rounds) against W submitted to a fresh server (multipart with its 5 files, the same seeded cache),
  timed from the submit request to the poll that sees `completed`; alternating, median of the rounds.
Prints a Markdown report and writes it to bench/results-<date>-service-<groups>.md (raw numbers beside it as .json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO / "tests"))


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return env


def seeded_cache(inputs: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for part in ("tts", "music"):
        shutil.copytree(inputs / part, target / part)
    return target


def make_key(data: Path) -> str:
    from reelforge.service import ServiceSettings
    from reelforge.service.keys import Keys
    from reelforge.service.store import Store

    store = Store(ServiceSettings(data=data).database)
    secret = Keys(store).create("bench")[1]
    store.close()
    return secret


class Service:
    """`reelforge serve` on a free port over `data`, until `stop()`."""

    def __init__(self, data: Path, **env: str):
        self.data = data
        port_file = data / "port"
        port_file.unlink(missing_ok=True)
        self.log = (data / "server.log").open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "reelforge", "serve", "--port", "0", "--data", str(data),
                                         "--workers", "1", "--port-file", str(port_file), "--log-level", "warning"],
                                        stdout=self.log, stderr=subprocess.STDOUT, env=_env(**env), cwd=REPO,
                                        start_new_session=True)
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {data / 'server.log'}")
            time.sleep(0.05)
        self.port = int(port_file.read_text())

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def call(self, method: str, path: str, key: str, body: bytes | None = None, kind: str | None = None) -> tuple[int, Any]:
        connection = self.connection()
        headers = {"Authorization": f"Bearer {key}"}
        if kind:
            headers["Content-Type"] = kind
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, json.loads(data) if data else None

    def stop(self) -> None:
        import signal

        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()


def w_body(assets: Path, **changes: Any) -> tuple[bytes, str]:
    from bench.workload import w_document
    from service_tools import multipart

    document = w_document()
    document["output"] = {**document.get("output", {}), **changes}
    names = sorted({source["uploadName"] for source in _sources(document)})
    return multipart({"document": json.dumps(document)}, [(name, (assets / name).read_bytes()) for name in names])


def _sources(value: Any) -> list[dict]:
    found = []
    if isinstance(value, dict):
        if "uploadName" in value:
            found.append(value)
        for item in value.values():
            found += _sources(item)
    elif isinstance(value, list):
        for item in value:
            found += _sources(item)
    return found


def wait_done(service: Service, key: str, job_id: str, interval: float = 0.05) -> dict:
    while True:
        status, job = service.call("GET", f"/v1/renders/{job_id}", key)
        assert status == 200, job
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(interval)


# -- overhead ----------------------------------------------------------------------------------------------

def cli_render(workdir: Path, inputs: Path, assets: Path, round_number: int) -> dict[str, float]:
    from bench.workload import w_document

    cache = seeded_cache(inputs, workdir / "caches" / "cli")
    document = workdir / "w.json"
    document.write_text(json.dumps(w_document()), encoding="utf-8")
    out = workdir / f"cli-{round_number}.mp4"
    clock = time.monotonic()
    subprocess.run([sys.executable, "-m", "reelforge", "render", str(document), "-o", str(out), "--assets", str(assets),
                    "-q"], check=True, env=_env(REELFORGE_CACHE=str(cache)), cwd=REPO, stdout=subprocess.DEVNULL)
    return {"wall_s": time.monotonic() - clock}


def service_render(workdir: Path, inputs: Path, assets: Path) -> dict[str, float]:
    data = workdir / "service-data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    seeded_cache(inputs, data / "cache")
    key = make_key(data)
    service = Service(data, REELFORGE_SERVE_REQUESTS_PER_MINUTE="100000")  # polled every 50 ms
    try:
        body, kind = w_body(assets)
        clock = time.monotonic()
        status, job = service.call("POST", "/v1/renders", key, body, kind)
        submitted = time.monotonic() - clock
        assert status == 202, job
        done = wait_done(service, key, job["id"])
        wall = time.monotonic() - clock
        assert done["status"] == "completed", done
        started = dt.datetime.fromisoformat(done["startedAt"].replace("Z", "+00:00"))
        finished = dt.datetime.fromisoformat(done["finishedAt"].replace("Z", "+00:00"))
        return {"wall_s": wall, "submit_s": submitted, "job_s": (finished - started).total_seconds(),
                "upload_mb": len(body) / 1e6}
    finally:
        service.stop()


# -- polling ----------------------------------------------------------------------------------------------

def _poll_process(port: int, key: str, path: str, threads: int, seconds: float, pause: float, queue) -> None:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine, failed = [], []
        while time.monotonic() < end:
            clock = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Authorization": f"Bearer {key}"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed.append(f"HTTP {response.status}")
            except (OSError, http.client.HTTPException) as exc:
                failed.append(type(exc).__name__)
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - clock)
            time.sleep(pause)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors.extend(failed)

    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put((latencies, errors))


def polling(workdir: Path, inputs: Path, assets: Path, clients: int, seconds: float, pause: float) -> dict[str, Any]:
    data = workdir / "poll-data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    seeded_cache(inputs, data / "cache")
    key = make_key(data)
    service = Service(data, REELFORGE_SERVE_REQUESTS_PER_MINUTE="100000000", REELFORGE_SERVE_SUBMISSIONS_PER_MINUTE="100")
    try:
        ids = []
        for fps in (30, 25, 24):  # distinct renders (no piece of one is a piece of another): one always runs
            body, kind = w_body(assets, fps=fps)
            status, job = service.call("POST", "/v1/renders", key, body, kind)
            assert status == 202, job
            ids.append(job["id"])
        while service.call("GET", f"/v1/renders/{ids[0]}", key)[1]["phase"] in ("queued", "preparing_assets"):
            time.sleep(0.1)
        processes = 5
        queue = multiprocessing.get_context("fork").Queue()
        clock = time.monotonic()
        workers = [multiprocessing.get_context("fork").Process(
            target=_poll_process, args=(service.port, key, f"/v1/renders/{ids[0]}", clients // processes, seconds, pause,
                                        queue)) for _ in range(processes)]
        for worker in workers:
            worker.start()
        results = [queue.get() for _ in workers]
        for worker in workers:
            worker.join()
        elapsed = time.monotonic() - clock
        jobs = [service.call("GET", f"/v1/renders/{job_id}", key)[1] for job_id in ids]
        busy = any(job["status"] == "rendering" for job in jobs) or jobs[-1]["status"] == "queued"
        for job_id in ids:
            service.call("POST", f"/v1/renders/{job_id}/cancel", key)
    finally:
        service.stop()
    latencies = sorted(ms * 1000 for result in results for ms in result[0])
    errors = [error for result in results for error in result[1]]

    def quantile(q: float) -> float:
        return latencies[min(int(q * len(latencies)), len(latencies) - 1)]

    return {"clients": clients, "pause_s": pause, "seconds": round(elapsed, 1), "requests": len(latencies),
            "per_second": round(len(latencies) / elapsed, 1), "p50_ms": round(quantile(0.5), 2),
            "p90_ms": round(quantile(0.9), 2), "p99_ms": round(quantile(0.99), 2), "max_ms": round(latencies[-1], 2),
            "errors": len(errors), "error_kinds": sorted(set(errors)), "render_running_at_end": busy,
            "jobs": [{"status": j["status"], "progress": j["progress"]} for j in jobs]}


def machine() -> str:
    load = os.getloadavg()[0]
    return (f"`nproc` = {os.cpu_count()}, {platform.machine()}, Python {platform.python_version()}; "
            f"1-minute load at the end {load:.1f} (the machine is shared with other work right now)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/rfbench/service"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--pause", type=float, default=0.1, help="Seconds a client waits after each answer.")
    parser.add_argument("--only", default="overhead,polling")
    args = parser.parse_args()
    workdir = args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    assets, inputs = workdir / "assets", workdir / "inputs-cache"
    if not (assets / ".complete").exists():
        subprocess.run([sys.executable, "-m", "bench.assets", str(assets)], cwd=REPO, check=True, env=_env(),
                       stdout=subprocess.DEVNULL)
        (assets / ".complete").write_text("")
    if not (inputs / "tts").is_dir():
        subprocess.run([sys.executable, "-m", "bench.cases", "prewarm"], cwd=REPO, check=True,
                       env=_env(REELFORGE_CACHE=str(inputs)), stdout=subprocess.DEVNULL)
    report: dict[str, Any] = {"date": dt.date.today().isoformat(), "machine": machine(), "command": " ".join(sys.argv)}
    if "overhead" in args.only:
        rounds = []
        for number in range(args.rounds):
            order = ("cli", "service") if number % 2 == 0 else ("service", "cli")
            row = {}
            for case in order:
                row[case] = (cli_render(workdir, inputs, assets, number) if case == "cli"
                             else service_render(workdir, inputs, assets))
                print(f"round {number + 1} {case}: {row[case]}", file=sys.stderr, flush=True)
            rounds.append(row)
        cli = statistics.median(r["cli"]["wall_s"] for r in rounds)
        service = statistics.median(r["service"]["wall_s"] for r in rounds)
        report["overhead"] = {"rounds": rounds, "cli_median_s": round(cli, 2), "service_median_s": round(service, 2),
                              "overhead_pct": round((service / cli - 1) * 100, 1)}
    if "polling" in args.only:
        report["polling"] = polling(workdir, inputs, assets, args.clients, args.seconds, args.pause)
    report["machine"] = machine()
    text = markdown(report)
    print(text)
    groups = "-".join(part for part in ("overhead", "polling") if part in args.only)
    stem = BENCH_DIR / f"results-{report['date']}-service-{groups}"
    stem.with_suffix(".md").write_text(text, encoding="utf-8")
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2), encoding="utf-8")


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# Service benchmark, {report['date']}", "", f"- Command: `{report['command']}`",
             f"- Machine: {report['machine']}", ""]
    if "overhead" in report:
        o = report["overhead"]
        lines += ["## Overhead over `reelforge render` (W, seeded cache, median of rounds)", "",
                  "| round | reelforge render s | service s (submit → completed) | upload s | job s |", "|--:|--:|--:|--:|--:|"]
        for number, row in enumerate(o["rounds"], 1):
            s = row["service"]
            lines.append(f"| {number} | {row['cli']['wall_s']:.2f} | {s['wall_s']:.2f} | {s['submit_s']:.2f} | "
                         f"{s['job_s']:.2f} |")
        lines += ["", f"Median: render {o['cli_median_s']} s, service {o['service_median_s']} s: "
                      f"**{o['overhead_pct']:+.1f}%** (target < 5%).", ""]
    if "polling" in report:
        p = report["polling"]
        lines += [f"## {p['clients']} clients polling status for {p['seconds']} s while W renders (each waits "
                  f"{p['pause_s']} s after an answer)", "",
                  "| requests | per s | p50 ms | p90 ms | p99 ms | max ms | errors |", "|--:|--:|--:|--:|--:|--:|--:|",
                  f"| {p['requests']} | {p['per_second']} | {p['p50_ms']} | {p['p90_ms']} | **{p['p99_ms']}** | "
                  f"{p['max_ms']} | {p['errors']} |", "",
                  f"A render was running at the end: {p['render_running_at_end']} ({p['jobs']}). Target: p99 < 100 ms, "
                  "0 errors.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
