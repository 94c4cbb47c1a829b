"""URL sources: fetched once into the workspace's cache, within a total deadline and a size cap, following at most
a few http(s) redirects, every address checked against the policy's rules after DNS resolution.

A connection goes to the very address that was checked (the host name is resolved once per hop and the socket
connects to that address), so a name that resolves to a public address for the check and to a private one for
the connection cannot slip through. Webhooks use the same rules and connection (`send_once`).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from reelforge.fileio import atomic_output
from reelforge.resolve.media import MediaError, read_streams
from reelforge.resolve.policy import AddressRules, FetchPolicy
from reelforge.workspace import Workspace, content_key

CHUNK = 1 << 16
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "reelforge"


class AddressRefused(ValueError):
    """A URL the address rules do not allow (its scheme, or where its host resolves)."""


@dataclass(frozen=True)
class Target:
    """A URL taken apart, with the checked addresses its host resolved to."""

    url: str
    scheme: str
    host: str
    port: int
    request_path: str
    addresses: tuple[str, ...]


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """A global unicast address: not loopback, private, link-local (cloud metadata), shared, reserved or multicast;
    an IPv6 address that carries an IPv4 one (mapped, 6to4, Teredo) is judged by that one too."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
        if any(inner is not None and not _is_public(inner) for inner in embedded):
            return False
    return address.is_global and not address.is_multicast


def _allowed_by_list(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address, rules: AddressRules) -> bool:
    for entry in rules.allow_hosts:
        if entry == host:
            return True
        try:
            network = ipaddress.ip_network(entry)
        except ValueError:
            continue
        plain = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped else address
        if plain.version == network.version and plain in network:
            return True
    return False


def host_is_listed(host: str, rules: AddressRules) -> bool:
    """Whether the host name itself (or its literal address) is one the operator allowed."""
    host = host.lower().rstrip(".")
    if host in rules.allow_hosts:
        return True
    try:
        return _allowed_by_list(host, ipaddress.ip_address(host.strip("[]")), rules)
    except ValueError:
        return False


def _resolve(host: str, port: int, timeout: float) -> list[str]:
    """The host's addresses, within `timeout` (the system resolver has no timeout of its own)."""
    found: list = []
    failure: list[BaseException] = []

    def lookup() -> None:
        try:
            found.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except (OSError, UnicodeError) as exc:
            failure.append(exc)

    worker = threading.Thread(target=lookup, daemon=True, name="resolve")
    worker.start()
    worker.join(max(timeout, 0.01))
    if worker.is_alive():
        raise TimeoutError(f"resolving {host} took longer than {timeout:.0f} s")
    if failure:
        reason = getattr(failure[0], "strerror", None) or str(failure[0])
        raise OSError(f"cannot resolve {host}: {reason}")
    addresses = []
    for family, _type, _proto, _name, sockaddr in found:
        if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in addresses:
            addresses.append(sockaddr[0].split("%", 1)[0])
    if not addresses:
        raise OSError(f"cannot resolve {host}: no address")
    return addresses


def resolve_target(url: str, rules: AddressRules, *, timeout: float = 10.0) -> Target:
    """Take `url` apart, resolve its host and check every address against `rules`.

    Raises AddressRefused (a scheme other than http(s), plain http where https is required, an address the
    rules refuse) or OSError/TimeoutError (the host does not resolve)."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise AddressRefused(f"only http:// and https:// URLs are allowed, not {scheme or 'this'}://")
    try:
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise AddressRefused("the URL has an invalid port") from None
    if not host:
        raise AddressRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("URLs with a user name or password are not allowed")
    listed = host_is_listed(host, rules)
    if rules.https_only and scheme != "https" and not listed:
        raise AddressRefused("only https:// URLs are allowed here")
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        addresses = [str(literal)]
    except ValueError:
        addresses = _resolve(host, port, timeout)
    for text in addresses:
        address = ipaddress.ip_address(text)
        if rules.private_addresses or listed or _is_public(address) or _allowed_by_list(host, address, rules):
            continue
        shown = host if text == host.strip("[]") else f"{host} ({text})"
        raise AddressRefused(f"{shown} is a loopback, private, link-local or reserved address; "
                             "the server does not fetch from it")
    request_path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return Target(url, scheme, host, port, request_path, tuple(addresses))


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to one checked address; the Host header still names the host."""

    def __init__(self, target: Target, address: str, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = self.raw_sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to one checked address, its certificate checked against the host name."""

    def __init__(self, target: Target, address: str, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self.raw_sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _connect(target: Target, timeout: float) -> http.client.HTTPConnection:
    """A connected connection to the first address of `target` that answers."""
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    last: OSError | None = None
    for address in target.addresses:
        connection = kind(target, address, timeout)
        try:
            connection.connect()
            return connection
        except OSError as exc:
            connection.close()
            last = exc
    raise last or OSError("no address to connect to")


class _Deadline:
    """A total time limit: `remaining()` for socket timeouts, and a watchdog that shuts the socket down when it
    passes, so a server that sends one byte a second (or its headers slowly) cannot hold a fetch past it."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self._timer: threading.Timer | None = None
        self.expired = False

    def remaining(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0 or self.expired:  # the watchdog may fire a hair before the clock says so
            self.expired = True
            raise TimeoutError(f"took longer than the {self.seconds:g} s limit")
        return left

    def passed(self) -> bool:
        """Whether the limit is reached (a socket timeout set to the time left ends a hair before the watchdog)."""
        return self.expired or time.monotonic() >= self.end - 0.1

    def watch(self, connection: http.client.HTTPConnection) -> None:
        self.stop()

        def expire() -> None:
            self.expired = True
            sock = getattr(connection, "raw_sock", None)  # http.client forgets its socket once a reply is read
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        self._timer = threading.Timer(max(self.end - time.monotonic(), 0.0), expire)
        self._timer.daemon = True
        self._timer.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def _request(target: Target, deadline: _Deadline, method: str = "GET", body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    connection = _connect(target, deadline.remaining())
    deadline.watch(connection)
    try:
        connection.request(method, target.request_path, body=body,
                           headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **(headers or {})})
        return connection, connection.getresponse()
    except BaseException:
        connection.close()
        raise


def _download_key(url: str, policy: FetchPolicy) -> str:
    # A file fetched under wider address rules (the command line's) is not handed to a document held to narrower ones.
    rules = policy.addresses
    return content_key("url", url, rules.private_addresses, sorted(rules.allow_hosts))[:32]


def fetch_url(url: str, where: str, workspace: Workspace, policy: FetchPolicy | None = None) -> Path:
    """Download `url` once into the workspace's cache; later calls reuse the file.

    Every fetch has a total deadline and a size cap (checked while the body streams, whatever Content-Length
    says), follows at most `max_redirects` redirects and only to http(s), and checks each hop's addresses
    against the policy's rules. Errors are one-line MediaErrors starting with `where` (the source's JSON path)."""
    policy = policy or FetchPolicy()
    folder = workspace.folder("downloads")
    suffix = Path(urllib.parse.urlsplit(url).path).suffix[:8]
    target_file = folder / (_download_key(url, policy) + suffix)
    if target_file.is_file():
        return target_file
    deadline = _Deadline(policy.deadline_seconds)
    connection: http.client.HTTPConnection | None = None
    current = url
    try:
        with atomic_output(target_file) as temp, temp.open("wb") as out:
            for hop in range(policy.max_redirects + 1):
                target = resolve_target(current, policy.addresses, timeout=deadline.remaining())
                connection, response = _request(target, deadline)
                if response.status not in REDIRECTS:
                    break
                location = response.getheader("Location")
                connection.close()
                if not location:
                    raise MediaError(f"{where}: cannot fetch {url}: HTTP {response.status} without a Location")
                current = urllib.parse.urljoin(current, location.strip())
                scheme = urllib.parse.urlsplit(current).scheme.lower()
                if scheme not in ("http", "https"):
                    raise MediaError(f"{where}: cannot fetch {url}: it redirects to {scheme}://, "
                                     "and only http(s) redirects are followed")
            else:
                raise MediaError(f"{where}: cannot fetch {url}: more than {policy.max_redirects} redirects")
            if response.status >= 400:
                raise MediaError(f"{where}: cannot fetch {url}: HTTP {response.status} {response.reason}".rstrip())
            if response.status != 200:
                raise MediaError(f"{where}: cannot fetch {url}: HTTP {response.status} is not a file")
            kind = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
            if kind.startswith("text/") or kind in ("application/json", "application/xml"):
                raise MediaError(f"{where}: {url} serves {kind}, not media")
            limit = policy.max_bytes
            length = response.getheader("Content-Length") or ""
            if length.isdigit() and int(length) > limit:
                raise MediaError(f"{where}: {url} is {int(length) / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB")
            received = 0
            while True:
                connection.raw_sock.settimeout(deadline.remaining())  # type: ignore[attr-defined]
                chunk = response.read1(CHUNK)
                if not chunk:
                    break
                received += len(chunk)
                if received > limit:
                    raise MediaError(f"{where}: {url} is larger than the {limit / 1e6:.0f} MB limit")
                out.write(chunk)
            deadline.remaining()
            out.flush()
            deadline.stop()
            connection.close()
            try:
                read_streams(temp, where)
            except MediaError as exc:
                detail = str(exc).split(": ", 1)[-1].replace(str(temp), url)
                raise MediaError(f"{where}: {url} is not media: {detail}") from None
        return target_file
    except MediaError:
        raise
    except AddressRefused as exc:
        shown = url if current == url else f"{url} (redirected to {current})"
        raise MediaError(f"{where}: cannot fetch {shown}: {exc}") from None
    except (OSError, TimeoutError, http.client.HTTPException, ValueError) as exc:
        if deadline.passed():
            reason = f"took longer than the {policy.deadline_seconds:g} s limit"
        else:
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise MediaError(f"{where}: cannot fetch {url}: {' '.join(str(reason).split())}") from None
    finally:
        deadline.stop()
        if connection is not None:
            connection.close()


def send_once(url: str, rules: AddressRules, *, body: bytes, headers: dict[str, str], timeout: float,
              method: str = "POST") -> int:
    """Send one request (no redirects followed) to an address `rules` allow; the answer's status code.

    Raises AddressRefused, or OSError/TimeoutError/HTTPException when there is no answer within `timeout`."""
    deadline = _Deadline(timeout)
    target = resolve_target(url, rules, timeout=deadline.remaining())
    connection, response = _request(target, deadline, method, body, {"Content-Type": "application/json", **headers})
    try:
        response.read(CHUNK)
        return response.status
    finally:
        deadline.stop()
        connection.close()
