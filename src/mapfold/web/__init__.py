"""See a run on the web: the live dashboard and the offline report (``mapfold.web``).

Both are views of the event stream (``plan/events.py``): the live one a
listener of a runner (``mf.runner(..., dashboard=True)``, ``mf.dashboard()``,
``MAPFOLD_DASHBOARD``), served from a thread of the driver; the offline one
an HTML file made from an event log or a run record (``mf.write_report``,
``mapfold report``). This layer knows events and run records, nothing of
runners or Datasets: the runners layer attaches it.
"""
from __future__ import annotations

from .page import render_page
from .report import read_events, record_events, report_html, write_report
from .server import Dashboard, DashboardError
from .view import RunView

__all__ = ["Dashboard", "DashboardError", "RunView", "read_events", "record_events", "render_page", "report_html",
           "write_report"]
