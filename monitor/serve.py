"""``tgwatch serve``: the change report in a browser, over the archive opened read-only."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from monitor.context import AppContext
from storage.errors import InputError

if TYPE_CHECKING:
    from monitor.web.views import Report
    from storage.archive import Archive


def open_readonly(db_url: str, timeout: float = 10.0) -> Archive:
    """The archive on read-only connections (``storage.readonly``); one line if it cannot be read."""
    from storage.archive import Archive
    from storage.engine import shown_url
    from storage.readonly import readonly_engine
    from storage.report import probe

    engine = readonly_engine(db_url, timeout=timeout)
    archive = Archive(engine)
    try:
        with archive.reading() as session:
            probe(session, shown_url(db_url))
    except BaseException:
        engine.dispose()
        raise
    return archive


def open_report(db_url: str, configured: list[str]) -> Report:
    """The views' ``Report``: the archive on a read-only connection, the configured sites."""
    from monitor.schedule import crawl_job_id
    from monitor.web.views import Report

    return Report(open_readonly(db_url), configured, crawl_job_id)


def listen(host: str, port: int) -> socket.socket:
    """A listening socket (port 0: a free one), or one line saying why not."""
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(128)  # connections wait in the backlog until the server accepts them
    except OSError as exc:
        listener.close()
        raise InputError(f"{host}:{port}", f"cannot listen there: {exc.strerror}") from None
    return listener


def _server(asgi: Any) -> Any:
    import uvicorn

    return uvicorn.Server(uvicorn.Config(asgi, log_level="warning", access_log=False))


@contextmanager
def running(asgi: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``asgi`` on a free port in a thread (tests, bench, screenshots); yields its base URL."""
    listener = listen(host, 0)
    server = _server(asgi)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://{host}:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8750, show_default=True, help="Port (0: any free port).")
@click.pass_obj
def command(app: AppContext, host: str, port: int) -> None:
    """Serve the change report (changes, article diffs, captures, search, sites) read-only.

    The archive is opened read-only by connection, as for `tgwatch sql`. The pages need no
    JavaScript. The first line printed is the report's address.

    \b
    Example:
      tgwatch serve
      tgwatch --db postgresql://reader@db/tgwatch serve --host 0.0.0.0 --port 8080
    """
    from monitor.web.app import create_app

    report = open_report(app.db_url, list(app.config.sites))
    listener = listen(host, port)
    server = _server(create_app(report))
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"serving the report on http://{shown}:{listener.getsockname()[1]}/ (Ctrl-C to stop)")
    try:
        server.run(sockets=[listener])
    finally:
        report.archive.close()
