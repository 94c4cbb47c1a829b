"""The service's settings: one typed object, made once at start-up by the edge (flags and environment) and handed
to the engine and the HTTP layer. Nothing here reads the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from reelforge.resolve.policy import FETCH_DEADLINE, MAX_DOWNLOAD_BYTES, AddressRules, SourcePolicy

MB = 1000 * 1000


def default_workers() -> int:
    """Renders at once: one per two cores (each render runs two ffmpeg encoders)."""
    return max((os.cpu_count() or 2) // 2, 1)


class ServiceSettings(BaseModel):
    """Everything `reelforge serve` can be told; the defaults suit one machine shared by a team."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: Path = Field(description="The data folder: the database, the jobs' folders, the cache.")
    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port to listen on (0: any free port).")
    public_url: str | None = Field(default=None, description="The base URL links are made with (default: "
                                                              "the address the request came to).")
    workers: int = Field(default_factory=default_workers, ge=0, description="Renders at once (0: queue only).")
    render_threads: int = Field(default=2, ge=1, description="ffmpeg encoders one render runs at once.")
    executor: Literal["process", "thread"] = Field(default="process", description="Where renders run: a process "
                                                   "each (the API never waits for a render's Python), or threads.")
    scheduler: str | None = Field(default=None, description="A Dask scheduler (tcp://HOST:8786): renders put "
                                  "their video runs on its workers (the `cluster` extra).")
    shared_folder: Path | None = Field(default=None, description="A folder the cluster's workers and this server "
                                       "all mount: inputs and pieces pass through it instead of the network.")
    render_nice: int = Field(default=10, ge=0, le=19, description="Scheduling niceness of renders (and their "
                                                                  "ffmpeg): the API stays responsive while they run.")
    max_attempts: int = Field(default=3, ge=1, description="Tries of a render the server was stopped during.")
    webhook_attempts: int = Field(default=5, ge=1, description="Deliveries of one event before giving up.")
    webhook_backoff_seconds: float = Field(default=10.0, gt=0, description="Wait before the first retry; "
                                                                           "doubled each time.")
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="Time a receiver has to answer.")
    requests_per_minute: int = Field(default=600, ge=1, description="Requests per key per minute.")
    submissions_per_minute: int = Field(default=30, ge=1, description="Render submissions per key per minute.")
    active_jobs_per_key: int = Field(default=10, ge=1, description="Queued and rendering jobs per key.")
    max_upload_bytes: int = Field(default=50 * MB, ge=1, description="Largest uploaded file.")
    max_job_bytes: int = Field(default=200 * MB, ge=1, description="Largest total of a job's uploads.")
    max_json_bytes: int = Field(default=6 * MB, ge=1024, description="Largest JSON body or JSON part.")
    max_fetch_bytes: int = Field(default=MAX_DOWNLOAD_BYTES, ge=1, description="Largest URL source.")
    fetch_deadline_seconds: float = Field(default=FETCH_DEADLINE, gt=0, description="Time to fetch one URL.")
    voices: Path | None = Field(default=None, description="A folder of extra piper voices.")
    media_root: Path | None = Field(default=None, description="A folder `path` sources may be read from.")
    allow_fetch_hosts: tuple[str, ...] = Field(default=(), description="Internal hosts URL sources may use.")
    allow_webhook_hosts: tuple[str, ...] = Field(default=(), description="Internal hosts webhooks may go to "
                                                                         "(over http too).")
    download_url_seconds: int = Field(default=3600, ge=1, description="Lifetime of signed download URLs.")
    idempotency_seconds: float = Field(default=24 * 3600, gt=0, description="Lifetime of idempotency records.")
    writer: Literal["outline", "llm"] = Field(default="outline", description="The script writer of prompt routes: "
                                              "outline (offline: the prompt is the script) or llm.")
    llm_url: str | None = Field(default=None, description="The llm writer's OpenAI-compatible base URL "
                                                          "(e.g. http://127.0.0.1:8080/v1).")
    llm_model: str | None = Field(default=None, description="The model the llm writer asks for.")
    llm_api_key: str | None = Field(default=None, description="The llm endpoint's key, if it needs one.")
    llm_timeout_seconds: float = Field(default=60.0, gt=0, description="Time the llm endpoint has to answer.")
    edit_token_seconds: float = Field(default=10 * 3600, gt=0, description="TutorFlow edit tokens: sliding "
                                                                            "lifetime, extended on every read.")
    inline_transcribe_seconds: float = Field(default=60.0, ge=0, description="TokCaption: a single item up to "
                                             "this long is transcribed within its request.")

    def script_writer(self):
        """The script writer the operator chose (`reelforge.editing.script_writer`)."""
        from reelforge.editing.script_writer import writer_for

        return writer_for(self.writer, url=self.llm_url, model=self.llm_model, api_key=self.llm_api_key,
                          timeout=self.llm_timeout_seconds)

    def source_policy(self) -> SourcePolicy:
        """What a submitted document's sources may reach."""
        return SourcePolicy.for_strangers(
            media_root=str(self.media_root.resolve()) if self.media_root is not None else None,
            allow_fetch_hosts=self.allow_fetch_hosts, max_fetch_bytes=self.max_fetch_bytes,
            fetch_deadline=self.fetch_deadline_seconds)

    def webhook_rules(self) -> AddressRules:
        """Where webhooks may go: public https, or the allowed hosts over http(s)."""
        return AddressRules(private_addresses=False, allow_hosts=self.allow_webhook_hosts, https_only=True)

    @property
    def database(self) -> Path:
        return self.data / "reelforge.sqlite3"

    @property
    def jobs_dir(self) -> Path:
        return self.data / "jobs"

    @property
    def cache_dir(self) -> Path:
        return self.data / "cache"
