"""Commands that build the NLP pipeline and start the servers."""

import os
import sys
from argparse import Namespace
from pathlib import Path

from bot.core.paths import ROOT
from bot.core.settings import get_settings

RASA = str(Path(sys.executable).with_name("rasa"))


def build_nlp(_: Namespace) -> int:
    """Build the project's spaCy pipeline from the pattern files under data/."""
    from bot.intake.nlp import write_pipeline

    print(f"spaCy pipeline written to {write_pipeline()}")
    return 0


def build_encoder(_: Namespace) -> int:
    """Build the sentence encoder's ONNX graph from the installed model package's weights."""
    from bot.intake.encoder_graph import write_graph
    from bot.intake.sentence_encoder import package_archive

    print(f"sentence encoder graph written to {write_graph(package_archive())}")
    return 0


def channel_credentials() -> str:
    """Write the credentials file for this run, dropping REST when it is switched off."""
    from ruamel.yaml import YAML

    yaml = YAML()
    credentials = yaml.load((ROOT / "credentials.yml").read_text()) or {}
    if not get_settings().rest_channel_enabled:
        credentials.pop("rest", None)
    run_dir = Path(get_settings().run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / f"credentials-{get_settings().rasa_port}.yml"
    with target.open("w") as handle:
        yaml.dump(dict(credentials), handle)
    return str(target)


def endpoints_file() -> str:
    """RASA_ENDPOINTS as a path (endpoints.yml, or endpoints.cluster.yml in production)."""
    return str(ROOT / get_settings().rasa_endpoints)


def register_telegram_webhook() -> None:
    """Point Telegram at TELEGRAM_WEBHOOK_URL once, before Rasa's workers start (never fatal)."""
    from bot.rasa.channels import telegram_admin as admin
    from bot.rasa.channels.telegram_config import TelegramConfig

    config = TelegramConfig.load()
    if not (config.token and config.webhook_url) or config.problem():
        return
    try:
        code = admin.run(config, admin.set_webhook(config, config.webhook_url, False))
    except Exception as error:  # the server must start even if Telegram is away
        print(f"warning: {type(error).__name__}", file=sys.stderr)
        code = 1
    if code:
        print(
            "warning: Telegram webhook not registered; the channel still listens", file=sys.stderr
        )


def run_rasa(_: Namespace) -> int:
    """Start the Rasa server: channels, the token-protected HTTP API, the SQL tracker store."""
    settings = get_settings()
    os.environ["ACTION_SERVER_URL"] = settings.actions_url
    os.environ["LOG_LEVEL"] = settings.log_level
    # One TensorFlow thread per server process: thread pools that spin while waiting for a core
    # cost more CPU than they save on one short message (measured: a third of the CPU per message).
    # The same holds for NumPy's BLAS, which runs the answer model's sentence encoder.
    for name in (
        "TF_INTRA_OP_PARALLELISM_THREADS",
        "TF_INTER_OP_PARALLELISM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
    ):
        os.environ.setdefault(name, "1")
    os.environ["SANIC_WORKERS"] = str(settings.rasa_workers)  # locks: bot.rasa.runtime.lock_store
    args = [
        "rasa",
        "run",
        "--enable-api",
        "--auth-token",
        settings.rasa_api_token,
        "--port",
        str(settings.rasa_port),
        "--cors",
        settings.rasa_cors,
        "--model",
        settings.model_path,
        "--endpoints",
        endpoints_file(),
        "--credentials",
        channel_credentials(),
        "--log-file",
        str(Path(settings.run_dir) / f"rasa-{settings.rasa_port}.log"),
    ]
    os.chdir(ROOT)
    register_telegram_webhook()  # here, once: every Rasa worker would otherwise do it again
    from rasa.__main__ import main as rasa_main

    from bot.rasa import runtime

    runtime.install()
    sys.argv = args
    rasa_main()
    return 0


def addresses(args: Namespace | None) -> int:
    """Print where the servers of a profile listen and how to talk to the bot."""
    from bot.cli.supervise import addresses_text, supervisor_env

    profile = getattr(args, "profile", None) or "embedded"
    settings = get_settings()
    print(addresses_text(profile, settings, supervisor_env(profile, settings, os.environ)))
    return 0


def run_shell(_: Namespace) -> int:
    """Chat with the bot in the terminal (`rasa shell`, using the running action server)."""
    settings = get_settings()
    os.environ["ACTION_SERVER_URL"] = settings.actions_url
    os.chdir(ROOT)
    from rasa.__main__ import main as rasa_main

    sys.argv = [
        "rasa",
        "shell",
        "--model",
        settings.model_path,
        "--endpoints",
        endpoints_file(),
        "--port",
        str(settings.rasa_port + 1),
    ]
    rasa_main()
    return 0


def run_actions(_: Namespace) -> int:
    """Start the rasa-sdk action server."""
    settings = get_settings()
    os.environ["LOG_LEVEL"] = settings.log_level
    args = [
        RASA,
        "run",
        "actions",
        "--actions",
        "actions",
        "--port",
        str(settings.action_server_port),
    ]
    os.chdir(ROOT)
    os.execv(args[0], args)


def run_web(args: Namespace) -> int:
    """Serve the demo site with the chat widget (WEB_PORT, default 8080)."""
    from bot.web.app import run_web as serve

    return serve(args)


def run_staff(args: Namespace) -> int:
    """Serve the staff app: transcripts, leads, bookings (STAFF_PORT, default 8081)."""
    from bot.staff.app import run_staff as serve

    return serve(args)
