"""URL sources: fetched once into the workspace's cache (keyed by the URL), checked to be media."""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from reelforge.resolve.media import MediaError, read_streams
from reelforge.workspace import Workspace, content_key

MAX_DOWNLOAD_BYTES = 500 * 1024 * 1024
DOWNLOAD_TIMEOUT = 30.0


def fetch_url(url: str, where: str, workspace: Workspace, *, max_bytes: int = MAX_DOWNLOAD_BYTES,
              timeout: float = DOWNLOAD_TIMEOUT) -> Path:
    """Download `url` once into the workspace's cache (keyed by the URL); later calls reuse the file."""
    folder = workspace.folder("downloads")
    suffix = Path(urllib.request.urlparse(url).path).suffix[:8]
    target = folder / (content_key("url", url)[:32] + suffix)
    if target.is_file():
        return target
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".download-")
    try:
        request = urllib.request.Request(url, headers={"User-Agent": "reelforge"})
        with urllib.request.urlopen(request, timeout=timeout) as response, os.fdopen(fd, "wb") as out:
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind.startswith("text/") or kind in ("application/json", "application/xml"):
                raise MediaError(f"{where}: {url} serves {kind}, not media")
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise MediaError(f"{where}: {url} is {int(length) / 1e6:.0f} MB; the limit is {max_bytes / 1e6:.0f} MB")
            received = 0
            while chunk := response.read(1 << 16):
                received += len(chunk)
                if received > max_bytes:
                    raise MediaError(f"{where}: {url} is larger than the {max_bytes / 1e6:.0f} MB limit")
                out.write(chunk)
        try:
            read_streams(Path(tmp), where)
        except MediaError as exc:
            detail = str(exc).split(": ", 1)[-1].replace(tmp, url)
            raise MediaError(f"{where}: {url} is not media: {detail}") from None
        os.replace(tmp, target)
        return target
    except MediaError:
        raise
    except urllib.error.HTTPError as exc:
        raise MediaError(f"{where}: cannot fetch {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise MediaError(f"{where}: cannot fetch {url}: {reason}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
