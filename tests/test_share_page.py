"""The share page in a real browser: Debian's chromium, driven by selenium through chromium-driver, against a real
`reelforge serve` on loopback. Opened while the job renders: no console errors, the status line goes from
rendering to completed without a reload, then the video plays (readyState >= 2, currentTime advancing), its
captions track holds the cues of the job's WebVTT file, and each scene shows its narration and a poster frame."""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
selenium = pytest.importorskip("selenium")

from conftest import slow  # noqa: E402
from service_tools import make_key, serving  # noqa: E402

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
NARRATIONS = ["Lanterns glow along the quiet harbour.", "The boats come home before the storm."]


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="reelforge-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required",
                 f"--user-data-dir={profile}", "--window-size=1000,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    return driver, profile


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.skipif(CHROMIUM is None or not Path(DRIVER).exists(), reason="needs chromium and chromium-driver")
@slow("piper")
def test_the_share_page_in_chromium_follows_the_render_then_plays_with_captions(tmp_path: Path):
    data = tmp_path / "data"
    secret = make_key(data)
    document = {"version": "1", "name": "Harbour at dusk", "output": {"quality": "web", "aspectRatio": "16:9"},
                "scenes": [{"id": "lanterns", "narration": {"text": NARRATIONS[0]},
                            "visual": {"type": "gradient", "colors": ["#1363df", "#06283d"]}},
                           {"id": "boats", "narration": {"text": NARRATIONS[1]},
                            "visual": {"type": "color", "color": "#7b2ff7"}},
                           {"id": "wait", "duration": 16, "visual": {"type": "color", "color": "#0f9b8e"}}]}
    with serving(data) as server:
        server.secret = secret
        job = server.call("POST", "/v1/renders", {"document": document}).json()
        # the result carries the share link once completed; the owner can have one at any time:
        rendering = server.wait_for(job["id"], ("rendering", "completed"), timeout=180)
        assert rendering["status"] == "rendering", "the render finished before the page could watch it"
        share = server.call("GET", f"/v1/renders/{job['id']}/share").json()["shareUrl"]
        assert share.startswith(server.base + "/share/")
        driver, profile = browser()
        try:
            driver.get(share)
            driver.execute_script("window.__sameDocument = 'yes';")
            status = driver.find_element("id", "status")
            assert status.get_attribute("data-status") in ("queued", "rendering"), status.text
            assert re.match(r"(Queued|Rendering)", status.text), status.text
            narrations = [e.text for e in driver.find_elements("css selector", "#scenes .narration")]
            assert narrations[:2] == NARRATIONS, "the scenes show their narration while the video renders"
            wait_until(lambda: status.get_attribute("data-status") == "completed", 240, "the status to complete")
            assert status.text == "Completed"
            assert driver.execute_script("return window.__sameDocument") == "yes", "the page was reloaded"
            wait_until(lambda: driver.execute_script("return document.getElementById('video').readyState") >= 2, 60,
                       "the video to load")
            driver.execute_script("const v = document.getElementById('video'); v.muted = true; v.play();")
            start = driver.execute_script("return document.getElementById('video').currentTime")
            wait_until(lambda: driver.execute_script("return document.getElementById('video').currentTime") > start + 0.5,
                       30, "currentTime to advance")
            vtt = server.call("GET", f"/v1/renders/{job['id']}/captions.vtt").body.decode()
            expected = [line for line in vtt.splitlines() if "-->" in line]
            cues = wait_until(lambda: driver.execute_script(
                "const t = document.getElementById('video').textTracks[0];"
                "return t && t.cues && t.cues.length ? Array.from(t.cues).map(c => c.text) : null;"), 30, "the cues")
            assert len(cues) == len(expected) and "Lanterns" in " ".join(cues) and "storm" in " ".join(cues)
            driver.execute_script("document.getElementById('video').currentTime = 5.0;")  # seek (Range requests)
            wait_until(lambda: driver.execute_script("return document.getElementById('video').readyState") >= 2, 30,
                       "the video after seeking")
            posters = wait_until(lambda: driver.execute_script(
                "const imgs = Array.from(document.querySelectorAll('#scenes .poster img'));"
                "return imgs.length === 3 && imgs.every(i => i.complete && i.naturalWidth > 0) ? imgs.length : 0;"),
                60, "a poster frame for every scene")
            assert posters == 3
            errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
            assert not errors, errors
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
        assert "Traceback" not in server.log.read_text()
