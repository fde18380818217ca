"""The dashboard and the report in a real headless Chromium, during real jobs.

A word count with a ``reduce_by_key`` and a ``sort_by`` (each input
partition sleeps a little, so the page can be watched) runs in a thread on
the processes runner and on dask, under a memory budget small enough that
the map side spills. The page must load with the token and be refused
without it; its progress and task stream must advance while the job runs;
its final counters, record counts and spilled bytes must equal the run
record's; a failing task must show its error and context. The offline
report of the same run must show the same figures with networking off.
The processes run takes the screenshots of docs/dashboard.md: into docs/images with
``MAPFOLD_WRITE_SCREENSHOTS=1``, else into the test's folder (a test run leaves the checkout as it was).
"""
from __future__ import annotations

import os
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import mapfold as mf
from mapfold.core.config import parse_size
from mapfold.runners import make_runner

DOC_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
SLEEP = 0.2  # seconds per input partition: 8 partitions, 2 workers, 4 waves a stage
WORDS = [f"w{i % 3000}" for i in range(60_000)]
LINES = [" ".join(WORDS[i:i + 10]) for i in range(0, len(WORDS), 10)]
BUDGET = "256KB"  # the map side of reduce_by_key spills under it


def word_count(runner):
    """The sorted word count of LINES on ``runner``: the Dataset of the final action, and its result."""

    def slow(lines):
        time.sleep(SLEEP)
        lines = list(lines)
        mf.increment_counter("wordcount", "lines", len(lines))
        return lines

    counts = (mf.from_sequence(LINES, partitions=8).map_partitions(slow)
              .flat_map(str.split).map(lambda w: (w, 1)).reduce_by_key(lambda a, b: a + b, partitions=4))
    ranked = counts.sort_by(lambda kv: (-kv[1], kv[0]), partitions=2, runner=runner)
    return ranked, ranked.collect(runner=runner)


def failing_job(runner):
    def explode(x):
        if x == 13:
            raise ValueError("bad record 13")
        return x

    ds = mf.from_sequence(range(40), partitions=4).map(explode)
    with pytest.raises(ValueError, match="bad record 13"):
        ds.collect(runner=runner)
    return ds


FIGURES_JS = """() => {
  const value = (id) => document.getElementById(id).dataset.value;
  const stages = {};
  for (const row of document.querySelectorAll("#stages tbody tr")) {
    const tasks = row.querySelector(".tasks");
    stages[row.dataset.stage] = {done: +tasks.dataset.done, tasks: +tasks.dataset.tasks,
      records: row.querySelector(".records").dataset.value, spilled: +row.querySelector(".spilled").dataset.value};
  }
  const counters = {};
  for (const row of document.querySelectorAll("#counters tbody tr[data-group]")) {
    (counters[row.dataset.group] = counters[row.dataset.group] || {})[row.dataset.name] =
      +row.querySelector("td.num").dataset.value;
  }
  const failures = [...document.querySelectorAll("#failures .failure")].map((f) => ({
    error: f.querySelector(".error").textContent, context: (f.querySelector(".context") || {}).textContent,
    traceback: (f.querySelector(".traceback") || {}).textContent}));
  return {job: document.body.dataset.job, status: document.body.dataset.status, mode: document.getElementById("mode").textContent,
    action: document.getElementById("job-line").textContent.split(" on ")[0],
    done: +value("tasks-done"), records: +value("total-records"), spilled: +value("total-spilled"),
    spilled_records: +value("spilled-records"), rects: document.querySelectorAll("#stream-svg rect.task").length,
    stages, counters, failures};
}"""


def figures(page) -> dict:
    return page.evaluate(FIGURES_JS)


def expected(record) -> dict:
    """What the page must show for ``record`` (a RunRecord)."""
    per_stage = record.stage_records()
    return {"job": record.job, "status": record.status, "done": len(record.tasks),
            "records": sum(per_stage.values()), "spilled": record.spilled_bytes,
            "spilled_records": record.spilled_records, "counters": record.counters,
            "stages": {str(s.id): {"records": str(per_stage[s.id]) if s.id in per_stage else "",
                                   "spilled": sum(t.spilled_bytes for t in record.tasks if t.stage == s.id),
                                   "done": sum(1 for t in record.tasks if t.stage == s.id), "tasks": s.tasks}
                       for s in record.stages}}


def shown(fig: dict) -> dict:
    keep = ("job", "status", "done", "records", "spilled", "spilled_records", "counters", "stages")
    return {k: fig[k] for k in keep}


def watch(page, runner, shot: Path | None):
    """Run the word count in a thread while reading the page every 50 ms; (dataset, result, what was seen)."""
    outcome: dict = {}

    def job():
        try:
            outcome["ds"], outcome["result"] = word_count(runner)
        except BaseException as exc:  # noqa: BLE001  re-raised below, in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=job)
    thread.start()
    seen = []
    try:
        while thread.is_alive():
            fig = figures(page)
            seen.append(fig)
            if shot is not None and fig["status"] == "running" and fig["action"] == "collect" and fig["done"] >= 5:
                image = page.screenshot(full_page=True)
                after = figures(page)  # kept only if the page still showed that job, mid-run
                if after["job"] == fig["job"] and after["status"] == "running" and after["done"] >= fig["done"]:
                    shot.write_bytes(image)
                    shot = None
            page.wait_for_timeout(50)
    finally:
        thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["ds"], outcome["result"], seen


def check_live(page, board_url, runner, shot: Path | None = None):
    base = board_url.split("?")[0]
    assert page.goto(base).status == 403  # no token
    assert page.goto(base + "?token=wrong").status == 403
    with pytest.raises(urllib.error.HTTPError) as refused:  # the JSON too
        urllib.request.urlopen(base + "api/state")
    assert refused.value.code == 403
    answer = page.goto(board_url)
    assert answer.status == 200
    page.wait_for_function("() => document.getElementById('mode').textContent === 'live'")

    ds, result, seen = watch(page, runner, shot)
    assert result[0] == ("w0", 20) and len(result) == 3000
    record = ds.last_run

    # while the final job ran, its progress and its task stream advanced
    running = [f for f in seen if f["job"] == record.job and f["status"] == "running"]
    assert len({f["done"] for f in running}) >= 3, [f["done"] for f in running]
    assert len({f["rects"] for f in running}) >= 3
    assert any(0 < s["done"] < s["tasks"] for f in running for s in f["stages"].values())

    # the final figures are the run record's
    page.wait_for_function(f"() => document.body.dataset.job === '{record.job}' && document.body.dataset.status === 'succeeded'")
    want = expected(record)
    assert record.spilled_bytes > 0 and want["records"] > 0
    assert want["counters"]["wordcount"]["lines"] == len(LINES)
    assert shown(figures(page)) == want
    return ds, record


def check_failure(page, runner, shot: Path | None = None):
    ds = failing_job(runner)
    record = ds.last_run
    assert record.status == "failed" and record.failures
    page.wait_for_function(f"() => document.body.dataset.job === '{record.job}' && document.body.dataset.status === 'failed'")
    fig = figures(page)
    failure = record.failures[0]
    assert fig["failures"][0]["error"] == failure["error"] == "ValueError: bad record 13"
    assert fig["failures"][0]["context"] == failure["context"]
    assert "partition 1" in failure["context"]  # 13 is in the second of four partitions of 40
    assert "bad record 13" in fig["failures"][0]["traceback"]  # the worker's traceback
    if shot is not None:
        page.locator("#failures").screenshot(path=str(shot))


def check_report(browser, source, record, shot: Path | None = None):
    """The offline report of ``record``'s run, opened from file:// with every network request refused."""
    asked = []

    def refuse(route):
        asked.append(route.request.url)
        route.abort()

    page = browser.new_page()
    try:
        page.route("http*://**/*", refuse)
        page.context.set_offline(True)
        page.goto(Path(source).resolve().as_uri())
        page.wait_for_function("() => document.getElementById('mode').textContent.startsWith('report')")
        page.select_option("#job-select", record.job)
        fig = figures(page)
        assert shown(fig) == expected(record)
        assert asked == []
        if shot is not None:
            page.screenshot(path=str(shot), full_page=True)
    finally:
        page.context.set_offline(False)
        page.close()


def test_processes_live_page_and_report(browser, tmp_path):
    log = tmp_path / "events.jsonl"
    images = DOC_IMAGES if os.environ.get("MAPFOLD_WRITE_SCREENSHOTS") == "1" else tmp_path
    with mf.runner("processes", workers=2, memory_limit=BUDGET, dashboard=True, event_log=log) as runner:
        board = runner.dashboard
        assert board.url.startswith("http://127.0.0.1:") and "token=" in board.url
        page = browser.new_page()
        try:
            ds, record = check_live(page, board.url, runner, images / "dashboard-live.png")
            check_failure(page, runner, images / "dashboard-failure.png")
        finally:
            page.close()
    # after the run: the report from the event log (every job of the runner), and from the record alone
    report = mf.write_report(log, tmp_path / "report.html")
    check_report(browser, report, record, images / "dashboard-report.png")
    check_report(browser, mf.write_report(record, tmp_path / "record.html"), record)


def test_dask_live_page_and_report(browser, dask_runner, tmp_path):
    saved = dask_runner.memory_limit
    dask_runner.memory_limit = parse_size(BUDGET)  # put back below: the session's runner is shared
    page = browser.new_page()
    try:
        with mf.dashboard(dask_runner, announce=False) as board:
            ds, record = check_live(page, board.url, dask_runner)
            check_failure(page, dask_runner)
    finally:
        dask_runner.memory_limit = saved
        page.close()
    assert {task.worker for task in record.tasks} and None not in {task.worker for task in record.tasks}
    check_report(browser, mf.write_report(record, tmp_path / "report.html"), record)


def test_a_runner_has_no_dashboard_unless_asked(monkeypatch):
    monkeypatch.delenv("MAPFOLD_DASHBOARD", raising=False)
    plain = make_runner("serial")
    assert plain.dashboard is None and plain.listeners == []
    plain.close()
    monkeypatch.setenv("MAPFOLD_DASHBOARD", "1")
    runner = make_runner("serial")
    try:
        assert runner.dashboard is not None and runner.dashboard in runner.listeners
        url = runner.dashboard.url
        with urllib.request.urlopen(url) as answer:
            assert answer.status == 200
    finally:
        runner.close()
    with pytest.raises(urllib.error.URLError):  # closing the runner stopped its dashboard
        urllib.request.urlopen(url, timeout=2)
