"""The one page the live dashboard serves and the offline report embeds.

``page.html`` is plain HTML, CSS and JavaScript written by hand: no build
step, no framework, nothing fetched from a network. Live, its script asks
the server for the view's snapshot (``/api/state``); in a report the
snapshot is embedded in the page (a ``<script type="application/json">``)
and nothing is fetched at all.
"""
from __future__ import annotations

import html
from functools import lru_cache
from importlib import resources

import orjson

__all__ = ["render_page"]


@lru_cache(maxsize=1)
def _template() -> str:
    return resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")


def render_page(snapshot: dict | None, title: str = "mapfold") -> str:
    """The page; with ``snapshot`` (a ``RunView.snapshot()``) embedded, it needs no server.

    >>> page = render_page({"version": 1, "jobs": []}, title="run </script>")
    >>> '"version":1' in page, "run </script>" in page, "run &lt;/script&gt;" in page
    (True, False, True)
    """
    state = "null" if snapshot is None else _script_safe(orjson.dumps(snapshot, default=str).decode())
    return _template().replace("__TITLE__", html.escape(title)).replace("__STATE__", state)


def _script_safe(text: str) -> str:
    """JSON that cannot end the ``<script>`` it sits in (nor open a comment)."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
