"""The live dashboard: a small standard-library HTTP server in a thread.

Safe by default: it binds to 127.0.0.1 on a free port, and every request
needs the dashboard's random token, in the URL (``?token=``, printed once
when it starts) or in the cookie the first page sets (``HttpOnly``,
``SameSite=Strict``); without it, 403. A host other than the loopback
needs ``allow_remote=True`` and still needs the token. Responses forbid
caching, referrers (the token is in the URL) and any script, style or
connection from anywhere but the page itself (``Content-Security-Policy``).

Two routes: ``/`` (the page, ``page.html``) and ``/api/state`` (the
:class:`~mapfold.web.view.RunView` snapshot as JSON). The page asks
``/api/state?since=V``; the server answers when the view has moved past
version ``V`` (or after 10 s), so a finished task shows within a poll's
round trip and an idle page costs nothing. The server runs in daemon
threads of the driver; it touches the job only through the view's lock.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import secrets
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from ..core.errors import MapfoldError
from ..plan.events import Event
from .page import render_page
from .view import RunView

__all__ = ["Dashboard", "DashboardError"]

log = logging.getLogger("mapfold.dashboard")

_COOKIE = "mapfold_dashboard"
_LONG_POLL = 10.0  # seconds a /api/state?since=V request waits for news
_WAKE = 2.0  # seconds the idle serving thread sleeps between looks at a stop request (close() knocks)
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"),
}


class DashboardError(MapfoldError):
    """The dashboard cannot start (a port taken, a wider host without ``allow_remote``)
    or cannot read what it was given (an event log, a report's source)."""


class Dashboard:
    """A live view of the jobs of the runners it listens to.

    It is a listener (``runner.add_listener(dashboard)``); ``mf.runner(...,
    dashboard=True)`` and ``mf.dashboard()`` make one, start it and attach
    it. ``url`` carries the token.

    >>> import mapfold as mf, urllib.request, urllib.error
    >>> with Dashboard(announce=False) as board:
    ...     with mf.runner("serial") as r:
    ...         r.add_listener(board)
    ...         mf.from_sequence(range(6), partitions=3).count()
    ...     state = urllib.request.urlopen(board.url.replace("/?", "/api/state?")).read()
    ...     try:
    ...         urllib.request.urlopen(board.url.split("?")[0])
    ...     except urllib.error.HTTPError as exc:
    ...         refused = exc.code
    6
    >>> b'"status":"succeeded"' in state, refused
    (True, 403)
    """

    def __init__(self, port: int = 0, host: str = "127.0.0.1", *, token: str | None = None,
                 allow_remote: bool = False, announce: bool = True, title: str = "mapfold"):
        if not _is_loopback(host) and not allow_remote:
            raise DashboardError(f"the dashboard binds to the loopback only; host {host!r} needs "
                                 "allow_remote=True (the token is still required)")
        if not isinstance(port, int) or isinstance(port, bool) or not 0 <= port <= 65535:
            raise DashboardError(f"dashboard port must be an int from 0 (a free port) to 65535, not {port!r}")
        self.host, self.port = host, port
        self.token = token or secrets.token_urlsafe(24)
        self.view = RunView()
        self.title = title
        self._announce = announce
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._cost = _Cost()

    # -- the listener --------------------------------------------------------
    def __call__(self, event: Event) -> None:
        start = time.thread_time()
        self.view(event)
        self._cost.add(fold=time.thread_time() - start)

    def cost(self) -> dict:
        """What this dashboard has cost the driver so far, in CPU seconds of its own threads.

        ``fold`` (updating the view on each event, in the thread that emits
        it), ``serve`` (the listening thread and every request's thread:
        parsing, waiting, the view's JSON, sending), their ``cpu_seconds``,
        and the ``answers`` and ``bytes`` sent: a figure that a loaded
        machine's noise does not hide (``benchmarks/dashboard_overhead.py``).

        >>> board = Dashboard(announce=False)
        >>> board(Event("job_started", job="j1", data={"action": "count", "runner": "serial"}))
        >>> cost = board.cost()
        >>> sorted(cost), cost["answers"], cost["cpu_seconds"] < 1
        (['answers', 'bytes', 'cpu_seconds', 'fold', 'serve'], 0, True)
        """
        return self._cost.read(self._listening_seconds())

    def _listening_seconds(self) -> float:
        """The CPU seconds of the listening thread so far (0 when it is not running)."""
        listening = self._thread
        if listening is None or not listening.is_alive():
            return 0.0
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(listening.ident))
        except (OSError, AttributeError, OverflowError):  # no per-thread clock here
            return 0.0

    # -- serving -------------------------------------------------------------
    @property
    def url(self) -> str:
        """The page's address, token included (start the dashboard first)."""
        if self._server is None:
            raise DashboardError("the dashboard is not serving: start() it (or use it in a with block)")
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"http://{host}:{self.port}/?token={self.token}"

    def start(self) -> "Dashboard":
        """Serve in a daemon thread; prints the URL once (to stderr) and logs it."""
        if self._server is not None:
            return self
        try:
            server = _Server((self.host, self.port), _Handler)
        except OSError as exc:
            raise DashboardError(f"the dashboard cannot listen on {self.host}:{self.port}: {exc}") from exc
        server.dashboard = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": _WAKE},
                                        name=f"mapfold-dashboard-{self.port}", daemon=True)
        self._thread.start()
        log.info("mapfold dashboard: %s", self.url)
        if self._announce:
            print(f"mapfold dashboard: {self.url}", file=sys.stderr, flush=True)
        return self

    def close(self) -> None:
        """Stop serving (the view stays readable)."""
        server, self._server = self._server, None
        if server is not None:
            self._cost.add(serve=self._listening_seconds())  # the listening thread's CPU, kept past its end
            # the serving thread sleeps in select() until a connection comes (or _WAKE seconds
            # pass): ask it to stop, then knock once so it hears it now
            stopping = threading.Thread(target=server.shutdown, daemon=True)
            stopping.start()
            try:
                socket.create_connection(server.server_address[:2], timeout=1).close()
            except OSError:  # it then stops within _WAKE seconds
                pass
            stopping.join(timeout=5)
            server.server_close()
            self._thread.join(timeout=5)

    def __enter__(self) -> "Dashboard":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"{self.host}:{self.port}" if self._server is not None else "not serving"
        return f"Dashboard({state})"


class _Cost:
    """The dashboard's own CPU seconds and answers, added to from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.fold = self.serve = 0.0
        self.answers = self.bytes = 0

    def add(self, fold: float = 0.0, serve: float = 0.0, answers: int = 0, sent: int = 0) -> None:
        with self._lock:
            self.fold += fold
            self.serve += serve
            self.answers += answers
            self.bytes += sent

    def read(self, listening: float = 0.0) -> dict:
        with self._lock:
            serve = self.serve + listening
            return {"fold": self.fold, "serve": serve, "cpu_seconds": self.fold + serve,
                    "answers": self.answers, "bytes": self.bytes}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    dashboard: Dashboard


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "mapfold-dashboard"
    sys_version = ""

    def handle(self) -> None:
        start = time.thread_time()  # a request's thread: all of its CPU is the dashboard's
        try:
            super().handle()
        finally:
            self.server.dashboard._cost.add(serve=time.thread_time() - start)

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        board = self.server.dashboard
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        given = query.get("token", [None])[0]
        if given is None:
            cookie = SimpleCookie(self.headers.get("Cookie", ""))
            given = cookie[_COOKIE].value if _COOKIE in cookie else None
        if given is None or not hmac.compare_digest(given.encode(), board.token.encode()):
            self._send(HTTPStatus.FORBIDDEN, b"403 forbidden: this dashboard needs its token (the URL it printed)\n",
                       "text/plain; charset=utf-8")
            return
        if url.path == "/":
            page = render_page(None, title=board.title).encode()
            cookie = f"{_COOKIE}={board.token}; HttpOnly; SameSite=Strict; Path=/"
            self._send(HTTPStatus.OK, page, "text/html; charset=utf-8", {"Set-Cookie": cookie})
        elif url.path == "/api/state":
            since = query.get("since", [None])[0]
            if since is not None and since.lstrip("-").isdigit():
                board.view.wait(int(since), _LONG_POLL)
            body = board.view.state_json()
            self._send(HTTPStatus.OK, body, "application/json")
            board._cost.add(answers=1, sent=len(body))
        else:
            self._send(HTTPStatus.NOT_FOUND, b"404 not found\n", "text/plain; charset=utf-8")

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, extra: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**_HEADERS, **(extra or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the page went away mid-answer
            pass

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the standard library's name)
        log.debug("%s " + format, self.address_string(), *args)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
