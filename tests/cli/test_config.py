"""One configuration: mapfold.toml, [tool.mapfold], MAPFOLD_CONFIG, profiles, precedence, sources."""
from __future__ import annotations

import textwrap

import pytest

from mapfold.cli.config import show_config
from mapfold.cli.settings import build_runner, command_settings
from mapfold.core.profiles import ConfigError

from .helpers import environment, mapfold_cli

FILE = textwrap.dedent("""\
    profile = "laptop"
    memory_limit = "256MB"

    [profiles.laptop]
    runner = "processes"
    workers = 2

    [profiles.cluster]
    runner = "dask"
    address = "tcp://10.0.0.5:8786"

    [profiles.cluster.conf]
    "distributed.comm.timeouts.connect" = "30s"

    [profiles.cluster.storage_options.s3]
    profile = "${AWS_PROFILE}"
    secret = "${AWS_SECRET_ACCESS_KEY}"
""")


@pytest.fixture
def project(tmp_path):
    (tmp_path / "mapfold.toml").write_text(FILE)
    (tmp_path / "sub").mkdir()
    return tmp_path


def test_precedence_command_line_environment_profile_file(project):
    toml = project / "mapfold.toml"
    s = command_settings(environ={}, start=str(project / "sub"))  # found in a folder above
    assert (s.value("runner"), s.source("runner")) == ("processes", f"file {toml}, profile laptop")
    assert (s.value("memory_limit"), s.source("memory_limit")) == ("256MB", f"file {toml}")
    s = command_settings(environ={"MAPFOLD_MEMORY_LIMIT": "1GB", "MAPFOLD_RUNNER": "serial"}, start=str(project))
    assert s.settings["memory_limit"].source == "environment MAPFOLD_MEMORY_LIMIT"
    assert s.settings["runner"].source == "environment MAPFOLD_RUNNER"
    s = command_settings("serial", ["memory_limit=64MB"], environ={"MAPFOLD_MEMORY_LIMIT": "1GB"}, start=str(project))
    assert s.settings["memory_limit"].value == "64MB" and s.source("memory_limit") == "command line"
    assert s.source("runner") == "command line"
    assert command_settings(environ={}, start=str(project / "..")).source("runner") == "default"


def test_profiles_by_option_and_environment_with_references_expanded(project):
    env = {"MAPFOLD_PROFILE": "cluster", "AWS_PROFILE": "dev", "AWS_SECRET_ACCESS_KEY": "CANARY-SECRET-123"}
    s = command_settings(environ=env, start=str(project))
    assert s.profile.value == "cluster" and s.profile.source == "environment MAPFOLD_PROFILE"
    assert s.value("address") == "tcp://10.0.0.5:8786"
    assert s.value("storage_options") == {"s3": {"profile": "dev", "secret": "CANARY-SECRET-123"}}
    shown = show_config(environ=env, start=str(project))
    assert "CANARY-SECRET-123" not in shown and "${AWS_SECRET_ACCESS_KEY}" in shown  # references, never values
    assert "address = tcp://10.0.0.5:8786  (from file" in shown and "profile: cluster (from environment" in shown
    assert command_settings(profile="laptop", environ=env, start=str(project)).value("runner") == "processes"
    with pytest.raises(ConfigError, match="no profile 'big' .*profiles: cluster, laptop"):
        command_settings(profile="big", environ={}, start=str(project))
    with pytest.raises(ConfigError, match="environment variable AWS_PROFILE is not set"):
        command_settings(profile="cluster", environ={}, start=str(project))


def test_pyproject_table_and_mapfold_config_variable(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.mapfold]\nrunner = "serial"\n')
    s = command_settings(environ={}, start=str(tmp_path))
    assert s.source("runner") == f"file {tmp_path / 'pyproject.toml'}" and s.config.found_by.startswith("[tool.mapfold]")
    other = tmp_path / "elsewhere.toml"
    other.write_text('runner = "processes"\n')
    s = command_settings(environ={"MAPFOLD_CONFIG": str(other)}, start=str(tmp_path))
    assert s.value("runner") == "processes" and s.config.found_by == "environment MAPFOLD_CONFIG"
    assert command_settings(config=str(other), environ={}, start=str(tmp_path)).config.found_by == "-c/--config"


def test_a_secret_written_in_the_file_is_refused(tmp_path):
    (tmp_path / "mapfold.toml").write_text('[storage_options.s3]\nkey = "AKIA..."\n')
    with pytest.raises(ConfigError, match=r'secret written in the configuration file.*key storage_options.s3.key'):
        command_settings(environ={}, start=str(tmp_path))


def test_options_a_runner_does_not_take_name_their_source(project, tmp_path):
    # the laptop profile's workers = 2 is for its processes runner: -r serial over it leaves it out
    runner, chosen = build_runner(command_settings("serial", environ={}, start=str(project)))
    assert runner.name == "serial" and chosen.source == "command line"
    runner.close()
    with pytest.raises(ConfigError, match=r"serial runner takes no option 'workers' \(from command line\)"):
        build_runner(command_settings("serial", ["workers=2"], environ={}, start=str(project)))
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / "mapfold.toml").write_text('runner = "serial"\nworkers = 2\n')  # the file's own runner
    with pytest.raises(ConfigError, match=r"serial runner takes no option 'workers' \(from file "):
        build_runner(command_settings(environ={}, start=str(tmp_path / "own")))
    runner, chosen = build_runner(command_settings("processes", environ={}, start=str(project)))
    try:
        assert runner.workers == 2 and runner.memory_limit == 256_000_000
    finally:
        runner.close()


def test_config_show_command(project):
    done = mapfold_cli("config", "show", "--profile", "laptop", "--runner-option", "workers=3", cwd=project,
                       env=environment())
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"config file: {project / 'mapfold.toml'} (found by mapfold.toml in {project})"
    assert "profiles: cluster, laptop" in lines
    assert "profile: laptop (from command line --profile)" in lines
    assert "workers = 3  (from command line)" in lines
    assert f"memory_limit = 256MB  (from file {project / 'mapfold.toml'})" in lines
