"""What `reelforge serve` and `reelforge keys` do, for cli.py to call: the settings made from the flags and the
environment (this is an edge), the keys listed, made, revoked and rotated."""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reelforge.errors import ReelforgeError

if TYPE_CHECKING:  # the command line builds its parser without loading pydantic
    from reelforge.service.settings import ServiceSettings

DATA_ENV = "REELFORGE_DATA"
SETTING_ENV_PREFIX = "REELFORGE_SERVE_"  # REELFORGE_SERVE_WORKERS=2, REELFORGE_SERVE_ALLOW_FETCH_HOSTS=a,b, …


class KeyNotFound(ReelforgeError):
    exit_code = 2


def default_data_dir(environ: Mapping[str, str]) -> Path:
    """`$REELFORGE_DATA`, else `$XDG_DATA_HOME/reelforge/service`, else ~/.local/share/reelforge/service."""
    if environ.get(DATA_ENV):
        return Path(environ[DATA_ENV]).expanduser()
    home = Path(environ.get("HOME") or Path.home())
    return Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "reelforge" / "service"


def settings_from(flags: Mapping[str, Any], environ: Mapping[str, str]) -> "ServiceSettings":
    """Defaults, then `REELFORGE_SERVE_*` variables, then the flags given: one validated settings object."""
    from reelforge.service.settings import ServiceSettings

    values: dict[str, Any] = {}
    for name, field in ServiceSettings.model_fields.items():
        text = environ.get(SETTING_ENV_PREFIX + name.upper())
        if text is not None:
            values[name] = [part.strip() for part in text.split(",") if part.strip()] \
                if name.startswith("allow_") else text
    values.update({name: value for name, value in flags.items() if value is not None and value != []})
    values.setdefault("data", default_data_dir(environ))
    try:
        return ServiceSettings.model_validate(values)
    except ValueError as error:
        raise ReelforgeError(f"invalid server settings: {_one_line(error)}") from None


def _one_line(error: Exception) -> str:
    errors = getattr(error, "errors", None)
    if callable(errors):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors())
    return str(error)


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="Address to listen on (default 127.0.0.1).")
    parser.add_argument("--port", type=int, help="Port (default 8000; 0: a free port, see --port-file).")
    parser.add_argument("--data", type=Path, help=f"Data folder (default ${DATA_ENV}, else "
                                                  "~/.local/share/reelforge/service).")
    parser.add_argument("--workers", type=int, help="Renders at once (default: one per two cores).")
    parser.add_argument("--media-root", type=Path, help="A folder documents' `path` sources may read from "
                                                        "(default: path sources are refused).")
    parser.add_argument("--allow-fetch-host", dest="allow_fetch_hosts", action="append", default=[], metavar="HOST",
                        help="Let URL sources use this internal host, address or CIDR range (repeatable).")
    parser.add_argument("--allow-webhook-host", dest="allow_webhook_hosts", action="append", default=[],
                        metavar="HOST", help="Let webhooks go to this internal host, address or CIDR range, over "
                                             "http too (repeatable).")
    parser.add_argument("--public-url", help="Base URL of links the server hands out (default: the request's).")
    parser.add_argument("--max-attempts", type=int, help="Tries of a render the server stopped during (default 3).")
    parser.add_argument("--webhook-attempts", type=int, help="Deliveries of an event before giving up (default 5).")
    parser.add_argument("--webhook-backoff", dest="webhook_backoff_seconds", type=float,
                        help="Seconds before the first webhook retry, doubled each time (default 10).")
    parser.add_argument("--scheduler", metavar="tcp://HOST:8786", help="Put renders' video runs on this Dask "
                                                                      "cluster (default: this machine).")
    parser.add_argument("--shared-folder", type=Path, metavar="DIR", help="With --scheduler: a folder every worker "
                        "mounts too; inputs and pieces pass through it instead of the network.")
    parser.add_argument("--writer", choices=["outline", "llm"], help="Script writer of the prompt routes (default "
                        "outline: the prompt is the script; llm: the endpoint --llm-url names).")
    parser.add_argument("--llm-url", help="OpenAI-compatible base URL of the llm writer, e.g. http://127.0.0.1:8080/v1.")
    parser.add_argument("--llm-model", help="Model name the llm writer asks for.")
    parser.add_argument("--port-file", type=Path, help="Write the port listened on into this file once serving.")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


SERVE_FLAGS = ("host", "port", "data", "workers", "media_root", "allow_fetch_hosts", "allow_webhook_hosts",
               "public_url", "max_attempts", "webhook_attempts", "webhook_backoff_seconds", "scheduler", "shared_folder",
               "writer", "llm_url", "llm_model")


def run_serve(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    settings = settings_from({name: getattr(args, name) for name in SERVE_FLAGS}, environ)
    try:
        from reelforge_api.server import serve
    except ImportError as exc:
        raise ReelforgeError(f"the service needs FastAPI and uvicorn ({exc.name} is missing): "
                             "pip install 'reelforge[service]'") from None
    return serve(settings, port_file=args.port_file, log_level=args.log_level)


def add_keys_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="keys_action", metavar="ACTION")
    actions.required = True
    create = actions.add_parser("create", help="Make a key; it is printed once, alone on the last line.")
    create.add_argument("--name", required=True, help="What the key is for.")
    create.add_argument("--test", action="store_true", help="A test key: its jobs are checked and queued, not rendered.")
    listing = actions.add_parser("list", help="List the keys (never their secrets).")
    listing.add_argument("--json", action="store_true", help="As JSON lines.")
    revoke = actions.add_parser("revoke", help="Revoke a key at once.")
    revoke.add_argument("id", metavar="ID")
    rotate = actions.add_parser("rotate", help="Give a key a new secret (printed alone on the last line); the old "
                                               "one stops working at once, its jobs stay its own.")
    rotate.add_argument("id", metavar="ID")
    quota = actions.add_parser("quota", help="Set how many videos a key may render through TikVod's API (its "
                               "credits; failed and cancelled ones are refunded), or `unlimited` (the default).")
    quota.add_argument("id", metavar="ID")
    quota.add_argument("videos", metavar="N|unlimited")
    for sub in (create, listing, revoke, rotate, quota):
        sub.add_argument("--data", type=Path, help=f"Data folder (default ${DATA_ENV}, as for serve).")


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "-"
    return _dt.datetime.fromtimestamp(stamp, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def run_keys(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    from reelforge.service.errors import NotFound
    from reelforge.service.keys import Keys
    from reelforge.service.settings import ServiceSettings
    from reelforge.service.store import Store

    data = args.data.expanduser() if args.data else default_data_dir(environ)
    keys = Keys(Store(ServiceSettings(data=data).database))
    try:
        if args.keys_action == "create":
            key, secret = keys.create(args.name, test=args.test)
            print(f"created {'test ' if key.test else ''}key {key.id} ({key.name}); keep it now, it is not shown again:",
                  file=sys.stderr)
            print(secret)
        elif args.keys_action == "rotate":
            key, secret = keys.rotate(args.id)
            print(f"rotated key {key.id} ({key.name}); the old secret no longer works. The new one:", file=sys.stderr)
            print(secret)
        elif args.keys_action == "quota":
            from reelforge.service.accounts import Quotas

            key = keys.get(args.id)
            if args.videos != "unlimited" and not args.videos.isdigit():
                raise KeyNotFound(f"the quota is a number of videos or `unlimited`, not {args.videos!r}")
            Quotas(keys.store).set(key.id, None if args.videos == "unlimited" else int(args.videos))
            print(f"key {key.id} ({key.name}) may render {args.videos} videos through /compat/tikvod")
        elif args.keys_action == "revoke":
            key = keys.revoke(args.id)
            print(f"revoked key {key.id} ({key.name})")
        else:
            rows = keys.list()
            if args.json:
                for key in rows:
                    print(json.dumps({"id": key.id, "name": key.name, "test": key.test, "hint": key.hint,
                                      "createdAt": key.created_at, "revokedAt": key.revoked_at}))
            else:
                print(f"{'ID':<26}  {'NAME':<20}  {'KIND':<4}  {'STARTS WITH':<13}  {'CREATED':<20}  REVOKED")
                for key in rows:
                    print(f"{key.id:<26}  {key.name[:20]:<20}  {'test' if key.test else 'live':<4}  {key.hint + '…':<13}  "
                          f"{_when(key.created_at):<20}  {_when(key.revoked_at)}")
    except NotFound as error:
        raise KeyNotFound(str(error)) from None
    return 0
