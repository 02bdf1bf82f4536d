"""Start one service under uvicorn: `python -m servicekit.serve registry`."""

from __future__ import annotations

import sys

import uvicorn

from servicekit.definition import load_services
from servicekit.logs import configure_logging


def serve(name: str) -> None:
    services = load_services()
    if name not in services:
        raise SystemExit(f"unknown service {name!r}; installed: {', '.join(services)}")
    definition = services[name]
    settings = definition.settings()
    configure_logging(name, level=settings.log_level, fmt=settings.log_format)
    app = definition.create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        server_header=False,
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m servicekit.serve SERVICE")
    serve(sys.argv[1])
