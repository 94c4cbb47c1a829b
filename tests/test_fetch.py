"""URL sources against real HTTP servers on loopback: the total deadline, the size cap while streaming, redirects
(http(s) only, at most five), and the address rules a document from a stranger is held to."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import pytest

pytest.importorskip("av")

from mediatools import make_test_image  # noqa: E402
from reelforge.document.loader import validate_data  # noqa: E402
from reelforge.resolve.fetch import AddressRefused, fetch_url, resolve_target  # noqa: E402
from reelforge.resolve.media import MediaError  # noqa: E402
from reelforge.resolve.policy import AddressRules, FetchPolicy, SourcePolicy  # noqa: E402
from reelforge.resolve.sources import policy_problems  # noqa: E402
from reelforge.workspace import Workspace  # noqa: E402

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@contextmanager
def server(routes: dict[str, Handler]) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 whose paths run the given handlers; yields its base URL."""

    class Serve(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            handler = routes.get(self.path.split("?")[0])
            if handler is None:
                self.send_error(404)
                return
            try:
                handler(self)
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Serve)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def body(kind: str, data: bytes) -> Handler:
    def handle(request) -> None:
        request.send_response(200)
        request.send_header("Content-Type", kind)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
    return handle


def redirect(location: str) -> Handler:
    def handle(request) -> None:
        request.send_response(302)
        request.send_header("Location", location)
        request.send_header("Content-Length", "0")
        request.end_headers()
    return handle


@pytest.fixture(scope="module")
def png(tmp_path_factory) -> bytes:
    return make_test_image(tmp_path_factory.mktemp("png") / "still.png", 64, 64).read_bytes()


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "cache")


def leftovers(workspace: Workspace) -> list[Path]:
    return list((workspace.cache / "downloads").glob(".download-*"))


def test_a_trickling_server_is_stopped_by_the_total_deadline(workspace: Workspace):
    def trickle(request) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "video/mp4")
        request.end_headers()
        for _ in range(600):  # one byte every 0.1 s: every read succeeds, the whole takes a minute
            request.wfile.write(b"x")
            request.wfile.flush()
            time.sleep(0.1)

    with server({"/slow.mp4": trickle}) as base:
        started = time.monotonic()
        with pytest.raises(MediaError) as error:
            fetch_url(f"{base}/slow.mp4", "scenes[0].visual.source.url", workspace, FetchPolicy(deadline_seconds=1.5))
        elapsed = time.monotonic() - started
    message = str(error.value)
    assert message.startswith("scenes[0].visual.source.url: cannot fetch") and "1.5 s limit" in message, message
    assert elapsed < 30, "the deadline did not stop the fetch"
    assert not leftovers(workspace)


def test_slow_headers_are_stopped_by_the_deadline_too(workspace: Workspace):
    def slow_headers(request) -> None:
        request.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(600):
            request.wfile.write(b"X-Slow: y\r\n")
            request.wfile.flush()
            time.sleep(0.1)

    with server({"/h.mp4": slow_headers}) as base:
        with pytest.raises(MediaError, match="limit"):
            fetch_url(f"{base}/h.mp4", "music.source.url", workspace, FetchPolicy(deadline_seconds=1.0))


def test_an_endless_body_without_length_is_cut_at_the_cap_while_streaming(workspace: Workspace):
    sent = []

    def endless(request) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "video/mp4")
        request.end_headers()
        chunk = b"\0" * 65536
        for _ in range(2000):  # 131 MB if nobody stops reading
            request.wfile.write(chunk)
            sent.append(len(chunk))

    with server({"/endless.mp4": endless}) as base:
        with pytest.raises(MediaError) as error:
            fetch_url(f"{base}/endless.mp4", "blocks[0].source.url", workspace, FetchPolicy(max_bytes=2_000_000))
    assert "larger than the 2 MB limit" in str(error.value)
    assert sum(sent) < 40_000_000, "the fetcher kept reading past its cap"
    assert not leftovers(workspace)


def test_content_length_over_the_cap_is_refused_before_reading(workspace: Workspace, png: bytes):
    with server({"/big.png": body("image/png", png)}) as base:
        with pytest.raises(MediaError, match="the limit is"):
            fetch_url(f"{base}/big.png", "x.url", workspace, FetchPolicy(max_bytes=100))


def test_the_default_cap_fits_media_and_the_deadline_is_a_minute():
    policy = FetchPolicy()
    assert policy.max_bytes == 500_000_000 and policy.deadline_seconds == 60 and policy.max_redirects == 5


def test_redirects_to_ftp_are_not_followed(workspace: Workspace):
    ftp = socket.socket()
    ftp.bind(("127.0.0.1", 0))
    ftp.listen(1)
    ftp.settimeout(0.5)
    port = ftp.getsockname()[1]
    try:
        with server({"/clip.mp4": redirect(f"ftp://127.0.0.1:{port}/clip.mp4")}) as base:
            with pytest.raises(MediaError) as error:
                fetch_url(f"{base}/clip.mp4", "scenes[1].visual.source.url", workspace)
        assert "redirects to ftp://" in str(error.value) and "\n" not in str(error.value)
        with pytest.raises(socket.timeout):
            ftp.accept()  # nobody knocked
    finally:
        ftp.close()


def test_five_redirects_are_followed_and_a_sixth_is_refused(workspace: Workspace, png: bytes):
    routes: dict[str, Handler] = {"/r0": redirect("/r1"), "/still.png": body("image/png", png)}
    for hop in range(1, 6):
        routes[f"/r{hop}"] = redirect(f"/r{hop + 1}" if hop < 5 else "/still.png")
    routes["/s0"] = redirect("/r0")
    with server(routes) as base:
        fetched = fetch_url(f"{base}/r1", "a.url", workspace)  # r1 → r2 → r3 → r4 → r5 → still.png: 5 redirects
        assert fetched.read_bytes() == png
        with pytest.raises(MediaError, match="more than 5 redirects"):
            fetch_url(f"{base}/s0", "a.url", workspace)  # s0 → r0 → … → still.png: 7


def test_the_command_line_may_fetch_from_its_own_loopback(workspace: Workspace, png: bytes):
    with server({"/still.png": body("image/png", png)}) as base:
        assert fetch_url(f"{base}/still.png", "a.url", workspace).read_bytes() == png


STRANGERS = SourcePolicy.for_strangers()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/x.mp4", "http://localhost/x.mp4", "http://[::1]/x.mp4", "http://[::ffff:127.0.0.1]/x.mp4",
    "http://10.1.2.3/x.mp4", "http://192.168.0.10/x.mp4", "http://172.16.5.4/x.mp4", "http://169.254.169.254/latest",
    "http://100.100.100.200/meta", "http://0.0.0.0/x.mp4", "http://[fd00:ec2::254]/x", "http://[2002:7f00:1::]/x",
    "http://2130706433/x.mp4",
])
def test_internal_addresses_are_refused_for_strangers(url: str):
    with pytest.raises(AddressRefused):
        resolve_target(url, STRANGERS.fetch.addresses)


def test_public_addresses_pass_and_other_schemes_do_not():
    assert resolve_target("https://93.184.216.34/a.mp4", STRANGERS.fetch.addresses).addresses == ("93.184.216.34",)
    with pytest.raises(AddressRefused, match="only http"):
        resolve_target("file:///etc/passwd", STRANGERS.fetch.addresses)
    with pytest.raises(AddressRefused, match="https"):
        resolve_target("http://93.184.216.34/hook", AddressRules(private_addresses=False, https_only=True))


def test_the_allow_list_takes_names_addresses_and_ranges():
    for entry in ("localhost", "127.0.0.1", "127.0.0.0/8"):
        rules = AddressRules(private_addresses=False, allow_hosts=(entry,))
        assert resolve_target("http://localhost:9/x", rules).addresses
        if entry != "localhost":
            assert resolve_target("http://127.0.0.1:9/x", rules).addresses == ("127.0.0.1",)
    narrow = AddressRules(private_addresses=False, allow_hosts=("127.0.0.1",))
    with pytest.raises(AddressRefused):
        resolve_target("http://127.0.0.2:9/x", narrow)
    with pytest.raises(ValueError):
        AddressRules(allow_hosts=("http://x/",))


def test_a_redirect_from_an_allowed_host_to_a_private_address_is_refused(workspace: Workspace, png: bytes):
    routes = {"/meta": redirect("http://169.254.169.254/latest/meta-data/"), "/other": redirect("http://127.0.0.2:1/x"),
              "/still.png": body("image/png", png)}
    with server(routes) as base:
        policy = SourcePolicy.for_strangers(allow_fetch_hosts=["127.0.0.1"]).fetch
        assert fetch_url(f"{base}/still.png", "a.url", workspace, policy).read_bytes() == png
        for path in ("/meta", "/other"):
            with pytest.raises(MediaError) as error:
                fetch_url(f"{base}{path}", "scenes[0].visual.source.url", workspace, policy)
            message = str(error.value)
            assert message.startswith("scenes[0].visual.source.url: cannot fetch") and "redirected to" in message
            assert "private" in message and "\n" not in message


def test_a_download_fetched_under_wide_rules_is_not_reused_under_narrow_ones(workspace: Workspace, png: bytes):
    with server({"/still.png": body("image/png", png)}) as base:
        fetch_url(f"{base}/still.png", "a.url", workspace)  # the command line's own fetch, cached
        with pytest.raises(MediaError, match="private"):
            fetch_url(f"{base}/still.png", "a.url", workspace, STRANGERS.fetch)


def document(source: dict, kind: str = "video") -> dict:
    return {"version": "1", "name": "t", "scenes": [{"id": "a", "duration": 1, "visual": {"type": kind, "source": source}}]}


def test_policy_problems_name_the_json_path(tmp_path: Path):
    problems = policy_problems(validate_data(document({"path": "/etc/passwd"})), STRANGERS)
    assert [p.path for p in problems] == ["scenes[0].visual.source.path"] and "not accepted" in problems[0].message
    problems = policy_problems(validate_data(document({"url": "http://127.0.0.1:8/a.mp4"})), STRANGERS)
    assert [p.path for p in problems] == ["scenes[0].visual.source.url"]
    media = tmp_path / "media"
    media.mkdir()
    rooted = SourcePolicy.for_strangers(media_root=str(media))
    assert policy_problems(validate_data(document({"path": "clips/a.mp4"})), rooted) == []
    assert [p.path for p in policy_problems(validate_data(document({"path": "../etc/passwd"})), rooted)] == [
        "scenes[0].visual.source.path"]
    assert policy_problems(validate_data(document({"path": "/etc/passwd"})), SourcePolicy()) == []


def test_a_render_job_carries_its_policy_through_json():
    from reelforge.job import RenderJob

    job = RenderJob.of(document({"uploadName": "a.mp4"}), "/tmp/out.mp4",
                       sources=SourcePolicy.for_strangers(allow_fetch_hosts=["10.0.0.0/8"]))
    again = RenderJob.from_json(job.to_json())
    assert again == job and again.sources.fetch.addresses.allow_hosts == ("10.0.0.0/8",)
    assert RenderJob.of(document({"uploadName": "a.mp4"})).sources == SourcePolicy()
