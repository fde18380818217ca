"""The dashboard's server and the report, without a browser: the token, the
loopback, the long poll, the event log's errors, the report's sources."""
from __future__ import annotations

import http.client
import threading
import time
import urllib.error
import urllib.request

import orjson
import pytest

import mapfold as mf
from mapfold.plan.events import Event
from mapfold.runners import dashboard_choice
from mapfold.web import Dashboard, DashboardError, RunView, read_events, record_events, report_html
from mapfold.web.report import write_report


def state_url(board: Dashboard) -> str:
    return board.url.replace("/?", "/api/state?")


def get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_every_route_needs_the_token():
    with Dashboard(announce=False) as board:
        base = board.url.split("?")[0]
        assert board.url.startswith("http://127.0.0.1:")
        for path in ("", "api/state", "api/state?since=0", "nothing", "?token=", f"?token={board.token}x"):
            assert get(base + path)[0] == 403, path
        status, headers, page = get(board.url)
        assert status == 200 and b"<title>mapfold</title>" in page
        assert "HttpOnly" in headers["Set-Cookie"] and "SameSite=Strict" in headers["Set-Cookie"]
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
        cookie = headers["Set-Cookie"].split(";")[0]
        assert get(base + "api/state", {"Cookie": cookie})[0] == 200  # the page's cookie stands for the token
        assert get(base + "api/state", {"Cookie": "mapfold_dashboard=guess"})[0] == 403
        assert get(board.url.replace("/?", "/elsewhere?"))[0] == 404


def test_loopback_only_unless_allowed():
    with pytest.raises(DashboardError, match="allow_remote"):
        Dashboard(host="0.0.0.0")
    with pytest.raises(DashboardError, match="port"):
        Dashboard(port=70000)
    with Dashboard(announce=False) as board, pytest.raises(DashboardError, match="cannot listen"):
        Dashboard(port=board.port, announce=False).start()
    with pytest.raises(DashboardError, match="not serving"):
        Dashboard().url


def test_the_url_is_printed_once(capfd):
    with Dashboard() as board:
        board.start()  # started already: nothing new
    err = capfd.readouterr().err
    assert err.count("mapfold dashboard: http://127.0.0.1:") == 1 and board.token in err


def test_a_long_poll_answers_when_an_event_arrives():
    with Dashboard(announce=False) as board:
        version = orjson.loads(get(state_url(board))[2])["version"]
        threading.Timer(0.3, board, [Event("job_started", job="j9", data={"action": "count"})]).start()
        start = time.monotonic()
        state = orjson.loads(get(f"{state_url(board)}&since={version}")[2])
        assert 0.2 < time.monotonic() - start < 5
        assert state["version"] == version + 1 and state["jobs"][-1]["id"] == "j9"


def test_a_version_is_serialized_once_and_the_dashboard_tells_its_cost():
    with Dashboard(announce=False) as board:
        with mf.runner("processes", workers=2) as runner:
            runner.add_listener(board)
            mf.from_sequence(range(1000), partitions=4).map(lambda x: (x % 3, 1)).reduce_by_key(
                lambda a, b: a + b).collect()
        version = board.view.version
        first, again = get(state_url(board))[2], get(f"{state_url(board)}&since=-1")[2]
        assert first == again == orjson.dumps(board.view.snapshot(), default=str)
        assert board.view.state_json() is board.view.state_json()  # kept for the version
        assert orjson.loads(first)["version"] == version
        cost = board.cost()
        assert cost["answers"] == 2 and cost["bytes"] == 2 * len(first)
        assert 0 < cost["fold"] < cost["cpu_seconds"] < 5 and cost["serve"] > 0
    start = time.monotonic()
    board.close()  # closed already: nothing to wait for
    assert board.cost()["cpu_seconds"] >= cost["cpu_seconds"] and time.monotonic() - start < 1


def test_closing_does_not_wait_for_the_listening_thread():
    board = Dashboard(announce=False).start()
    time.sleep(0.1)
    start = time.monotonic()
    board.close()
    assert time.monotonic() - start < 1.0 and not board._thread.is_alive()  # it sleeps 2 s between looks


def test_the_page_is_all_there_is():
    """Nothing the page loads comes from elsewhere: no src=, no href= to a server, no CDN."""
    with Dashboard(announce=False) as board:
        page = get(board.url)[2].decode()
    for needle in ("src=", "href=", "https://", "@import", "url("):
        assert needle not in page, needle


def test_the_report_of_a_log_equals_the_report_of_its_record(tmp_path):
    log = tmp_path / "run.jsonl"
    with mf.runner("processes", workers=2, event_log=log, memory_limit="256KB") as runner:
        words = mf.from_sequence([f"w{i % 5000}" for i in range(40_000)], partitions=4)
        ds = words.map(lambda w: (w, 1)).reduce_by_key(lambda a, b: a + b)
        assert len(ds.collect(runner=runner)) == 5000
    record = ds.last_run
    from_log = RunView().extend(read_events(log)).snapshot()["jobs"][-1]
    from_record = RunView().extend(record_events(record)).snapshot()["jobs"][-1]
    for key in ("id", "status", "records", "spilled_bytes", "spilled_records", "counters", "tasks_seen"):
        assert from_log[key] == from_record[key], key
    assert [(s["id"], s["done"], s["records"]) for s in from_log["stages"]] == \
           [(s["id"], s["done"], s["records"]) for s in from_record["stages"]]
    assert record.spilled_bytes > 0 and from_log["spilled_bytes"] == record.spilled_bytes
    page = report_html(log)
    assert f'"id":"{record.job}"' in page and "</script>" not in page.split('id="mapfold-state"')[1].split("</script>")[0]


def test_a_bad_event_log_names_the_file_and_line(tmp_path):
    log = tmp_path / "bad.jsonl"
    log.write_text('{"kind": "job_started", "job": "j1"}\nnot json\n')
    with pytest.raises(DashboardError, match=r"bad.jsonl line 2 is not a mapfold event"):
        write_report(log, tmp_path / "r.html")
    log.write_text('{"kind": "teleported", "job": "j1"}\n')
    with pytest.raises(DashboardError, match=r"line 1 .*unknown event kind 'teleported'"):
        list(read_events(log))
    with pytest.raises(DashboardError, match="cannot read the event log"):
        list(read_events(tmp_path / "missing.jsonl"))
    assert not (tmp_path / "r.html").exists()


def test_mapfold_report_command(tmp_path):
    from click.testing import CliRunner

    from mapfold.cli.main import main

    log = tmp_path / "events.jsonl"
    with mf.runner("serial", event_log=log):
        mf.from_sequence(range(10), partitions=2).count()
    out = tmp_path / "run.html"
    result = CliRunner().invoke(main, ["report", str(log), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().count('"status":"succeeded"') == 1
    result = CliRunner().invoke(main, ["report", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1 and "cannot read the event log" in result.output


def test_a_dashboard_setting_is_read_strictly():
    assert dashboard_choice("8000") == 8000 and dashboard_choice("") is None
    with pytest.raises(mf.MapfoldError, match="MAPFOLD_DASHBOARD='maybe'"):
        dashboard_choice("maybe", "MAPFOLD_DASHBOARD")


def test_a_closed_dashboard_refuses_connections():
    board = Dashboard(announce=False).start()
    port = board.port
    board.close()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    with pytest.raises(OSError):
        connection.request("GET", "/")


def test_mapfold_run_serves_a_dashboard_and_writes_an_event_log(tmp_path, capfd):
    from mapfold.cli.run import run_script

    script = tmp_path / "job.py"
    script.write_text("import mapfold as mf\nprint(mf.from_sequence(range(10), partitions=2).sum())\n")
    log = tmp_path / "events.jsonl"
    assert run_script(str(script), runner="serial", summary=False, dashboard=True, event_log=str(log)) == 0
    out, err = capfd.readouterr()
    assert out.strip() == "45" and err.count("mapfold dashboard: http://127.0.0.1:") == 1
    assert [e.kind for e in read_events(log)][-1] == "job_finished"
