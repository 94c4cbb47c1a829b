"""What a document's sources may reach: the fetch limits and address rules, and which local files it may read.

The defaults trust the document's author, as the command line does (its user's own files and loopback);
`SourcePolicy.for_strangers` is the rule for documents anyone may send (the service). A policy is plain data
and travels inside the `RenderJob`, so a render run in another process or on another machine obeys it too.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_DOWNLOAD_BYTES = 500 * 1000 * 1000
FETCH_DEADLINE = 60.0
MAX_REDIRECTS = 5


def _checked_hosts(values: Iterable[str]) -> tuple[str, ...]:
    """Host names (lower case, no final dot), addresses or CIDR ranges, in their normal spelling."""
    hosts = []
    for value in values:
        text = str(value).strip().lower().rstrip(".")
        if not text:
            raise ValueError("an allowed host cannot be empty")
        try:
            hosts.append(str(ipaddress.ip_network(text.strip("[]"), strict=False)))
        except ValueError:
            if any(c in text for c in "/:@ \\"):
                raise ValueError(f"{value!r} is neither a host name, an address nor a CIDR range") from None
            hosts.append(text)
    return tuple(hosts)


class AddressRules(BaseModel):
    """Where a URL may lead: public addresses always; loopback, private, link-local and metadata addresses only
    when `private_addresses` is set (the command line) or the host, its address or a range holding it is in
    `allow_hosts`. `https_only` refuses plain http except to allowed hosts (webhooks)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    private_addresses: bool = Field(default=True, description="Allow loopback, private and link-local addresses.")
    allow_hosts: tuple[str, ...] = Field(default=(), description="Host names, addresses or CIDR ranges allowed "
                                                                 "whatever their address.")
    https_only: bool = Field(default=False, description="Refuse http:// except to an allowed host.")

    @field_validator("allow_hosts", mode="before")
    @classmethod
    def _normal_hosts(cls, value: Iterable[str] | None) -> tuple[str, ...]:
        return _checked_hosts(value or ())


class FetchPolicy(BaseModel):
    """How URL sources are fetched: a total deadline, a size cap checked while streaming, at most a few
    http(s)-only redirects, and the address rules checked after DNS resolution and after every redirect."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_bytes: int = Field(default=MAX_DOWNLOAD_BYTES, ge=1, description="Largest download, in bytes.")
    deadline_seconds: float = Field(default=FETCH_DEADLINE, gt=0, description="Total time for one fetch.")
    max_redirects: int = Field(default=MAX_REDIRECTS, ge=0, le=20, description="Redirects followed at most.")
    addresses: AddressRules = Field(default_factory=AddressRules, description="Where the URL and its redirects "
                                                                              "may lead.")


class SourcePolicy(BaseModel):
    """Which files and URLs a document's sources may reach."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    confine_uploads: bool = Field(default=False, description="An `uploadName` must be a file inside the job's "
                                  "assets folder, also after following symlinks (the document's `assetsDir` is "
                                  "ignored).")
    path_sources: bool = Field(default=True, description="`path` sources may be read (when false, only from "
                                                         "inside `media_root`, if one is named).")
    media_root: str | None = Field(default=None, description="The one folder `path` sources may be read from.")
    fetch: FetchPolicy = Field(default_factory=FetchPolicy, description="How `url` sources are fetched.")

    @classmethod
    def for_strangers(cls, *, media_root: str | None = None, allow_fetch_hosts: Iterable[str] = (),
                      max_fetch_bytes: int = MAX_DOWNLOAD_BYTES,
                      fetch_deadline: float = FETCH_DEADLINE) -> "SourcePolicy":
        """The rule for a document from anyone: uploads stay in the job's folder, no `path` sources (unless
        from `media_root`), URLs only to public addresses (and the hosts the operator allows)."""
        rules = AddressRules(private_addresses=False, allow_hosts=tuple(allow_fetch_hosts))
        return cls(confine_uploads=True, path_sources=False, media_root=media_root,
                   fetch=FetchPolicy(max_bytes=max_fetch_bytes, deadline_seconds=fetch_deadline, addresses=rules))
