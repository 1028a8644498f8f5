"""The ``matcher`` command as installed: the library's subcommands (:mod:`matcher.cli`) plus ``serve``.

``[project.scripts] matcher = "service.cli:main"``; ``python -m service.cli ARGS`` is the same command.
``serve`` lives here because it starts this service: :mod:`matcher` never imports ``service`` or a web
framework (the import contracts in ``pyproject.toml``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from matcher import cli
from matcher.settings import env_name, settings_from_env

#: uvicorn's C parser and libuv loop (declared dependencies), named so a missing one fails at start rather
#: than silently falling back to h11 on asyncio, 0.6 ms more CPU a request (bench/README.md)
SERVER_OPTIONS = {"log_level": "info", "http": "httptools", "loop": "asyncio" if sys.platform == "win32" else "uvloop"}


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app
    from service.balance import LOAD_FILE_VARIABLE, create_load_file
    from service.settings import ServiceSettings

    workers = settings_from_env(workers=args.workers).workers
    settings = ServiceSettings.from_env(index=Path(args.index), encoder=args.encoder, keys_file=args.keys_file)
    if workers == 1:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, workers=1, **SERVER_OPTIONS)
        return 0
    # Several processes on one port: uvicorn spawns each and each calls the factory, which reads the settings
    # from the environment, so the command line's choices (checked above) travel there.
    given = {"index": str(Path(args.index).resolve()), "encoder": args.encoder,
             "keys_file": str(args.keys_file.resolve()) if args.keys_file else None}
    os.environ.update({env_name(k): v for k, v in given.items() if v})
    # one answer at a time per worker unless set: with workers = cores, a second answer computed in the same
    # process only contends for its GIL and for the core another worker is using (bench/README.md: 2 workers at
    # 4 clients, 11.9 against 13.3 ms of CPU a search)
    os.environ.setdefault(env_name("compute_slots"), "1")
    load_file = create_load_file(workers)  # the workers' requests in flight, so a loaded one sheds a connection
    os.environ[LOAD_FILE_VARIABLE] = str(load_file)
    try:
        uvicorn.run("service.app:create_app_from_env", factory=True, host=args.host, port=args.port,
                    workers=workers, **SERVER_OPTIONS)
    finally:
        load_file.unlink(missing_ok=True)
    return 0


def add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``matcher serve`` to the subcommands ``sub`` of the ``matcher`` parser."""
    p = sub.add_parser("serve", help="serve the API and the web page over an index")
    p.add_argument("--index", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--encoder")
    p.add_argument("--keys-file", type=Path, help=cli.KEYS_FILE_HELP)
    p.add_argument("--workers", type=int, help="processes answering requests, each with its own copy of the index "
                                               "(default: MATCHER_WORKERS, else 1)")
    p.set_defaults(func=cmd_serve)


def build_parser() -> argparse.ArgumentParser:
    """The whole ``matcher`` parser (library subcommands and ``serve``)."""
    return cli.build_parser(add_serve)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, commands=(add_serve,))


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
