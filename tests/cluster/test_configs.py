"""The supervisord and HAProxy configurations, read by the tools themselves."""

import subprocess
from pathlib import Path

import pytest
from supervisor.options import ServerOptions

from bot.cli.supervise import config_path, supervisor_env
from bot.core.settings import Settings
from tests.cluster.support import HAPROXY_CFG, haproxy_binary

EMBEDDED = {"rasa", "actions", "outbox", "indexer", "web", "staff"}
CLUSTER = {
    "rasa-1",
    "rasa-2",
    "actions-1",
    "actions-2",
    "haproxy",
    "outbox",
    "indexer",
    "web",
    "staff",
}


def programs(profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """supervisord's own reading of a profile's configuration: process configs by name."""
    settings = Settings(run_dir=str(tmp_path), rasa_port=6100, action_server_port=6155)
    for name in ("log", "run"):
        (tmp_path / name).mkdir()
    for key, value in supervisor_env(profile, settings, {}).items():
        monkeypatch.setenv(key, value)
    options = ServerOptions()
    options.realize(args=["-c", str(config_path(profile))])
    return {p.name: p for group in options.process_group_configs for p in group.process_configs}


@pytest.mark.parametrize(("profile", "expected"), [("embedded", EMBEDDED), ("cluster", CLUSTER)])
def test_every_program_restarts_and_stops_with_its_children(
    profile: str, expected: set[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = programs(profile, tmp_path, monkeypatch)
    assert set(found) == expected
    for config in found.values():
        assert config.autorestart is not False and config.startretries >= 5
        assert config.stopasgroup and config.killasgroup
        assert config.stdout_logfile == str(tmp_path / "log" / f"{config.name}.log")
        assert ".env" not in " ".join([config.command, *config.environment.values()])


def test_cluster_replicas_get_their_own_ports_and_call_actions_through_haproxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = programs("cluster", tmp_path, monkeypatch)
    rasa = [found[f"rasa-{n}"].environment for n in (1, 2)]
    assert [env["RASA_PORT"] for env in rasa] == ["5011", "5012"]
    assert all(env["RASA_WORKERS"] == "1" for env in rasa)
    assert {env["ACTION_SERVER_URL"] for env in rasa} == {"http://127.0.0.1:6155/webhook"}
    actions = [found[f"actions-{n}"].environment["ACTION_SERVER_PORT"] for n in (1, 2)]
    assert actions == ["5061", "5062"]
    assert found["haproxy"].command.endswith(
        f"-db -f {config_path('cluster').parent}/../haproxy/haproxy.cfg"
    )


def test_environment_overrides_the_replica_ports() -> None:
    env = supervisor_env("cluster", Settings(), {"RASA_REPLICA_1_PORT": "7001"})
    assert env["RASA_REPLICA_1_PORT"] == "7001" and env["RASA_REPLICA_2_PORT"] == "5012"


def test_haproxy_accepts_the_repository_configuration(tmp_path: Path) -> None:
    env = supervisor_env("cluster", Settings(run_dir=str(tmp_path)), {"PATH": "/usr/bin:/bin"})
    (tmp_path / "run").mkdir()
    result = subprocess.run(
        [haproxy_binary(), "-c", "-f", str(HAPROXY_CFG)], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
