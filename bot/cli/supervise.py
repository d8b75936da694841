"""`python -m bot supervise PROFILE`: every process of a profile under supervisord.

supervisord runs in the foreground (`-n`) with `deploy/supervisord/PROFILE.conf`. It restarts a
process that exits while the others keep serving, and Ctrl-C stops them all. Nothing here reads
`.env`: each program reads its own settings (environment first, then `.env`), so a variable set in
the environment reaches every program unchanged.
"""

import argparse
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

from bot.cli.config import without_password
from bot.core.paths import ROOT
from bot.core.settings import Settings, get_settings

PROFILES = ("embedded", "cluster")
CONFIGS = ROOT / "deploy" / "supervisord"
# The production profile's replicas and HAProxy's stats page on one host (environment only).
CLUSTER_PORTS = {
    "RASA_REPLICA_1_PORT": "5011",
    "RASA_REPLICA_2_PORT": "5012",
    "ACTIONS_REPLICA_1_PORT": "5061",
    "ACTIONS_REPLICA_2_PORT": "5062",
    "HAPROXY_STATS_PORT": "8404",
}


def run_dir(settings: Settings) -> Path:
    """RUN_DIR as an absolute path (relative values are taken from the repository root)."""
    return (ROOT / settings.run_dir).resolve()


def supervisor_env(profile: str, settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment supervisord runs with: the caller's, plus what its config expands."""
    env = dict(environ)
    env["RUN_DIR"] = str(run_dir(settings))
    env["PILOTROCK_PYTHON"] = sys.executable
    if profile == "cluster":
        env["RASA_PORT"] = str(settings.rasa_port)  # HAProxy's frontends
        env["ACTION_SERVER_PORT"] = str(settings.action_server_port)
        env["RASA_API_TOKEN"] = settings.rasa_api_token  # HAProxy's readiness check
        env.setdefault("HAPROXY_BIN", shutil.which("haproxy") or "/usr/sbin/haproxy")
        for name, port in CLUSTER_PORTS.items():
            env.setdefault(name, port)
    return env


def config_path(profile: str) -> Path:
    """The supervisord configuration of a profile."""
    return CONFIGS / f"{profile}.conf"


def tool(name: str) -> str:
    """A console script installed beside this Python (supervisord, supervisorctl)."""
    return str(Path(sys.executable).with_name(name))


def prepare_dirs(settings: Settings) -> None:
    """Create RUN_DIR/log and RUN_DIR/run (logs; sockets and pid files)."""
    for name in ("log", "run"):
        (run_dir(settings) / name).mkdir(parents=True, exist_ok=True)


def supervise(args: argparse.Namespace) -> int:
    """Start every process of the profile under supervisord in the foreground (Ctrl-C stops)."""
    settings = get_settings()
    env = supervisor_env(args.profile, settings, os.environ)
    prepare_dirs(settings)
    print(addresses_text(args.profile, settings, env), flush=True)
    command = [tool("supervisord"), "-n", "-c", str(config_path(args.profile))]
    os.execve(command[0], command, env)


def supervisorctl(args: argparse.Namespace) -> int:
    """Run supervisorctl against a running profile (status, restart NAME, pid NAME...)."""
    env = supervisor_env(args.profile, get_settings(), os.environ)
    command = [tool("supervisorctl"), "-c", str(config_path(args.profile)), *args.arguments]
    os.execve(command[0], command, env)


def addresses_text(profile: str, settings: Settings, env: Mapping[str, str]) -> str:
    """Where every process of the profile listens, with its health URL."""
    lines = [""]
    rasa = f"http://localhost:{settings.rasa_port}"
    actions = f"http://localhost:{settings.action_server_port}"
    if profile == "cluster":
        lines += cluster_lines(settings, env)
    else:
        lines += [
            f"  Rasa server:    {rasa}  (REST: POST /webhooks/rest/webhook)",
            f"                  health {rasa}/  ({settings.rasa_workers} Sanic workers)",
            f"  Action server:  {actions}  (health {actions}/health)",
        ]
    lines += common_lines(settings)
    lines += [f"  Logs:           {run_dir(settings) / 'log'}", ""]
    return "\n".join(lines)


def cluster_lines(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """The HAProxy frontends, each replica and the stats page."""
    rasa = f"http://localhost:{settings.rasa_port}"
    actions = f"http://localhost:{settings.action_server_port}"
    stats = f"http://localhost:{env.get('HAPROXY_STATS_PORT', CLUSTER_PORTS['HAPROXY_STATS_PORT'])}"
    replicas = [env.get(name, CLUSTER_PORTS[name]) for name in CLUSTER_PORTS]
    return [
        f"  Rasa (HAProxy): {rasa}  (REST: POST /webhooks/rest/webhook)",
        f"    replicas:     http://localhost:{replicas[0]}/  http://localhost:{replicas[1]}/"
        "  (health GET /)",
        f"  Actions (HAProxy): {actions}/webhook",
        f"    replicas:     http://localhost:{replicas[2]}/health"
        f"  http://localhost:{replicas[3]}/health",
        f"  HAProxy stats:  {stats}/stats  (admin socket {run_dir(settings) / 'run/haproxy.sock'})",
        f"  Database:       {without_password(settings.database_url)}",
    ]


def common_lines(settings: Settings) -> list[str]:
    """The HTTP API, the web and staff apps and the workers' health endpoints."""
    rasa = f"http://localhost:{settings.rasa_port}"
    web = f"http://localhost:{settings.web_port}"
    staff = f"http://localhost:{settings.staff_port}"
    return [
        f"  HTTP API:       {rasa}/status?token=<RASA_API_TOKEN>",
        f"  Demo site:      {web}  (company page with the chat widget; health {web}/health)",
        f"  Staff app:      {staff}  (first admin: see README.md, Staff app; health "
        f"{staff}/health)",
        f"  Outbox worker:  health http://localhost:{settings.outbox_health_port}/health",
        f"  Index consumer: health http://localhost:{settings.indexer_health_port}/health",
        "  Talk to it:     make shell   (in another terminal), or see README.md",
    ]


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register `supervise PROFILE` and `supervisorctl PROFILE ARGS...`."""
    run = sub.add_parser("supervise", help=supervise.__doc__)
    run.add_argument("profile", choices=PROFILES)
    run.set_defaults(func=supervise)
    ctl = sub.add_parser("supervisorctl", help=supervisorctl.__doc__)
    ctl.add_argument("profile", choices=PROFILES)
    ctl.add_argument("arguments", nargs=argparse.REMAINDER)
    ctl.set_defaults(func=supervisorctl)
    if "addresses" in sub.choices:
        sub.choices["addresses"].add_argument("--profile", choices=PROFILES, default="embedded")
